import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { httpRoutes, type HttpResponse } from "../shared/http.ts";
import { problems } from "../shared/problems.ts";

/**
 * The web console's files, which the stack copies beside this bundle (`console/`), read once
 * per execution environment. The console is a page and its script and style sheet; everything
 * it shows comes from the API, called by the browser with the user's own token.
 */
const FILES_DIR = path.join(import.meta.dirname, "console");
const ENTRY_PAGE = "index.html";
const ENTRY_PATH = "/console/";

/**
 * Nothing but the console's own files may run, style, load or be called, and no other site
 * may frame it. (The Content-Security-Policy the console is built for: no inline code.)
 */
const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

const SECURITY_HEADERS = {
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** Scripts and sheets are named by their content's hash: a new build has new names. */
const IMMUTABLE = "public, max-age=31536000, immutable";
/** The page names the current build's files: always asked again (a 304 is cheap). */
const REVALIDATE = "no-cache";

const files: ReadonlyMap<string, HttpResponse> = new Map(
  readdirSync(FILES_DIR).map((name) => {
    const contentType = CONTENT_TYPES[path.extname(name)] ?? "application/octet-stream";
    const response: HttpResponse = {
      status: 200,
      text: readFileSync(path.join(FILES_DIR, name), "utf8"),
      headers: { ...SECURITY_HEADERS, "content-type": contentType, "cache-control": name === ENTRY_PAGE ? REVALIDATE : IMMUTABLE },
    };
    return [name, response];
  }),
);

function entryPage(): HttpResponse {
  const page = files.get(ENTRY_PAGE);
  if (!page) throw new Error(`the console's ${ENTRY_PAGE} is missing from the bundle`);
  return page;
}

export const handler = httpRoutes(
  "console",
  {
    // Relative, so the redirect holds behind a custom domain's base path too.
    "GET /console": async () => ({ status: 301, headers: { ...SECURITY_HEADERS, location: "console/", "cache-control": REVALIDATE } }),
    "GET /console/{asset}": async ({ pathParameters }) => {
      const name = pathParameters["asset"] ?? "";
      const file = files.get(name);
      if (!file) throw problems.notFound(`The console has no file ${name}.`);
      return file;
    },
  },
  // Route paths cannot end in "/", so the entry page arrives through the API's `$default` route.
  (method, rawPath) => (method === "GET" && rawPath === ENTRY_PATH ? entryPage() : undefined),
);
