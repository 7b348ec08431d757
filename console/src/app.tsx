import { useEffect, useState } from "preact/hooks";
import { ApiError, call, session, whenRefused, type Problem } from "./api.ts";
import { AccountPage } from "./account.tsx";
import { DeadLettersPage, EventsPage, LogsPage } from "./deliveries.tsx";
import { DocumentsPage } from "./documents.tsx";
import { FailuresPage } from "./failures.tsx";
import type { Language, MessageKey } from "./i18n.ts";
import { SubscriptionsPage } from "./subscriptions.tsx";
import { Notice, useWords, wordsFor, WordsContext } from "./ui.tsx";

/** The pages, each at its own fragment (`#assinaturas`…): real links, the back button works. */
const PAGES = {
  assinaturas: { label: "nav.subscriptions", Page: SubscriptionsPage },
  entregas: { label: "nav.logs", Page: LogsPage },
  dlq: { label: "nav.deadLetters", Page: DeadLettersPage },
  falhas: { label: "nav.failures", Page: FailuresPage },
  documentos: { label: "nav.documents", Page: DocumentsPage },
  conta: { label: "nav.account", Page: AccountPage },
  eventos: { label: "nav.events", Page: EventsPage },
} as const satisfies Record<string, { label: MessageKey; Page: () => preact.JSX.Element }>;
type PageName = keyof typeof PAGES;

const LANGUAGE_KEY = "fiscal-webhooks.language";

function savedLanguage(): Language {
  const language: Language = localStorage.getItem(LANGUAGE_KEY) === "en" ? "en" : "pt-BR";
  document.documentElement.lang = language;
  return language;
}

function currentPage(): PageName {
  const name = location.hash.slice(1);
  return name in PAGES ? (name as PageName) : "assinaturas";
}

export function App() {
  const [language, setLanguage] = useState<Language>(savedLanguage);
  const [signedIn, setSignedIn] = useState(session.token() !== null);
  const [refusal, setRefusal] = useState<Problem | undefined>();
  const [page, setPage] = useState<PageName>(currentPage);

  useEffect(() => {
    whenRefused((problem) => {
      setRefusal(problem);
      setSignedIn(false);
    });
    const follow = () => setPage(currentPage());
    addEventListener("hashchange", follow);
    return () => removeEventListener("hashchange", follow);
  }, []);
  const choose = (chosen: Language) => {
    // Set with the words, not after the render: a screen reader reads them in this language.
    document.documentElement.lang = chosen;
    localStorage.setItem(LANGUAGE_KEY, chosen);
    setLanguage(chosen);
  };

  const words = wordsFor(language);
  const { t } = words;
  const Current = PAGES[page].Page;
  return (
    <WordsContext.Provider value={words}>
      <a class="skip" href="#main">
        {t("app.skip")}
      </a>
      <header>
        <span class="brand">{t("app.title")}</span>
        {signedIn ? (
          <nav aria-label={t("nav.label")}>
            {(Object.keys(PAGES) as PageName[]).map((name) => (
              <a key={name} href={`#${name}`} aria-current={name === page ? "page" : undefined}>
                {t(PAGES[name].label)}
              </a>
            ))}
          </nav>
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
                setSignedIn(false);
              }}
            >
              {t("signOut")}
            </button>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {signedIn ? (
          <Current key={page} />
        ) : (
          <SignIn
            refusal={refusal}
            onSignedIn={() => {
              setRefusal(undefined);
              setSignedIn(true);
            }}
          />
        )}
      </main>
    </WordsContext.Provider>
  );
}

/** Sign-in with an API token: kept only if the API accepts it. */
function SignIn({ refusal, onSignedIn }: { readonly refusal: Problem | undefined; readonly onSignedIn: () => void }) {
  const { t } = useWords();
  const [token, setToken] = useState("");
  const [checking, setChecking] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setChecking(true);
    session.signIn(token.trim());
    try {
      await call("GET", "webhooks/events");
      onSignedIn();
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
