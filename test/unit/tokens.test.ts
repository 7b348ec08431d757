import { describe, expect, it } from "vitest";
import { apiTokenHash, newApiToken, parseBearer } from "../../lambdas/domain/tokens.ts";

describe("API tokens", () => {
  it("are random, prefixed and hashed with SHA-256", () => {
    const a = newApiToken();
    const b = newApiToken();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^fwt_[A-Za-z0-9_-]{43}$/);
    expect(apiTokenHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(apiTokenHash(a)).not.toContain(a.slice(4));
  });

  it("are read from a Bearer header, case-insensitively", () => {
    const token = newApiToken();
    expect(parseBearer(`Bearer ${token}`)).toEqual({ ok: true, token });
    expect(parseBearer(`bearer ${token}`)).toEqual({ ok: true, token });
  });

  it.each([
    [undefined, "missing"],
    ["", "missing"],
    ["Basic dXNlcjpwYXNz", "malformed"],
    ["Bearer", "malformed"],
    ["Bearer not-a-token", "malformed"],
    [`Bearer ${"fwt_" + "a".repeat(42)}`, "malformed"],
  ])("reports %j as %s", (header, reason) => {
    expect(parseBearer(header)).toEqual({ ok: false, reason });
  });
});
