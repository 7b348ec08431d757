import { useState } from "preact/hooks";
import { ApiError, call, fieldError, type DocumentHistory } from "./api.ts";
import { Field, Listing, Notice, Page, Pager, useLoad, usePaging, useWords } from "./ui.tsx";

/** The API names the path parameter this way in its problems. */
const KEY_FIELD = "documentKey (path)";

/** A fiscal document's history: what was told to each endpoint, and the events received. */
export function DocumentsPage() {
  const { t, when } = useWords();
  const [typed, setTyped] = useState("");
  const [documentKey, setDocumentKey] = useState<string | undefined>();
  const paging = usePaging(50);
  const history = useLoad(async () => {
    if (!documentKey) return undefined;
    return call<DocumentHistory>("GET", `webhooks/documents/${encodeURIComponent(documentKey)}?${paging.query}`);
  }, [documentKey, paging.query]);
  const keyError = fieldError(history.error, KEY_FIELD);
  const notFound = history.error instanceof ApiError && history.error.problem.status === 404;
  const found = history.value?.body;
  return (
    <Page title={t("documents.title")}>
      <p>{t("documents.intro")}</p>
      <form
        class="card"
        onSubmit={(event) => {
          event.preventDefault();
          const key = typed.replace(/\s+/g, "");
          paging.first();
          // Searching the same key again looks again: its deliveries may have moved on.
          if (key === documentKey) history.reload();
          else setDocumentKey(key);
        }}
        noValidate
      >
        <Field
          id="document-key"
          label={t("documents.key")}
          error={keyError}
          control={(control) => <input {...control} value={typed} onInput={(event) => setTyped(event.currentTarget.value)} spellcheck={false} />}
        />
        <div class="actions">
          <button type="submit">{t("documents.search")}</button>
        </div>
      </form>
      {notFound ? <p role="status">{t("documents.none")}</p> : <Notice error={keyError ? undefined : history.error} />}
      {documentKey && history.loading ? <p>{t("common.loading")}</p> : null}
      {found ? (
        <>
          <h2>{t("documents.endpoints")}</h2>
          <Listing
            rows={found.endpoints}
            columns={["dlq.endpoint", "logs.event", "logs.status", "logs.attempts", "logs.deliveredAt", "dlq.lastError"]}
            row={(endpoint) => (
              <tr key={endpoint.endpoint}>
                <td class="url">{endpoint.endpoint}</td>
                <td>
                  {endpoint.type} <code>{endpoint.eventId}</code>
                </td>
                <td>
                  <span class={`status status-${endpoint.status}`}>{t(`status.${endpoint.status}`)}</span>
                </td>
                <td>{endpoint.attempts}</td>
                <td>{when(endpoint.deliveredAt)}</td>
                <td>{endpoint.lastError ?? "—"}</td>
              </tr>
            )}
          />
          <h2>{t("documents.events")}</h2>
          <Listing
            rows={found.events}
            columns={["documents.eventId", "logs.event", "documents.sequence", "documents.receivedAt"]}
            row={(event) => (
              <tr key={`${event.eventId}-${event.receivedAt}`}>
                <td>
                  <code>{event.eventId}</code>
                </td>
                <td>{event.type}</td>
                <td>{event.sequence ?? "—"}</td>
                <td>{when(event.receivedAt)}</td>
              </tr>
            )}
          />
          <Pager next={history.value?.nextCursor} paging={paging} />
        </>
      ) : null}
    </Page>
  );
}
