import { useState } from "preact/hooks";
import { ApiError, call, fieldError, type CatalogueEntry, type TestResult, type WebhookConfig, type WebhookSecret } from "./api.ts";
import type { MessageKey } from "./i18n.ts";
import { CredentialFields, credentialForm, credentialValue, OptionFields, optionTexts, optionValues } from "./options.tsx";
import { Confirm, Field, Notice, Page, useAccess, useEventTypes, useLoad, useWords } from "./ui.tsx";

/** How long the replaced secret may keep signing beside the new one (the API's `graceSeconds`). */
const GRACE_PERIODS = [
  ["0", "account.graceNone"],
  ["3600", "account.graceHour"],
  ["86400", "account.graceDay"],
  ["604800", "account.graceWeek"],
] as const satisfies readonly (readonly [string, MessageKey])[];

/** The API masks a secret it has shown before as `whsec_ab...xy`. */
const isMasked = (secret: string) => secret.includes("...");

/** The account webhook: its URL and events, its signing secret (shown once), a test, its state. */
export function AccountPage() {
  const { t, when } = useWords();
  const { readOnly } = useAccess();
  const config = useLoad(async () => {
    try {
      return (await call<WebhookConfig>("GET", "webhooks/config")).body;
    } catch (error) {
      // No configuration yet: the form creates it.
      if (error instanceof ApiError && error.problem.status === 404) return null;
      throw error;
    }
  }, []);
  const catalogue = useEventTypes(!readOnly);
  const [secret, setSecret] = useState<{ readonly value: string; readonly previousValidUntil?: string } | undefined>();
  const [grace, setGrace] = useState("0");
  const [tested, setTested] = useState<TestResult | undefined>();
  const [regenerating, setRegenerating] = useState(false);
  const [message, setMessage] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();

  const act = async (action: () => Promise<void>) => {
    setError(undefined);
    setMessage(undefined);
    try {
      await action();
    } catch (failure) {
      setError(failure);
    }
  };
  const regenerate = () =>
    act(async () => {
      setRegenerating(false);
      const query = grace === "0" ? "" : `?graceSeconds=${grace}`;
      const { body } = await call<WebhookSecret>("POST", `webhooks/secret/regenerate${query}`);
      setSecret({ value: body.webhookSecret, ...(body.previousSecretValidUntil ? { previousValidUntil: body.previousSecretValidUntil } : {}) });
      config.reload();
    });
  const test = () =>
    act(async () => {
      setTested((await call<TestResult>("POST", "webhooks/test")).body);
    });
  const enable = () =>
    act(async () => {
      await call("POST", "webhooks/config/enable");
      setMessage(t("account.enabled"));
      config.reload();
    });

  const current = config.value;
  return (
    <Page title={t("account.title")}>
      <Notice message={message} error={error ?? config.error} />
      {secret ? (
        <div class="card secret" role="status">
          <p>{t("account.secretOnce")}</p>
          <code>{secret.value}</code>
          {secret.previousValidUntil ? <p>{t("account.previousUntil", { when: when(secret.previousValidUntil) })}</p> : null}
        </div>
      ) : null}
      {current ? (
        <dl>
          <dt>{t("account.secret")}</dt>
          <dd>
            <code>{current.webhookSecret}</code>
          </dd>
          <dt>{t("account.state")}</dt>
          <dd>
            {current.status ? (
              <span class={`status status-${current.status.state}`}>
                {t(`endpoint.${current.status.state}`)}
                {current.status.since ? ` (${t("subs.since", { when: when(current.status.since) })})` : ""}
                {current.status.reason ? `: ${current.status.reason}` : ""}
              </span>
            ) : null}
          </dd>
        </dl>
      ) : null}
      {config.loading && config.value === undefined ? <p>{t("common.loading")}</p> : null}
      {readOnly && config.value === null ? <p>{t("common.empty")}</p> : null}
      {!readOnly && config.value !== undefined && catalogue.value ? (
        <ConfigForm
          key={current?.webhookUrl ?? "new"}
          config={config.value}
          eventTypes={catalogue.value}
          onSaved={(saved) => {
            // The answer that creates the configuration shows the secret in full, if no earlier answer did.
            if (!isMasked(saved.webhookSecret)) setSecret({ value: saved.webhookSecret });
            setMessage(t("account.saved"));
            config.reload();
          }}
        />
      ) : null}
      {current && !readOnly ? (
        <div class="actions">
          <button type="button" onClick={() => void test()}>
            {t("account.test")}
          </button>
          <button type="button" class="danger" onClick={() => setRegenerating(true)}>
            {t("account.regenerate")}
          </button>
          {current.status?.state === "disabled" ? (
            <button type="button" onClick={() => void enable()}>
              {t("account.enable")}
            </button>
          ) : null}
        </div>
      ) : null}
      {regenerating ? (
        <div class="card">
          <Field
            id="grace"
            label={t("account.grace")}
            error={undefined}
            control={(control) => (
              <select {...control} value={grace} onChange={(event) => setGrace(event.currentTarget.value)}>
                {GRACE_PERIODS.map(([seconds, key]) => (
                  <option key={seconds} value={seconds}>
                    {t(key)}
                  </option>
                ))}
              </select>
            )}
          />
          <Confirm question={t("account.confirmRegenerate")} confirm={t("account.regenerate")} onConfirm={() => void regenerate()} onCancel={() => setRegenerating(false)} />
        </div>
      ) : null}
      {tested ? (
        <div class="card" role="status">
          <p>{tested.success ? t("account.testOk", { status: tested.statusCode ?? "—" }) : t("account.testFailed", { status: tested.statusCode ?? "—" })}</p>
          {tested.body ? <pre>{tested.body}</pre> : null}
        </div>
      ) : null}
    </Page>
  );
}

