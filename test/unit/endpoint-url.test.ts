import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkEndpointUrl } from "../../lambdas/domain/endpoint-url.ts";

const deployed = { allowLoopback: false };
const local = { allowLoopback: true };

describe("webhook endpoint URLs", () => {
  it.each([
    "https://api.suaempresa.com/webhooks",
    "https://xn--caf-dma.com.br/hook?x=1",
    "https://8.8.8.8:8443/x",
    "https://[2606:4700:4700::1111]/x",
  ])("accepts %s", (url) => {
    expect(checkEndpointUrl(url, deployed)).toMatchObject({ ok: true });
  });

  it.each([
    ["", "required"],
    ["http://api.suaempresa.com/webhooks", "https"],
    ["ftp://x.com/", "https"],
    ["api.suaempresa.com/webhooks", "url"],
    ["https://user:pass@x.com/", "credentials"],
    ["https://x.com/#frag", "fragment"],
    ["https://x.com/a b", "whitespace"],
    [" https://x.com/", "whitespace"],
    ["https://x.com/\u0000", "ascii"],
    ["https://café.com/", "ascii"],
    ["https://x.com\u200b.evil.com/", "ascii"],
    ["https://xn--80ak6aa92e.com\u202e/", "ascii"],
    ["https://ｅxample.com/", "ascii"],
    ["https://10.0.0.5/hook", "publicAddress"],
    ["https://169.254.169.254/latest/meta-data", "publicAddress"],
    ["https://[::ffff:127.0.0.1]/", "publicAddress"],
    ["https://localhost/", "publicAddress"],
    ["https://0x7f000001/", "publicAddress"],
    [`https://x.com/${"a".repeat(490)}`, "maxLength"],
  ])("refuses %j (%s)", (url, rule) => {
    expect(checkEndpointUrl(url, deployed)).toMatchObject({ ok: false, rule });
  });

  it("accepts loopback only where the local runtime allows it", () => {
    expect(checkEndpointUrl("https://127.0.0.1:8443/hook", local)).toMatchObject({ ok: true });
    expect(checkEndpointUrl("https://localhost:8443/hook", local)).toMatchObject({ ok: true });
    expect(checkEndpointUrl("https://10.0.0.1/hook", local)).toMatchObject({ ok: false, rule: "publicAddress" });
  });

  it("normalizes for duplicate detection", () => {
    expect(checkEndpointUrl("https://API.Example.com:443/a/../b", deployed)).toEqual({
      ok: true,
      normalized: "https://api.example.com/b",
    });
  });

  it("never throws, whatever the input", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), (text) => {
        const result = checkEndpointUrl(text, deployed);
        expect(typeof result.ok).toBe("boolean");
      }),
      { numRuns: 500 },
    );
  });
});
