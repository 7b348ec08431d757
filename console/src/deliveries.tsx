import { useEffect, useState } from "preact/hooks";
import { call, type BulkResult, type CatalogueEntry, type DeadLetter, type DeliveryLog, type DeliveryStatus } from "./api.ts";
import { Confirm, Listing, Notice, Page, Pager, useAccess, useLoad, usePaging, useWords } from "./ui.tsx";

const PAGE_SIZE = 20;
/** While a retry-all or a purge goes on in the background, the DLQ is looked at this often… */
const WATCH_EVERY_MS = 2_000;
/** …one page of at most this many letters: past it, "more than" (the API counts nothing for us). */
const WATCH_PAGE = 100;
const STATUSES: readonly DeliveryStatus[] = ["pending", "retrying", "success", "failed", "canceled"];

/** Delivery logs, newest first: a status filter over the page, paging, and each delivery's detail. */
export function LogsPage() {
  const { t, when } = useWords();
  const paging = usePaging(PAGE_SIZE);
  const logs = useLoad(async () => call<DeliveryLog[]>("GET", `webhooks/logs?${paging.query}`), [paging.query]);
  const [status, setStatus] = useState<DeliveryStatus | "">("");
  const [selected, setSelected] = useState<DeliveryLog | undefined>();
  const rows = (logs.value?.body ?? []).filter((entry) => status === "" || entry.status === status);
  return (
    <Page title={t("logs.title")}>
      <Notice error={logs.error} />
      <div class="filters">
        <label for="logs-status">{t("logs.filter")}</label>
        <select id="logs-status" value={status} onChange={(event) => setStatus(event.currentTarget.value as DeliveryStatus | "")}>
          <option value="">{t("logs.all")}</option>
          {STATUSES.map((value) => (
            <option key={value} value={value}>
              {t(`status.${value}`)}
            </option>
          ))}
        </select>
        <span class="hint">{t("logs.filterNote")}</span>
      </div>
      <Listing
        load={logs}
        rows={rows}
        columns={["logs.event", "logs.status", "logs.attempts", "logs.createdAt", "logs.deliveredAt", "logs.details"]}
        row={(entry) => (
          <tr key={entry.id}>
            <td>{entry.eventType}</td>
            <td>
              <span class={`status status-${entry.status}`}>{t(`status.${entry.status}`)}</span>
            </td>
            <td>{entry.attempts}</td>
            <td>{when(entry.createdAt)}</td>
            <td>{when(entry.deliveredAt)}</td>
            <td>
              <button type="button" onClick={() => setSelected(entry)} aria-label={`${t("logs.details")} ${entry.id}`}>
                {t("logs.details")}
              </button>
            </td>
          </tr>
        )}
      />
      <Pager next={logs.value?.nextCursor} paging={paging} />
      {selected ? (
        <aside class="card" aria-labelledby="detail-title">
          <h2 id="detail-title">{t("logs.detailTitle", { id: selected.id })}</h2>
          <dl>
            <dt>{t("logs.id")}</dt>
            <dd>
              <code>{selected.id}</code>
            </dd>
            <dt>{t("logs.event")}</dt>
            <dd>{selected.eventType}</dd>
            <dt>{t("logs.status")}</dt>
            <dd>{t(`status.${selected.status}`)}</dd>
            <dt>{t("logs.attempts")}</dt>
            <dd>{selected.attempts}</dd>
            <dt>{t("logs.createdAt")}</dt>
            <dd>{when(selected.createdAt)}</dd>
            <dt>{t("logs.deliveredAt")}</dt>
            <dd>{when(selected.deliveredAt)}</dd>
          </dl>
          <button type="button" onClick={() => setSelected(undefined)}>
            {t("logs.close")}
          </button>
        </aside>
      ) : null}
    </Page>
  );
}

/** What is left of a bulk operation the API goes on with in the background (`complete: false`). */
interface Leftover {
  readonly count: number;
  readonly more: boolean;
}

/**
 * Watches the dead-letter list until it is empty, while `watching` and the page is open: the
 * progress of a retry-all or purge that the API answered `complete: false`, with no API of its own.
 * A retried letter whose endpoint fails again comes back to the list, and is counted again.
 */