interface FormProps {
  readonly config: WebhookConfig | null;
  readonly eventTypes: readonly CatalogueEntry[];
  readonly onSaved: (config: WebhookConfig) => void;
}

/** Creates the configuration (the first PATCH needs the URL) or changes its URL and events. */
function ConfigForm({ config, eventTypes, onSaved }: FormProps) {
  const { t } = useWords();
  const [webhookUrl, setWebhookUrl] = useState(config?.webhookUrl ?? "");
  const [events, setEvents] = useState<readonly string[]>(config?.events ?? []);
  const current = config ? { rate: config.maxPerSecond, cnpjs: config.cnpjs } : undefined;
  const [options, setOptions] = useState(optionTexts(current));
  const hasCredential = config?.authentication !== undefined;
  const [credential, setCredential] = useState(credentialForm(hasCredential));
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const { rate, cnpjs } = optionValues(options, current);
      const { body } = await call<WebhookConfig>("PATCH", "webhooks/config", {
        webhookUrl,
        events,
        maxPerSecond: rate,
        cnpjs,
        authentication: credentialValue(credential, hasCredential, "account"),
      });
      setError(undefined);
      onSaved(body);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const urlError = fieldError(error, "webhookUrl");
  const eventsError = fieldError(error, "events");
  const optionErrors = { rate: fieldError(error, "maxPerSecond"), cnpjs: fieldError(error, "cnpjs") };
  const credentialError = fieldError(error, "authentication");
  return (
    <form class="card" onSubmit={(event) => void submit(event)} aria-labelledby="config-title" noValidate>
      <h2 id="config-title">{config ? t("account.change") : t("account.create")}</h2>
      <Notice error={[urlError, eventsError, optionErrors.rate, optionErrors.cnpjs, credentialError].some(Boolean) ? undefined : error} />
      <Field
        id="config-url"
        label={t("account.url")}
        error={urlError}
        control={(control) => <input {...control} type="url" value={webhookUrl} onInput={(event) => setWebhookUrl(event.currentTarget.value)} />}
      />
      <fieldset aria-invalid={eventsError ? "true" : undefined} aria-describedby={eventsError ? "config-events-error" : undefined}>
        <legend>{t("account.events")}</legend>
        {eventTypes.map((entry) => (
          <label key={entry.type} class="check">
            <input
              type="checkbox"
              checked={events.includes(entry.type)}
              onChange={(event) =>
                setEvents(event.currentTarget.checked ? [...events, entry.type] : events.filter((type) => type !== entry.type))
              }
            />{" "}
            {entry.type}
          </label>
        ))}
      </fieldset>
      {eventsError ? (
        <p class="field-error" id="config-events-error">
          {eventsError}
        </p>
      ) : null}
      <OptionFields prefix="config" texts={options} onChange={setOptions} errors={optionErrors} />
      <CredentialFields prefix="config" form={credential} hasCurrent={hasCredential} onChange={setCredential} error={credentialError} />
      <div class="actions">
        <button type="submit" disabled={busy}>
          {t("subs.save")}
        </button>
      </div>
    </form>
  );
}
