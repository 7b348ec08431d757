import { Field, useWords } from "./ui.tsx";

/**
 * An endpoint's options, as the Portal subscription (`maxPorSegundo`, `cnpjs`) and the account
 * webhook (`maxPerSecond`, `cnpjs`) take them: typed as text, sent as the API reads them.
 */
export interface OptionTexts {
  readonly rate: string;
  readonly cnpjs: string;
}

export function optionTexts(current: { readonly rate?: number | undefined; readonly cnpjs?: readonly string[] | undefined } | undefined): OptionTexts {
  return { rate: current?.rate?.toString() ?? "", cnpjs: current?.cnpjs?.join("\n") ?? "" };
}

/**
 * What the form says of each option: absent when empty and never set (a client of the original
 * documents never sends it), `null` when emptied (the API removes it), else the value. A rate
 * that is not a whole number goes as typed, for the API to name the field.
 */
export function optionValues(texts: OptionTexts, current: { readonly rate?: number | undefined; readonly cnpjs?: readonly string[] | undefined } | undefined) {
  const value = <T,>(text: string, wasSet: boolean, parse: (text: string) => T): T | null | undefined => {
    if (text.trim() !== "") return parse(text.trim());
    return wasSet ? null : undefined;
  };
  return {
    rate: value(texts.rate, current?.rate !== undefined, (text) => (/^\d+$/.test(text) ? Number(text) : text)),
    cnpjs: value(texts.cnpjs, current?.cnpjs !== undefined, (text) => text.split(/[\s,;]+/).filter((entry) => entry !== "")),
  };
}

export function OptionFields(props: {
  readonly prefix: string;
  readonly texts: OptionTexts;
  readonly onChange: (texts: OptionTexts) => void;
  readonly errors: { readonly rate: string | undefined; readonly cnpjs: string | undefined };
}) {
  const { t } = useWords();
  const { texts, onChange } = props;
  return (
    <>
      <Field
        id={`${props.prefix}-rate`}
        label={t("subs.rateField")}
        hint={t("subs.rateHint")}
        error={props.errors.rate}
        control={(control) => <input {...control} inputMode="numeric" value={texts.rate} onInput={(event) => onChange({ ...texts, rate: event.currentTarget.value })} />}
      />
      <Field
        id={`${props.prefix}-cnpjs`}
        label={t("subs.cnpjsField")}
        hint={t("subs.cnpjsHint")}
        error={props.errors.cnpjs}
        control={(control) => <textarea {...control} rows={3} value={texts.cnpjs} onInput={(event) => onChange({ ...texts, cnpjs: event.currentTarget.value })} />}
      />
    </>
  );
}
