import { describe, expect, it } from "vitest";
import { parseDuration, portalLinkRefusal, portalLinkUrl } from "../../lambdas/domain/portal-links.ts";
import { apiTokenHash, isPortalLinkToken, newApiToken, newPortalLinkToken, parseBearer } from "../../lambdas/domain/tokens.ts";

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

  it("tell portal links' tokens from API tokens by their prefix, and read both", () => {
    const link = newPortalLinkToken();
    expect(link).toMatch(/^fwl_[A-Za-z0-9_-]{43}$/);
    expect(isPortalLinkToken(link)).toBe(true);
    expect(isPortalLinkToken(newApiToken())).toBe(false);
    expect(parseBearer(`Bearer ${link}`)).toEqual({ ok: true, token: link });
  });

  it.each([
    [undefined, "missing"],
    ["", "missing"],
    ["Basic dXNlcjpwYXNz", "malformed"],
    ["Bearer", "malformed"],
    ["Bearer not-a-token", "malformed"],
    [`Bearer ${"fwt_" + "a".repeat(42)}`, "malformed"],
    [`Bearer ${"fwx_" + "a".repeat(43)}`, "malformed"],
  ])("reports %j as %s", (header, reason) => {
    expect(parseBearer(header)).toEqual({ ok: false, reason });
  });
});

describe("portal links", () => {
  it("read durations in seconds, minutes, hours and days", () => {
    expect([parseDuration("90s"), parseDuration("15m"), parseDuration("1h"), parseDuration("7d"), parseDuration("600")]).toEqual([90, 900, 3600, 604800, 600]);
    for (const bad of ["", "1w", "h", "-1h", "1.5h", "1 h 2"]) expect(parseDuration(bad)).toBeUndefined();
  });

  it("open the console at the API's base with the token in the fragment", () => {
    expect(portalLinkUrl("https://abc.execute-api.sa-east-1.amazonaws.com/", "fwl_x")).toBe("https://abc.execute-api.sa-east-1.amazonaws.com/console/#link=fwl_x");
  });

  it.each([
    ["token", "DELETE", false, false],
    ["link", "PATCH", true, false],
    ["link", "GET", false, true],
    ["read-only-link", "GET", true, false],
    ["read-only-link", "POST", true, true],
    ["read-only-link", "GET", false, true],
  ] as const)("%s %s (open to links: %s) is refused: %s", (access, method, open, refused) => {
    expect(portalLinkRefusal(access, method, open) !== undefined).toBe(refused);
  });
});
