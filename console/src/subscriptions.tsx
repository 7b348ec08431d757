import { useState } from "preact/hooks";
import { call, fieldError, type CatalogueEntry, type Subscription } from "./api.ts";
import { CredentialFields, credentialForm, credentialValue, OptionFields, optionTexts, optionValues } from "./options.tsx";
import { Confirm, Field, Listing, Notice, Page, useAccess, useEventTypes, useLoad, useWords } from "./ui.tsx";

const PORTAL = "portal/api/ext/webhook";

/** Portal Único subscriptions: list, subscribe, change, delete; the API's field errors at the field. */
export function SubscriptionsPage() {
  const { t, when } = useWords();
  const { readOnly } = useAccess();
  const list = useLoad(async () => (await call<Subscription[]>("GET", PORTAL)).body, []);
  const catalogue = useEventTypes(!readOnly);
  const [editing, setEditing] = useState<Subscription | undefined>();
  const [deleting, setDeleting] = useState<number | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();

  const saved = (text: string) => {
    setMessage(text);
    setError(undefined);
    setEditing(undefined);
    list.reload();
  };
  const remove = async (id: number) => {
    setDeleting(undefined);
    try {
      await call("DELETE", `${PORTAL}/${id}`);
      saved(t("subs.deleted", { id }));
    } catch (failure) {
      setError(failure);
    }
  };

  // The Portal API enables a disabled endpoint again with a PUT of its subscription, unchanged.
  const enable = async ({ id, evento, endpoint }: Subscription) => {
    try {
      await call("PUT", `${PORTAL}/${id}`, { id, evento, endpoint });
      saved(t("subs.enabled", { id }));
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <Page title={t("subs.title")}>
      <Notice message={message} error={error ?? list.error} />
      {readOnly ? null : (
        <SubscriptionForm
          key={editing?.id ?? "new"}
          subscription={editing}
          eventTypes={catalogue.value ?? []}
          onSaved={(subscription, created) => saved(t(created ? "subs.created" : "subs.saved", { id: subscription.id }))}
          onCancel={() => setEditing(undefined)}
        />
      )}
      <Listing
        load={list}
        rows={list.value}
        columns={["subs.id", "subs.event", "subs.endpoint", "subs.state", "subs.options", readOnly ? null : "common.actions"]}
        row={(subscription) => (
          <tr key={subscription.id}>
            <td>{subscription.id}</td>
            <td>{subscription.evento}</td>
            <td class="url">{subscription.endpoint}</td>
            <td>
              <span class={`state state-${subscription.situacao.codigo}`}>
                {t(`state.${subscription.situacao.codigo}`)}
                {subscription.situacao.desde ? ` (${t("subs.since", { when: when(subscription.situacao.desde) })})` : ""}
                {subscription.situacao.motivo ? `: ${subscription.situacao.motivo}` : ""}
              </span>
            </td>
            <td>{options(subscription, t)}</td>
            {readOnly ? null : (
              <td>
                {deleting === subscription.id ? (
                  <Confirm
                    question={t("subs.confirmDelete", { id: subscription.id })}
                    confirm={t("subs.confirm")}
                    onConfirm={() => void remove(subscription.id)}
                    onCancel={() => setDeleting(undefined)}
                  />
                ) : (
                  <>
                    <button type="button" onClick={() => setEditing(subscription)} aria-label={`${t("subs.editAction")} ${subscription.id}`}>
                      {t("subs.editAction")}
                    </button>{" "}
                    <button type="button" onClick={() => setDeleting(subscription.id)} aria-label={`${t("subs.deleteAction")} ${subscription.id}`}>
                      {t("subs.deleteAction")}
                    </button>
                    {subscription.situacao.codigo === "desativada" ? (
                      <>
                        {" "}
                        <button type="button" onClick={() => void enable(subscription)} aria-label={`${t("subs.enableAction")} ${subscription.id}`}>
                          {t("subs.enableAction")}
                        </button>
                      </>
                    ) : null}
                  </>
                )}
              </td>
            )}
          </tr>
        )}
      />
    </Page>
  );
}

/** The options set through the API (rate limit, CNPJ scope, receiver credential); a change here keeps them. */
function options(subscription: Subscription, t: ReturnType<typeof useWords>["t"]): string {
  return [
    subscription.maxPorSegundo === undefined ? undefined : t("subs.rate", { n: subscription.maxPorSegundo }),
    subscription.cnpjs ? t("subs.cnpjs", { list: subscription.cnpjs.join(", ") }) : undefined,
    subscription.autenticacao ? t("subs.auth", { type: subscription.autenticacao.tipo }) : undefined,
  ]
    .filter((option) => option !== undefined)
    .join(" · ");
}

interface FormProps {
  readonly subscription: Subscription | undefined;
  readonly eventTypes: readonly CatalogueEntry[];
  readonly onSaved: (subscription: Subscription, created: boolean) => void;
  readonly onCancel: () => void;
}

/** Subscribe, or change one subscription (a PUT keeps the options it does not send). */
function SubscriptionForm({ subscription, eventTypes, onSaved, onCancel }: FormProps) {
  const { t } = useWords();
  const [evento, setEvento] = useState(subscription?.evento ?? "");
  const [endpoint, setEndpoint] = useState(subscription?.endpoint ?? "");
  const current = subscription && { rate: subscription.maxPorSegundo, cnpjs: subscription.cnpjs };
  const [options, setOptions] = useState(optionTexts(current));
  const hasCredential = subscription?.autenticacao !== undefined;
  const [credential, setCredential] = useState(credentialForm(hasCredential));
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const { rate, cnpjs } = optionValues(options, current);
    const body = { evento, endpoint, maxPorSegundo: rate, cnpjs, autenticacao: credentialValue(credential, hasCredential, "portal") };
    try {
      const answer = subscription
        ? await call<Subscription>("PUT", `${PORTAL}/${subscription.id}`, { id: subscription.id, ...body })
        : await call<Subscription>("POST", PORTAL, body);
      setError(undefined);
      onSaved(answer.body, !subscription);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const errors = {
    evento: fieldError(error, "evento"),
    endpoint: fieldError(error, "endpoint"),
    maxPorSegundo: fieldError(error, "maxPorSegundo"),
    cnpjs: fieldError(error, "cnpjs"),
    autenticacao: fieldError(error, "autenticacao"),
  };
  const prefix = subscription ? `edit-${subscription.id}` : "new";
  return (
    <form class="card" onSubmit={(event) => void submit(event)} aria-labelledby={`${prefix}-title`} noValidate>
      <h2 id={`${prefix}-title`}>{subscription ? t("subs.edit", { id: subscription.id }) : t("subs.new")}</h2>
      <Notice error={Object.values(errors).some(Boolean) ? undefined : error} />
      <Field
        id={`${prefix}-evento`}
        label={t("subs.event")}
        error={errors.evento}
        control={(control) => (
          <select {...control} value={evento} onChange={(event) => setEvento(event.currentTarget.value)}>
            <option value="">—</option>
            {eventTypes.map((entry) => (
              <option key={entry.type} value={entry.type}>
                {entry.type}
              </option>
            ))}
          </select>
        )}
      />
      <Field
        id={`${prefix}-endpoint`}
        label={t("subs.endpoint")}
        error={errors.endpoint}
        control={(control) => <input {...control} type="url" value={endpoint} onInput={(event) => setEndpoint(event.currentTarget.value)} />}
      />
      <OptionFields prefix={prefix} texts={options} onChange={setOptions} errors={{ rate: errors.maxPorSegundo, cnpjs: errors.cnpjs }} />
      <CredentialFields prefix={prefix} form={credential} hasCurrent={hasCredential} onChange={setCredential} error={errors.autenticacao} />
      <div class="actions">
        <button type="submit" disabled={busy}>
          {subscription ? t("subs.save") : t("subs.create")}
        </button>
        {subscription ? (
          <button type="button" onClick={onCancel}>
            {t("common.cancel")}
          </button>
        ) : null}
      </div>
    </form>
  );
}
