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

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Problem type URIs are URNs: stable identifiers that need no documentation host. */
export function problemType(slug: string): string {
  return `urn:fiscal-webhooks:problem:${slug}`;
}

export class HttpProblem extends Error {
  readonly problem: ProblemDetails;

  constructor(status: number, slug: string, title: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(detail);
    this.name = "HttpProblem";
    this.problem = { type: problemType(slug), title, status, detail, ...extensions };
  }
}

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

/** The answer to a paging cursor this API did not issue (or issued for another listing). */
export function invalidCursor(): HttpProblem {
  return new HttpProblem(400, "validation", "Invalid Request", "The cursor is not one this API returned.", {
    errors: [{ field: "cursor", rule: "cursor", message: "must be the X-Next-Cursor of a previous page" }],
  });
}
