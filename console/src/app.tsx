import { useEffect, useState } from "preact/hooks";
import { ApiError, call, session, whenRefused, type Access, type Problem } from "./api.ts";
import { AccountPage } from "./account.tsx";
import { DeadLettersPage, EventsPage, LogsPage } from "./deliveries.tsx";
import { DocumentsPage } from "./documents.tsx";
import { FailuresPage } from "./failures.tsx";
import type { Language, MessageKey } from "./i18n.ts";
import { PortalLinksPage } from "./links.tsx";
import { SubscriptionsPage } from "./subscriptions.tsx";
import { AccessContext, Notice, useWords, wordsFor, WordsContext } from "./ui.tsx";

/** The pages, each at its own fragment (`#assinaturas`…): real links, the back button works. */
const PAGES = {
  assinaturas: { label: "nav.subscriptions", Page: SubscriptionsPage },
  entregas: { label: "nav.logs", Page: LogsPage },
  dlq: { label: "nav.deadLetters", Page: DeadLettersPage },
  falhas: { label: "nav.failures", Page: FailuresPage },
  documentos: { label: "nav.documents", Page: DocumentsPage },
  conta: { label: "nav.account", Page: AccountPage },
  eventos: { label: "nav.events", Page: EventsPage },
  // Links make links only with the API token: a link's tab does not list the page.
  links: { label: "nav.links", Page: PortalLinksPage, tokenOnly: true },
} as const satisfies Record<string, { label: MessageKey; Page: () => preact.JSX.Element; tokenOnly?: true }>;
type PageName = keyof typeof PAGES;

const pagesFor = (access: Access): PageName[] =>
  (Object.keys(PAGES) as PageName[]).filter((name) => access.credential === "apiToken" || !("tokenOnly" in PAGES[name]));

const LANGUAGE_KEY = "fiscal-webhooks.language";

function savedLanguage(): Language {
  const language: Language = localStorage.getItem(LANGUAGE_KEY) === "en" ? "en" : "pt-BR";
  document.documentElement.lang = language;
  return language;
}

function currentPage(): string {
  return location.hash.slice(1);
}

export function App() {
  const [language, setLanguage] = useState<Language>(savedLanguage);
  const [signedIn, setSignedIn] = useState(session.token() !== null);
  const [access, setAccess] = useState<Access | undefined>();
  const [accessError, setAccessError] = useState<unknown>();
  const [refusal, setRefusal] = useState<Problem | undefined>();
  const [page, setPage] = useState(currentPage);

  useEffect(() => {
    whenRefused((problem) => {
      setRefusal(problem);
      setAccess(undefined);
      setSignedIn(false);
    });
    const follow = () => setPage(currentPage());
    addEventListener("hashchange", follow);
    return () => removeEventListener("hashchange", follow);
  }, []);
  // A tab signed in by a portal link (or a reload) learns what its credential may do first; an
  // expired or revoked one is answered 401, which comes back through whenRefused.
  useEffect(() => {
    if (!signedIn || access) return;
    call<Access>("GET", "webhooks/access").then(
      ({ body }) => setAccess(body),
      (error: unknown) => setAccessError(error instanceof ApiError && error.problem.status === 401 ? undefined : error),
    );
  }, [signedIn, access]);
  const choose = (chosen: Language) => {
    // Set with the words, not after the render: a screen reader reads them in this language.
    document.documentElement.lang = chosen;
    localStorage.setItem(LANGUAGE_KEY, chosen);
    setLanguage(chosen);
  };

  const words = wordsFor(language);
  const { t, when } = words;
  const pages = access ? pagesFor(access) : [];
  const shown = pages.find((name) => name === page) ?? "assinaturas";
  const Current = PAGES[shown].Page;
  const ready = signedIn && access !== undefined;
  return (
    <WordsContext.Provider value={words}>
      <a class="skip" href="#main">
        {t("app.skip")}
      </a>
      <header>
        <span class="brand">{t("app.title")}</span>
        {ready ? (
          <nav aria-label={t("nav.label")}>
            {pages.map((name) => (
              <a key={name} href={`#${name}`} aria-current={name === shown ? "page" : undefined}>
                {t(PAGES[name].label)}
              </a>
            ))}
          </nav>
        ) : null}
        {access?.credential === "portalLink" ? (
          <span class={access.readOnly ? "badge read-only" : "badge"}>
            {t(access.readOnly ? "access.readOnly" : "access.link")} · {t("access.until", { when: when(access.expiresAt) })}
          </span>
        ) : null}
        <div class="tools">
          <button type="button" lang={language === "en" ? "pt-BR" : "en"} onClick={() => choose(language === "en" ? "pt-BR" : "en")}>
            {t("lang.switch")}
          </button>
          {signedIn ? (
            <button
              type="button"
              onClick={() => {
                session.signOut();
                setRefusal(undefined);
                setAccess(undefined);
                setSignedIn(false);
              }}
            >
              {t("signOut")}
            </button>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {ready ? (
          <AccessContext.Provider value={access}>
            <Current key={shown} />
          </AccessContext.Provider>
        ) : signedIn ? (
          accessError ? <Notice error={accessError} /> : <p>{t("common.loading")}</p>
        ) : (
          <SignIn
            refusal={refusal}
            onSignedIn={(granted) => {
              setRefusal(undefined);
              setAccessError(undefined);
              setAccess(granted);
              setSignedIn(true);
            }}
          />
        )}
      </main>
    </WordsContext.Provider>
  );
}

/** Sign-in with an API token: kept only if the API accepts it. */
function SignIn({ refusal, onSignedIn }: { readonly refusal: Problem | undefined; readonly onSignedIn: (access: Access) => void }) {
  const { t } = useWords();
  const [token, setToken] = useState("");
  const [checking, setChecking] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setChecking(true);
    session.signIn(token.trim());
    try {
      onSignedIn((await call<Access>("GET", "webhooks/access")).body);
    } catch (error) {
      // A refusal comes back through whenRefused; anything else is shown here.
      if (!(error instanceof ApiError)) session.signOut();
    } finally {
      setChecking(false);
    }
  };
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">{t("signIn.title")}</h1>
      <p>{t("signIn.intro")}</p>
      {refusal ? <Notice error={new ApiError(refusal)} /> : null}
      <form class="card" onSubmit={(event) => void submit(event)}>
        <label for="token">{t("signIn.token")}</label>
        <input id="token" type="password" autocomplete="off" spellcheck={false} value={token} onInput={(event) => setToken(event.currentTarget.value)} required />
        <div class="actions">
          <button type="submit" disabled={checking}>
            {checking ? t("signIn.checking") : t("signIn.submit")}
          </button>
        </div>
      </form>
    </section>
  );
}
