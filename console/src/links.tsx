import { useState } from "preact/hooks";
import { call, fieldError, type NewPortalLink, type PortalLink } from "./api.ts";
import type { MessageKey } from "./i18n.ts";
import { Confirm, Field, Listing, Notice, Page, Pager, useLoad, usePaging, useWords } from "./ui.tsx";

const PAGE_SIZE = 20;
const LINKS = "webhooks/portal-links";

/** How long a new link works (the API's `ttlSeconds`, 5 minutes to 7 days); an hour first. */
const LIFETIMES = [
  ["3600", "links.ttl1h"],
  ["900", "links.ttl15m"],
  ["86400", "links.ttl1d"],
  ["604800", "links.ttl7d"],
] as const satisfies readonly (readonly [string, MessageKey])[];

/** A link's id is its token's SHA-256: its first characters tell the links apart on screen. */
const shortId = (id: string) => id.slice(0, 8);

/**
 * Portal links (API token only): make one, its address shown once with a copy button, the live
 * ones listed with their expiry, and revoking one after asking again.
 */
export function PortalLinksPage() {
  const { t, when } = useWords();
  const paging = usePaging(PAGE_SIZE);
  const links = useLoad(async () => call<PortalLink[]>("GET", `${LINKS}?${paging.query}`), [paging.query]);
  const [ttl, setTtl] = useState<string>(LIFETIMES[0][0]);
  const [readOnly, setReadOnly] = useState(true);
  // The new link's address lives in this page's state only: never stored, gone when the page is left.
  const [created, setCreated] = useState<NewPortalLink | undefined>();
  const [revoking, setRevoking] = useState<string | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const create = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setMessage(undefined);
    try {
      setCreated((await call<NewPortalLink>("POST", LINKS, { ttlSeconds: Number(ttl), readOnly })).body);
      setError(undefined);
      paging.first();
      links.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const copy = async (url: string) => {
    try {
      await navigator.clipboard.writeText(url);
      setMessage(t("links.copied"));
    } catch (failure) {
      setError(failure);
    }
  };
  const revoke = async (id: string) => {
    setRevoking(undefined);
    try {
      await call("DELETE", `${LINKS}/${id}`);
      setMessage(t("links.revoked", { id: shortId(id) }));
      setError(undefined);
      if (created?.id === id) setCreated(undefined);
    } catch (failure) {
      setError(failure);
    }
    links.reload();
  };

  const ttlError = fieldError(error, "ttlSeconds");
  const rows = links.value?.body ?? [];
  return (
    <Page title={t("links.title")}>
      <p>{t("links.intro")}</p>
      <Notice message={message} error={ttlError ? undefined : (error ?? links.error)} />
      <form class="card" onSubmit={(event) => void create(event)} aria-labelledby="link-new-title" noValidate>
        <h2 id="link-new-title">{t("links.new")}</h2>
        <Field
          id="link-ttl"
          label={t("links.ttl")}
          error={ttlError}
          control={(control) => (
            <select {...control} value={ttl} onChange={(event) => setTtl(event.currentTarget.value)}>
              {LIFETIMES.map(([seconds, key]) => (
                <option key={seconds} value={seconds}>
                  {t(key)}
                </option>
              ))}
            </select>
          )}
        />
        <label class="check">
          <input type="checkbox" checked={readOnly} onChange={(event) => setReadOnly(event.currentTarget.checked)} /> {t("links.readOnlyField")}
        </label>
        <div class="actions">
          <button type="submit" disabled={busy}>
            {t("links.create")}
          </button>
        </div>
      </form>
      {created ? (
        <div class="card secret" role="status">
          <p>{t("links.createdOnce")}</p>
          <label for="link-url">{t("links.url")}</label>
          <input id="link-url" type="text" readOnly value={created.url} spellcheck={false} />
          <div class="actions">
            <button type="button" onClick={() => void copy(created.url)}>
              {t("links.copy")}
            </button>
          </div>
        </div>
      ) : null}
      <h2>{t("links.live")}</h2>
      <Listing
        load={links}
        rows={rows}
        columns={["links.id", "links.kind", "links.createdAt", "links.expiresAt", "common.actions"]}
        row={(link) => (
          <tr key={link.id}>
            <td>
              <code>{shortId(link.id)}</code>
            </td>
            <td>{t(link.readOnly ? "access.readOnly" : "links.full")}</td>
            <td>{when(link.createdAt)}</td>
            <td>{when(link.expiresAt)}</td>
            <td>
              {revoking === link.id ? (
                <Confirm
                  question={t("links.confirmRevoke", { id: shortId(link.id) })}
                  confirm={t("links.confirm")}
                  onConfirm={() => void revoke(link.id)}
                  onCancel={() => setRevoking(undefined)}
                />
              ) : (
                <button type="button" class="danger" onClick={() => setRevoking(link.id)} aria-label={`${t("links.revoke")} ${shortId(link.id)}`}>
                  {t("links.revoke")}
                </button>
              )}
            </td>
          </tr>
        )}
      />
      <Pager next={links.value?.nextCursor} paging={paging} />
    </Page>
  );
}
