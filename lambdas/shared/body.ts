import type { z } from "zod";
import { describeReceived, problems, type FieldViolation } from "./problems.ts";
import type { HttpRequest } from "./http.ts";
import { MAX_JSON_DEPTH, parseUntrustedJson } from "./json.ts";
import { CREDENTIAL_FIELDS } from "../domain/receiver-credential.ts";

/** Bodies of this API are small JSON documents; anything larger is refused before parsing. */
export const MAX_BODY_BYTES = 16 * 1024;
const MAX_VIOLATIONS = 20;

/**
 * Reads a JSON body: `application/json` (UTF-8) only, at most MAX_BODY_BYTES, well-formed.
 * Returns undefined for an absent optional body.
 */
export function readJsonBody(request: HttpRequest, options: { required: boolean }): unknown {
  if (request.body === undefined || request.body === "") {
    if (!options.required) return undefined;
    throw problems.bodyRequired("This request needs a JSON body.");
  }
  const contentType = request.headers["content-type"];
  const [mediaType = "", ...parameters] = (contentType ?? "").split(";").map((part) => part.trim().toLowerCase());
  const charset = parameters.find((p) => p.startsWith("charset="))?.slice("charset=".length).replace(/"/g, "");
  if (!(mediaType === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType))) {
    throw problems.unsupportedMediaType(
      `Send the body as application/json (received ${contentType === undefined ? "no Content-Type" : JSON.stringify(contentType)}).`,
    );
  }
  if (charset !== undefined && charset !== "utf-8") {
    throw problems.unsupportedMediaType(`JSON bodies must be UTF-8, not ${charset}.`);
  }
  const size = Buffer.byteLength(request.body, "utf8");
  if (size > MAX_BODY_BYTES) {
    throw problems.bodyTooLarge(`The body has ${size} bytes; this API accepts at most ${MAX_BODY_BYTES}.`);
  }
  const parsed = parseUntrustedJson(request.body);
  if (parsed.ok) return parsed.value;
  throw parsed.tooDeep
    ? problems.bodyTooDeep(`The body is ${parsed.reason}; this API accepts at most ${MAX_JSON_DEPTH}.`)
    : problems.malformedJson(`The body is ${parsed.reason}.`);
}

/** Validates against a schema; every violation is reported, field by field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const errors = violationsOf(result.error.issues);
  throw problems.validation(
    `The request breaks ${errors.length === 1 ? "a rule" : `${errors.length} rules`}: ${errors
      .slice(0, 3)
      .map((e) => `${e.field} ${e.message}`)
      .join("; ")}.`,
    { errors },
  );
}

/** Turns schema issues into the API's field-level violations (bounded in number and size). */
export function violationsOf(issues: readonly z.core.$ZodIssue[]): FieldViolation[] {
  const violations: FieldViolation[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        violations.push({ field: [...path, key].join("/"), rule: "unknownField", message: "is not a field of this request" });
      }
      continue;
    }
    const input = (issue as { input?: unknown }).input;
    // An absent field reaches the schema as undefined, whatever rule then trips over it.
    const missing = input === undefined && issue.code !== "custom";
    // What was sent as a credential is never echoed, whichever part of it broke a rule.
    const secret = path.some((key) => CREDENTIAL_FIELDS.has(key));
    const rule = missing
      ? "required"
      : issue.code === "custom"
        ? String((issue.params as { rule?: string } | undefined)?.rule ?? "custom")
        : issue.code;
    violations.push({
      field: path.length > 0 ? path.join("/") : "(body)",
      rule,
      message: missing ? "is required" : issue.message,
      ...(missing || secret ? {} : { received: describeReceived(input) }),
    });
  }
  return violations.slice(0, MAX_VIOLATIONS);
}
