import { useState } from "preact/hooks";
import { call, type Failure } from "./api.ts";
import { Listing, Notice, Page, Pager, useLoad, usePaging, useWords } from "./ui.tsx";

/** Today in Brazil (America/Sao_Paulo) as a date input holds it, yyyy-MM-dd. */
function todayInBrazil(): string {
  // en-CA writes dates as yyyy-MM-dd.
  return new Intl.DateTimeFormat("en-CA", { timeZone: "America/Sao_Paulo", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

/** yyyy-MM-dd (the date input) → ddMMyyyy (the Portal Único's `data`). */
const portalDate = (isoDate: string) => isoDate.split("-").reverse().join("");

/** Failed attempts of a Brazilian civil date (the Portal Único's falhas search), oldest first. */
export function FailuresPage() {
  const { t } = useWords();
  const [date, setDate] = useState(todayInBrazil);
  const paging = usePaging(50);
  const query = `data=${portalDate(date)}&${paging.query}`;
  const failures = useLoad(async () => call<Failure[]>("GET", `portal/api/ext/webhook/falhas?${query}`), [query]);
  const rows = failures.value?.body ?? [];
  return (
    <Page title={t("failures.title")}>
      <p>{t("failures.intro")}</p>
      <Notice error={failures.error} />
      <div class="filters">
        <label for="failures-date">{t("failures.date")}</label>
        <input
          id="failures-date"
          type="date"
          value={date}
          onChange={(event) => {
            if (!event.currentTarget.value) return;
            paging.first();
            setDate(event.currentTarget.value);
          }}
        />
      </div>
      <Listing
        load={failures}
        rows={rows}
        columns={["subs.id", "subs.event", "failures.reason", "failures.body"]}
        row={(failure) => (
          <tr key={failure.id}>
            <td>{failure.id}</td>
            <td>{failure.evento}</td>
            <td>{failure.descricao}</td>
            <td>
              <details>
                <summary>{t("failures.show")}</summary>
                <pre>{failure.conteudo}</pre>
              </details>
            </td>
          </tr>
        )}
      />
      <Pager next={failures.value?.nextCursor} paging={paging} />
    </Page>
  );
}
