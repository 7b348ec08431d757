/**
 * JSON from outside (API bodies, queue messages) is read here. Nesting is bounded before
 * parsing: a document of thousands of nested arrays parses, but whatever walks it afterwards
 * (validation, error rendering, JSON.stringify) recurses and overflows the stack a Lambda
 * function has. Errors never quote the input: node's parse errors do, and these texts reach
 * logs and dead-letter attributes, where payload data must not.
 */
export const MAX_JSON_DEPTH = 64;

export type JsonParse =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: string; readonly tooDeep: boolean };

export function parseUntrustedJson(text: string, maxDepth = MAX_JSON_DEPTH): JsonParse {
  const depth = nestingDepth(text, maxDepth);
  if (depth > maxDepth) return { ok: false, reason: `nested deeper than ${maxDepth} levels`, tooDeep: true };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    return { ok: false, reason: position === undefined ? "not valid JSON" : `not valid JSON (at character ${position})`, tooDeep: false };
  }
}

/** The deepest nesting of arrays and objects, counted up to just past `limit`, ignoring brackets inside strings. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      if (++depth > limit) return depth;
    } else if (code === 0x5d || code === 0x7d) depth--;
  }
  return depth;
}

/** Longest set-aside reason kept, in logs and in the dead letter's attribute. */
export const MAX_REASON_CHARACTERS = 1000;

/** What SQS refuses in a message or attribute: controls but tab/LF/CR, U+FFFE, U+FFFF. */
// oxlint-disable-next-line no-control-regex -- matching control characters is the point
const SQS_REFUSED = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/**
 * Text cut to at most `max` characters without splitting a surrogate pair, made valid UTF-8
 * (lone surrogates become U+FFFD) and free of what SQS refuses (as U+FFFD too): safe for a
 * log line or an SQS attribute.
 */
export function boundedText(text: string, max: number): string {
  const end = text.length <= max ? text.length : /[\uD800-\uDBFF]/.test(text.charAt(max - 2)) ? max - 2 : max - 1;
  const cut = end === text.length ? text : `${text.slice(0, end)}…`;
  return cut.toWellFormed().replace(SQS_REFUSED, "\uFFFD");
}
