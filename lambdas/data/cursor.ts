import { createHash } from "node:crypto";
import { parseUntrustedJson } from "../shared/json.ts";
import type { Item } from "./table.ts";

/**
 * What a paging cursor is bound to: the listing that issued it, the key attributes the
 * caller fixes (its partition, so never read from a cursor) and the key attributes the
 * cursor carries (its position), each with the shape it must have.
 */
export interface CursorBinding {
  readonly listing: string;
  readonly scope: Readonly<Record<string, string>>;
  readonly position: Readonly<Record<string, RegExp>>;
}

export class InvalidCursorError extends Error {
  constructor() {
    super("the cursor is not one this API returned");
    this.name = "InvalidCursorError";
  }
}

/**
 * Cursors are `<position>.<check>`: the position values in base64url JSON and a digest over
 * them, the listing and its scope. The digest is no secret (the code is public): it catches
 * garbled cursors and ones issued for another listing or partition; the position shapes
 * keep even a forged cursor within the caller's partition and the table's key syntax.
 */
export function encodeCursor(binding: CursorBinding, lastKey: Item): string {
  const payload = Buffer.from(JSON.stringify(Object.keys(binding.position).map((name) => lastKey[name])), "utf8").toString("base64url");
  return `${payload}.${check(binding, payload)}`;
}

/** The key to start after; throws InvalidCursorError for anything `encodeCursor` did not make for this binding. */
export function decodeCursor(binding: CursorBinding, cursor: string): Item {
  const [payload = "", tag, ...rest] = cursor.split(".");
  if (rest.length > 0 || tag !== check(binding, payload)) throw new InvalidCursorError();
  const values = parsed(payload);
  const shapes = Object.entries(binding.position);
  if (!Array.isArray(values) || values.length !== shapes.length) throw new InvalidCursorError();
  const start: Record<string, string> = { ...binding.scope };
  for (const [index, [name, shape]] of shapes.entries()) {
    const value: unknown = values[index];
    if (typeof value !== "string" || !shape.test(value)) throw new InvalidCursorError();
    start[name] = value;
  }
  return start;
}

function parsed(payload: string): unknown {
  const json = parseUntrustedJson(Buffer.from(payload, "base64url").toString("utf8"));
  if (!json.ok) throw new InvalidCursorError();
  return json.value;
}

function check(binding: CursorBinding, payload: string): string {
  return createHash("sha256")
    .update(JSON.stringify([binding.listing, Object.entries(binding.scope).sort(), payload]))
    .digest("base64url")
    .slice(0, 16);
}
