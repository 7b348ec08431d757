import type { z } from "zod";
import type {
  accessViewSchema,
  catalogueSchema,
  deadLetterViewSchema,
  deliveryLogViewSchema,
  documentHistoryViewSchema,
  failureViewSchema,
  portalLinkListViewSchema,
  portalLinkViewSchema,
  subscriptionViewSchema,
  testWebhookViewSchema,
  webhookConfigViewSchema,
  webhookSecretViewSchema,
} from "../../lambdas/contract/schemas.ts";

/**
 * The console's only way to the product: the public HTTP API, on the origin that served the
 * page, with the user's token as a Bearer token, exactly as any API client calls it.
 */

/** An RFC 9457 problem as the API answers it; `errors` name the fields at fault. */
export interface Problem {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly errors?: readonly { readonly field: string; readonly message: string }[];
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
    this.name = "ApiError";
  }
}

const TOKEN_KEY = "fiscal-webhooks.token";
const LINK_PREFIX = "#link=";

/**
 * The token of this tab: sessionStorage only (never a cookie, a URL or a log). A portal link
 * carries its token in the fragment, which browsers never send to a server; it is taken from
 * there and the fragment removed from the address and the history at once.
 */
export const session = {
  adoptLinkToken(): void {
    if (!location.hash.startsWith(LINK_PREFIX)) return;
    const encoded = location.hash.slice(LINK_PREFIX.length);
    history.replaceState(null, "", location.pathname + location.search);
    // A link mangled on its way (a broken %-escape) signs nobody in: the sign-in page shows.
    const token = decodeLinkToken(encoded);
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
  },
  token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  signIn(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  signOut(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

function decodeLinkToken(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded) || undefined;
  } catch {
    return undefined;
  }
}

/** The API's base: the console lives at `<base>/console/`. */
const API_BASE = new URL("..", location.href);

/**
 * Called when the API refuses the token (401): back to sign-in, with why. A 403 refuses one
 * action of a credential that still works (a read-only link's write, a route closed to links):
 * it is shown where the action was, like any other problem, and signs nobody out.
 */
let onRefused: (problem: Problem) => void = () => {};
export function whenRefused(handler: (problem: Problem) => void): void {
  onRefused = handler;
}

export interface Answer<T> {
  readonly body: T;
  readonly nextCursor: string | null;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: "application/json" };
  const token = session.token();
  if (token) headers["authorization"] = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(new URL(path, API_BASE), {
    method,
    headers,
    cache: "no-store",
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const parsed = parseJson(text);
  if (!response.ok) {
    const problem = asProblem(response.status, parsed);
    if (response.status === 401) {
      session.signOut();
      onRefused(problem);
    }
    throw new ApiError(problem);
  }
  return { body: parsed as T, nextCursor: response.headers.get("x-next-cursor") };
}

/** The API answers JSON; a proxy or gateway in between may not. */
function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function asProblem(status: number, parsed: unknown): Problem {
  const isProblem = typeof parsed === "object" && parsed !== null && "detail" in parsed && typeof parsed.detail === "string";
  // The gateway's own answers (a body over its limit, throttling) are not problems.
  return isProblem ? { ...(parsed as Problem), status } : { status, title: String(status), detail: `HTTP ${status}` };
}

/** What the API says of a field (the problem's `errors` name it), if anything. */
export function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return error.problem.errors?.find((violation) => violation.field === field || violation.field.startsWith(`${field}/`))?.message;
}

/**
 * What the API answers, as its own schemas (which make the OpenAPI document) say: type-only
 * imports, so nothing of zod or the schemas reaches the browser's bundle.
 */
export type Subscription = z.output<typeof subscriptionViewSchema>;
export type CatalogueEntry = z.output<typeof catalogueSchema>[number];
export type DeliveryLog = z.output<typeof deliveryLogViewSchema>[number];
export type DeliveryStatus = DeliveryLog["status"];
export type DeadLetter = z.output<typeof deadLetterViewSchema>[number];
export type WebhookConfig = z.output<typeof webhookConfigViewSchema>;
export type WebhookSecret = z.output<typeof webhookSecretViewSchema>;
export type TestResult = z.output<typeof testWebhookViewSchema>;
export type Failure = z.output<typeof failureViewSchema>[number];
export type DocumentHistory = z.output<typeof documentHistoryViewSchema>;
/** Which credential the tab holds (`GET /webhooks/access`): a read-only link is offered no writes. */
export type Access = z.output<typeof accessViewSchema>;
export type NewPortalLink = z.output<typeof portalLinkViewSchema>;
export type PortalLink = z.output<typeof portalLinkListViewSchema>[number];
/** `bulkViewSchema` names its count at run time (`retried`, `purged`), which its type cannot say. */
export interface BulkResult {
  readonly retried?: number;
  readonly purged?: number;
  readonly complete: boolean;
}