function useDrainWatch(watching: boolean, onEmpty: () => void, onError: (error: unknown) => void): Leftover | undefined {
  const [leftover, setLeftover] = useState<Leftover | undefined>();
  useEffect(() => {
    if (!watching) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const look = async () => {
      try {
        const { body, nextCursor } = await call<DeadLetter[]>("GET", `webhooks/dlq?limit=${WATCH_PAGE}`);
        if (stopped) return;
        if (body.length === 0) {
          setLeftover(undefined);
          onEmpty();
          return;
        }
        setLeftover({ count: body.length, more: nextCursor !== null });
        timer = setTimeout(() => void look(), WATCH_EVERY_MS);
      } catch (error) {
        if (stopped) return;
        setLeftover(undefined);
        onError(error);
      }
    };
    void look();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [watching]);
  return watching ? leftover : undefined;
}

/** Dead letters: list, retry one, retry all (its progress watched), purge after asking again. */
export function DeadLettersPage() {
  const { t, when } = useWords();
  const { readOnly } = useAccess();
  const paging = usePaging(PAGE_SIZE);
  const letters = useLoad(async () => call<DeadLetter[]>("GET", `webhooks/dlq?${paging.query}`), [paging.query]);
  const [message, setMessage] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const [purging, setPurging] = useState(false);
  const [draining, setDraining] = useState<"retry" | "purge" | undefined>();
  const leftover = useDrainWatch(
    draining !== undefined,
    () => {
      setMessage(t(draining === "purge" ? "dlq.purgeDone" : "dlq.retryDone"));
      setDraining(undefined);
      paging.first();
      letters.reload();
    },
    (failure) => {
      setError(failure);
      setDraining(undefined);
    },
  );

  const act = async (action: () => Promise<string>) => {
    try {
      setMessage(await action());
      setError(undefined);
    } catch (failure) {
      setError(failure);
    }
    paging.first();
    letters.reload();
  };
  const retry = (id: string) =>
    act(async () => {
      await call("POST", `webhooks/dlq/${encodeURIComponent(id)}/retry`);
      return t("dlq.retried", { id });
    });
  const retryAll = () =>
    act(async () => {
      const { body } = await call<BulkResult>("POST", "webhooks/dlq/retry-all");
      if (!body.complete) setDraining("retry");
      return t(body.complete ? "dlq.retriedAll" : "dlq.retriedAllPartial", { count: body.retried ?? 0 });
    });
  const purge = () => {
    setPurging(false);
    return act(async () => {
      const { body } = await call<BulkResult>("DELETE", "webhooks/dlq");
      if (!body.complete) setDraining("purge");
      return t(body.complete ? "dlq.purged" : "dlq.purgedPartial", { count: body.purged ?? 0 });
    });
  };

  const rows = letters.value?.body ?? [];
  return (
    <Page title={t("dlq.title")}>
      <p>{t("dlq.intro")}</p>
      <Notice message={message} error={error ?? letters.error} />
      {readOnly ? null : (
        <div class="actions">
          <button type="button" onClick={() => void retryAll()} disabled={rows.length === 0 || draining !== undefined}>
            {t("dlq.retryAll")}
          </button>
          <button type="button" class="danger" onClick={() => setPurging(true)} disabled={rows.length === 0 || draining !== undefined}>
            {t("dlq.purge")}
          </button>
        </div>
      )}
      {leftover ? (
        <p class="notice" role="status">
          {t(leftover.more ? "dlq.leftMore" : "dlq.left", { count: leftover.count })}
        </p>
      ) : null}
      {purging ? <Confirm question={t("dlq.confirmPurge")} confirm={t("dlq.confirm")} onConfirm={() => void purge()} onCancel={() => setPurging(false)} /> : null}
      <Listing
        load={letters}
        rows={rows}
        columns={["dlq.event", "dlq.endpoint", "dlq.attempts", "dlq.lastError", "dlq.failedAt", readOnly ? null : "common.actions"]}
        row={(letter) => (
          <tr key={letter.id}>
            <td>{letter.eventType}</td>
            <td class="url">{letter.endpoint}</td>
            <td>{letter.attempts}</td>
            <td>{letter.lastError}</td>
            <td>{when(letter.failedAt)}</td>
            {readOnly ? null : (
              <td>
                <button type="button" onClick={() => void retry(letter.id)} aria-label={`${t("dlq.retry")} ${letter.id}`}>
                  {t("dlq.retry")}
                </button>
              </td>
            )}
          </tr>
        )}
      />
      <Pager next={letters.value?.nextCursor} paging={paging} />
    </Page>
  );
}

/** The event catalogue, as the API lists it. */
export function EventsPage() {
  const { t } = useWords();
  const catalogue = useLoad(async () => (await call<CatalogueEntry[]>("GET", "webhooks/events")).body, []);
  return (
    <Page title={t("events.title")}>
      <Notice error={catalogue.error} />
      {catalogue.loading && !catalogue.value ? <p>{t("common.loading")}</p> : null}
      <Listing
        rows={catalogue.value}
        columns={["events.type", "events.kind", "events.description"]}
        row={(entry) => (
          <tr key={entry.type}>
            <td>
              <code>{entry.type}</code>
            </td>
            <td>{t(`kind.${entry.kind}`)}</td>
            <td>{entry.description}</td>
          </tr>
        )}
      />
    </Page>
  );
}
