/**
 * RFC 9457 problem details. Every error the HTTP API returns is one of these, served as
 * `application/problem+json`; `errors` lists field-level violations when there are any.
 */
export interface FieldViolation {
  /** JSON pointer-like path of the offending field, e.g. `endpoint` or `events/2`. */
  readonly field: string;
  readonly rule: string;
  readonly message: string;
  /** What was received, truncated so a huge value never comes back whole. */
  readonly received?: string;
}

export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: readonly FieldViolation[];
  readonly [extension: string]: unknown;
}

/** What a problem carries besides its kind and detail: field violations and kind-specific members. */
export interface ProblemExtensions {
  readonly errors?: readonly FieldViolation[];
  readonly [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Problem type URIs are URNs: stable identifiers that need no documentation host. */
const urn = (slug: string) => `urn:fiscal-webhooks:problem:${slug}`;

/** Every kind of problem the API answers with. Clients may depend on these: change none. */
const KINDS = {
  validation: { type: urn("validation"), title: "Invalid Request", status: 400 },
  idMismatch: { type: urn("id-mismatch"), title: "Invalid Request", status: 400 },
  bodyRequired: { type: urn("body-required"), title: "Body Required", status: 400 },
  malformedJson: { type: urn("malformed-json"), title: "Malformed JSON", status: 400 },
  bodyTooDeep: { type: urn("body-too-deep"), title: "Body Nested Too Deeply", status: 400 },
  unauthorized: { type: urn("unauthorized"), title: "Unauthorized", status: 401 },
  forbidden: { type: urn("forbidden"), title: "Forbidden", status: 403 },
  notFound: { type: urn("not-found"), title: "Not Found", status: 404 },
  configNotFound: { type: urn("config-not-found"), title: "Not Found", status: 404 },
  methodNotAllowed: { type: urn("method-not-allowed"), title: "Method Not Allowed", status: 405 },
  duplicateSubscription: { type: urn("duplicate-subscription"), title: "Conflict", status: 409 },
  subscriptionLimit: { type: urn("subscription-limit"), title: "Conflict", status: 409 },
  configMissing: { type: urn("config-missing"), title: "Conflict", status: 409 },
  deadLetterBusy: { type: urn("dead-letter-busy"), title: "Conflict", status: 409 },
  bodyTooLarge: { type: urn("body-too-large"), title: "Content Too Large", status: 413 },
  tooManyRequests: { type: urn("too-many-requests"), title: "Too Many Requests", status: 429 },
  unsupportedMediaType: { type: urn("unsupported-media-type"), title: "Unsupported Media Type", status: 415 },
  // Nothing to tell a client about our own failures but that they happened.
  internal: { type: "about:blank", title: "Internal Server Error", status: 500 },
} as const;

export type ProblemKind = keyof typeof KINDS;

/** A problem on its way to the client: route code throws it, the route wrapper answers with it. */
export class HttpProblem extends Error {
  constructor(
    readonly problem: ProblemDetails,
    /** Response headers the problem's kind calls for (`Allow` on a 405). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(problem.detail);
    this.name = "HttpProblem";
  }
}

/** Builds the problem of each kind from its detail (and field violations or other members). */
export const problems = Object.fromEntries(
  Object.entries(KINDS).map(([kind, declared]) => [
    kind,
    (detail: string, extensions: ProblemExtensions = {}, headers: Readonly<Record<string, string>> = {}) =>
      new HttpProblem({ ...declared, detail, ...extensions }, headers),
  ]),
) as {
  readonly [K in ProblemKind]: (detail: string, extensions?: ProblemExtensions, headers?: Readonly<Record<string, string>>) => HttpProblem;
};

/** The answer to a paging cursor this API did not issue (or issued for another listing). */
export const invalidCursor = () =>
  problems.validation("The cursor is not one this API returned.", {
    errors: [{ field: "cursor", rule: "cursor", message: "must be the X-Next-Cursor of a previous page" }],
  });

/** The answer to anything that went wrong on our side (the error itself is logged, never returned). */
export const internalError = () => problems.internal("An unexpected error occurred; it has been logged.");

const RECEIVED_MAX = 80;

/** Renders a received value for an error message, bounded in length. */
export function describeReceived(value: unknown): string {
  let text: string;
  if (value === undefined) text = "undefined";
  else if (typeof value === "string") text = JSON.stringify(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > RECEIVED_MAX ? `${text.slice(0, RECEIVED_MAX)}… (${text.length} characters)` : text;
}
