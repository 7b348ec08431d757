import { createContext, type ComponentChildren, type VNode } from "preact";
import { useCallback, useContext, useEffect, useState } from "preact/hooks";
import { ApiError, call, type Access, type CatalogueEntry } from "./api.ts";
import { formatInstant, translate, type Language, type MessageKey } from "./i18n.ts";

/** The chosen language, and the words and dates in it. */
export interface Words {
  readonly language: Language;
  readonly t: (key: MessageKey, values?: Readonly<Record<string, string | number>>) => string;
  readonly when: (iso: string | null | undefined) => string;
}

export function wordsFor(language: Language): Words {
  return { language, t: (key, values) => translate(language, key, values), when: (iso) => formatInstant(language, iso) };
}

export const WordsContext = createContext<Words>(wordsFor("pt-BR"));
export const useWords = () => useContext(WordsContext);

/**
 * The tab's credential, as `GET /webhooks/access` told it at sign-in. A read-only link is offered
 * no write (the API would answer it 403 anyway); the pages read it here.
 */
export const AccessContext = createContext<Access>({ credential: "apiToken", readOnly: false });
export const useAccess = () => useContext(AccessContext);

/** What a page loads: the value, or why it could not be loaded, and a way to load it again. */
export function useLoad<T>(load: () => Promise<T>, dependencies: readonly unknown[]) {
  const [state, setState] = useState<{ readonly value?: T; readonly error?: unknown; readonly loading: boolean }>({ loading: true });
  const reload = useCallback(() => {
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (value) => setState({ value, loading: false }),
      (error: unknown) => setState({ error, loading: false }),
    );
  }, dependencies);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

/** The event catalogue for a form's event choices; not asked for where there is no form (a read-only link). */
export function useEventTypes(wanted: boolean) {
  return useLoad(async (): Promise<CatalogueEntry[]> => (wanted ? (await call<CatalogueEntry[]>("GET", "webhooks/events")).body : []), [wanted]);
}

/** Status messages are announced by screen readers; errors assertively. */
export function Notice({ error, message }: { readonly error?: unknown; readonly message?: string }) {
  const { t } = useWords();
  if (error) {
    const detail = error instanceof ApiError ? error.problem.detail : String(error);
    return (
      <p class="notice error" role="alert">
        {t("common.error", { detail })}
      </p>
    );
  }
  return message ? (
    <p class="notice" role="status">
      {message}
    </p>
  ) : null;
}

export function Page({ title, children }: { readonly title: string; readonly children: ComponentChildren }) {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">{title}</h1>
      {children}
    </section>
  );
}

/** A destructive action asks again, in the page (a real button, reachable by keyboard). */
export function Confirm(props: { readonly question: string; readonly confirm: string; readonly onConfirm: () => void; readonly onCancel: () => void }) {
  const { t } = useWords();
  return (
    <div class="confirm" role="group" aria-label={props.question}>
      <p>{props.question}</p>
      <button type="button" class="danger" onClick={props.onConfirm}>
        {props.confirm}
      </button>{" "}
      <button type="button" onClick={props.onCancel}>
        {t("common.cancel")}
      </button>
    </div>
  );
}

/**
 * A listing: a table with a header cell per column (a column given as null is left out) and a row per
 * item. Given what loads the items, it says "loading" until they come and "empty" when there are none,
 * and shows the table only when there are rows; without it, the table is shown whenever there are items.
 */
export function Listing<T>(props: {
  readonly load?: { readonly loading: boolean; readonly value?: unknown };
  readonly rows: readonly T[] | undefined;
  readonly columns: readonly (MessageKey | null)[];
  readonly row: (item: T) => VNode;
}) {
  const { t } = useWords();
  const { load, rows } = props;
  return (
    <>
      {load?.loading && !load.value ? <p>{t("common.loading")}</p> : null}
      {load?.value && rows?.length === 0 ? <p>{t("common.empty")}</p> : null}
      {rows && (!load || rows.length > 0) ? (
        <table>
          <thead>
            <tr>{props.columns.map((column) => (column ? <th key={column} scope="col">{t(column)}</th> : null))}</tr>
          </thead>
          <tbody>{rows.map(props.row)}</tbody>
        </table>
      ) : null}
    </>
  );
}

/** Pages through a listing by its `X-Next-Cursor`, remembering the cursors behind. */
export function usePaging(limit: number) {
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const cursor = cursors.at(-1);
  return {
    query: `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    onFirst: cursors.length === 0,
    next: (nextCursor: string) => setCursors([...cursors, nextCursor]),
    first: () => setCursors([]),
  };
}

export function Pager({ next, paging }: { readonly next: string | null | undefined; readonly paging: ReturnType<typeof usePaging> }) {
  const { t } = useWords();
  return (
    <div class="actions">
      {paging.onFirst ? null : (
        <button type="button" onClick={paging.first}>
          {t("common.firstPage")}
        </button>
      )}
      {next ? (
        <button type="button" onClick={() => paging.next(next)}>
          {t("common.nextPage")}
        </button>
      ) : null}
    </div>
  );
}

/** What a form control needs to be labelled and tied to the API's message about it. */
export interface ControlProps {
  readonly id: string;
  readonly "aria-invalid"?: "true";
  readonly "aria-describedby"?: string;
}

/** A labelled form control and, when the API named its field, the problem's message under it. */
export function Field(props: {
  readonly id: string;
  readonly label: string;
  readonly error: string | undefined;
  readonly hint?: string;
  readonly control: (control: ControlProps) => ComponentChildren;
}) {
  const errorId = `${props.id}-error`;
  const hintId = `${props.id}-hint`;
  const describedBy = [props.hint ? hintId : undefined, props.error ? errorId : undefined].filter(Boolean).join(" ");
  return (
    <>
      <label for={props.id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
      {props.control({ id: props.id, ...(props.error ? { "aria-invalid": "true" } : {}), ...(describedBy ? { "aria-describedby": describedBy } : {}) })}
      {props.error ? (
        <p class="field-error" id={errorId}>
          {props.error}
        </p>
      ) : null}
    </>
  );
}
