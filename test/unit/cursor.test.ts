import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, InvalidCursorError, type CursorBinding } from "../../lambdas/data/cursor.ts";

const logs = (tenant: string): CursorBinding => ({ listing: "logs", scope: { pk: `TENANT#${tenant}` }, position: { sk: /^LOG#\d+$/ } });

describe("the paging cursor codec", () => {
  it("gives back the key to start after: the scope from the caller, the position from the cursor", () => {
    const cursor = encodeCursor(logs("a"), { pk: "TENANT#a", sk: "LOG#42", other: "not carried" });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(decodeCursor(logs("a"), cursor)).toEqual({ pk: "TENANT#a", sk: "LOG#42" });
  });

  it("refuses cursors of another listing or partition, retouched or garbled ones", () => {
    const cursor = encodeCursor(logs("a"), { pk: "TENANT#a", sk: "LOG#42" });
    const [payload = "", check = ""] = cursor.split(".");
    for (const [binding, refused] of [
      [logs("b"), cursor],
      [{ ...logs("a"), listing: "dlq" }, cursor],
      [logs("a"), `${Buffer.from(`["LOG#43"]`).toString("base64url")}.${check}`],
      [logs("a"), payload],
      [logs("a"), `${cursor}.x`],
      [logs("a"), ""],
      [logs("a"), "bogus"],
    ] as const) {
      expect(() => decodeCursor(binding, refused)).toThrow(InvalidCursorError);
    }
  });

  it("refuses a well-checked cursor whose position does not have the listing's shape", () => {
    // The check is no secret, so a forged cursor passes it; the shapes still stop it.
    const binding = logs("a");
    const forged = (values: unknown) => {
      const payload = Buffer.from(JSON.stringify(values)).toString("base64url");
      const check = createHash("sha256").update(JSON.stringify([binding.listing, Object.entries(binding.scope).sort(), payload])).digest("base64url").slice(0, 16);
      return `${payload}.${check}`;
    };
    expect(decodeCursor(binding, forged(["LOG#7"]))).toEqual({ pk: "TENANT#a", sk: "LOG#7" });
    for (const values of [["SUB#1"], [""], [7], ["LOG#7", "LOG#8"], {}]) {
      expect(() => decodeCursor(binding, forged(values))).toThrow(InvalidCursorError);
    }
  });
});
