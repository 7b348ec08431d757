import type { MessageKey } from "./i18n.ts";
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

/** The receiver credential as the form holds it; `keep` leaves the stored one as it is. */
export interface CredentialForm {
  readonly kind: "keep" | "none" | "basic" | "bearer" | "header";
  readonly user: string;
  readonly name: string;
  readonly secret: string;
}

export const credentialForm = (hasCurrent: boolean): CredentialForm => ({ kind: hasCurrent ? "keep" : "none", user: "", name: "", secret: "" });

/** Each API's names for the credential's members (the Portal's Portuguese, the account's English). */
const CREDENTIAL_NAMES = {
  portal: { type: "tipo", basic: "basic", bearer: "bearer", header: "cabecalho", user: "usuario", password: "senha", token: "token", name: "nome", value: "valor" },
  account: { type: "type", basic: "basic", bearer: "bearer", header: "header", user: "username", password: "password", token: "token", name: "name", value: "value" },
} as const;

/** Absent to keep the stored credential (or to set none), `null` to remove it, else the new one. */
export function credentialValue(form: CredentialForm, hasCurrent: boolean, api: keyof typeof CREDENTIAL_NAMES): Record<string, string> | null | undefined {
  const names = CREDENTIAL_NAMES[api];
  switch (form.kind) {
    case "keep":
      return undefined;
    case "none":
      return hasCurrent ? null : undefined;
    case "basic":
      return { [names.type]: names.basic, [names.user]: form.user, [names.password]: form.secret };
    case "bearer":
      return { [names.type]: names.bearer, [names.token]: form.secret };
    case "header":
      return { [names.type]: names.header, [names.name]: form.name, [names.value]: form.secret };
  }
}

const CREDENTIAL_KINDS = [
  ["keep", "credential.keep"],
  ["none", "credential.none"],
  ["basic", "credential.basic"],
  ["bearer", "credential.bearer"],
  ["header", "credential.header"],
] as const satisfies readonly (readonly [CredentialForm["kind"], MessageKey])[];

export function CredentialFields(props: {
  readonly prefix: string;
  readonly form: CredentialForm;
  readonly hasCurrent: boolean;
  readonly onChange: (form: CredentialForm) => void;
  /** The API's message about the credential (its problems name `autenticacao/…` or `authentication/…`). */
  readonly error: string | undefined;
}) {
  const { t } = useWords();
  const { form, onChange } = props;
  const text = (key: "user" | "name" | "secret", label: MessageKey, secret = false) => (
    <Field
      id={`${props.prefix}-credential-${key}`}
      label={t(label)}
      error={undefined}
      control={(control) => {
        const onInput = (event: { readonly currentTarget: HTMLInputElement }) => onChange({ ...form, [key]: event.currentTarget.value });
        return secret ? (
          <input {...control} type="password" autocomplete="off" value={form[key]} onInput={onInput} />
        ) : (
          <input {...control} type="text" autocomplete="off" value={form[key]} onInput={onInput} />
        );
      }}
    />
  );
  return (
    <>
      <Field
        id={`${props.prefix}-credential`}
        label={t("credential.label")}
        error={props.error}
        control={(control) => (
          <select {...control} value={form.kind} onChange={(event) => onChange({ ...form, kind: event.currentTarget.value as CredentialForm["kind"] })}>
            {CREDENTIAL_KINDS.filter(([kind]) => kind !== "keep" || props.hasCurrent).map(([kind, label]) => (
              <option key={kind} value={kind}>
                {t(label)}
              </option>
            ))}
          </select>
        )}
      />
      {form.kind === "basic" ? (
        <>
          {text("user", "credential.user")}
          {text("secret", "credential.password", true)}
        </>
      ) : null}
      {form.kind === "bearer" ? text("secret", "credential.token", true) : null}
      {form.kind === "header" ? (
        <>
          {text("name", "credential.name")}
          {text("secret", "credential.value", true)}
        </>
      ) : null}
    </>
  );
}
