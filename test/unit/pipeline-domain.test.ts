import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { brazilDate, brazilMillisOfDay, parseBrazilDate } from "../../lambdas/domain/brazil-date.ts";
import { deliveryIdFor, deliveryTargets, parseFiscalEvent } from "../../lambdas/domain/fiscal-event.ts";
import { webhookEnvelope } from "../../lambdas/domain/webhook-message.ts";
import { MAX_RETRY_AFTER_SECONDS, nextRetryDelay } from "../../lambdas/domain/retry-schedule.ts";

const TENANT = "ten_0123456789abcdef0123";

describe("Brazilian dates", () => {
  it("files an instant under Brazil's civil date, not UTC's, across midnight", () => {
    // 02:30 UTC on the 18th is still 23:30 of the 17th in São Paulo (UTC-3).
    expect(brazilDate(new Date("2018-09-18T02:30:00Z"))).toBe("17092018");
    expect(brazilDate(new Date("2018-09-18T03:00:00Z"))).toBe("18092018");
    expect(brazilMillisOfDay(new Date("2018-09-18T02:30:00.123Z"))).toBe((23 * 3600 + 30 * 60) * 1000 + 123);
  });

  it("reads the Portal's date as a string or as a number that lost its leading zero", () => {
    expect(parseBrazilDate("17092018")).toBe("17092018");
    expect(parseBrazilDate(17092018)).toBe("17092018");
    expect(parseBrazilDate(1012024)).toBe("01012024");
    expect(parseBrazilDate("29022024")).toBe("29022024");
  });

  it.each([["31022024"], ["29022023"], ["00012024"], ["01132024"], ["1709201"], ["17-09-2018"], [17.5], [null], [-1]])(
    "refuses %j",
    (value) => {
      expect(parseBrazilDate(value)).toBeUndefined();
    },
  );
});

describe("the event contract", () => {
  const at = new Date("2026-11-24T12:00:00Z");
  it("accepts a minimal event and names it by the queue message when the producer gives no id", () => {
    const parse = parseFiscalEvent(JSON.stringify({ tenantId: TENANT, type: "boleto.paid", data: {} }), "msg-1", at);
    expect(parse).toEqual({
      ok: true,
      event: { tenantId: TENANT, type: "boleto.paid", id: "msg-1", idFromProducer: false, createdAt: at.toISOString(), data: {} },
    });
  });

  it.each([
    ["{", /not JSON/],
    [JSON.stringify({ tenantId: TENANT, type: "boleto.paid" }), /data must be a JSON object/],
    [JSON.stringify({ tenantId: TENANT, type: "boleto.paid", data: [] }), /data must be a JSON object/],
    [JSON.stringify({ tenantId: "acme", type: "boleto.paid", data: {} }), /tenantId must be a tenant id/],
    [JSON.stringify({ tenantId: TENANT, type: "nfe", data: {} }), /type must be one of/],
    [JSON.stringify({ tenantId: TENANT, type: "boleto.paid", data: {}, occurredAt: "yesterday" }), /occurredAt must be an ISO-8601/],
    [JSON.stringify({ tenantId: TENANT, type: "boleto.paid", data: {}, extra: 1 }), /unknown field\(s\) extra/],
  ])("refuses %s with its reason", (body, reason) => {
    const parse = parseFiscalEvent(body, "m", at);
    expect(parse.ok).toBe(false);
    expect(parse.ok ? "" : parse.reason).toMatch(reason);
  });

  it("gives stable, distinct, UUID-shaped delivery ids per (tenant, event, endpoint)", () => {
    fc.assert(
      fc.property(fc.string(), fc.webUrl(), fc.webUrl(), (eventId, a, b) => {
        const id = deliveryIdFor(TENANT, eventId, a);
        expect(id).toBe(deliveryIdFor(TENANT, eventId, a));
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        if (a !== b) expect(deliveryIdFor(TENANT, eventId, b)).not.toBe(id);
      }),
    );
  });

  it("builds the body from id, type, createdAt and data", () => {
    const parse = parseFiscalEvent(JSON.stringify({ tenantId: TENANT, type: "cte.cce", id: "e1", occurredAt: "2026-01-01T00:00:00-03:00", data: { a: 1 } }), "m", at);
    if (!parse.ok) throw new Error(parse.reason);
    expect(webhookEnvelope(parse.event)).toBe('{"id":"e1","type":"cte.cce","createdAt":"2026-01-01T03:00:00.000Z","data":{"a":1}}');
  });

  it("targets each subscribed URL once, plus the account webhook when it lists the type", () => {
    const subs = (...endpoints: string[]) => endpoints.map((endpoint, i) => ({ id: i + 1, endpoint }));
    const urls = (targets: { url: string }[]) => targets.map((target) => target.url);
    expect(urls(deliveryTargets("boleto.paid", subs("https://a/", "https://a/", "https://b/"), { webhookUrl: "https://c/", events: ["boleto.paid"] }))).toEqual([
      "https://a/",
      "https://b/",
      "https://c/",
    ]);
    expect(urls(deliveryTargets("boleto.paid", subs("https://a/"), { webhookUrl: "https://a/", events: ["boleto.paid"] }))).toEqual(["https://a/"]);
    expect(deliveryTargets("boleto.paid", [], { webhookUrl: "https://c/", events: ["cte.cce"] })).toEqual([]);
  });

  it("refers each target to its credential: the subscription's first, the config's when the subscription has none", () => {
    const basic = { type: "basic", username: "u", password: "p" };
    const config = (authentication?: unknown) => ({ webhookUrl: "https://a/", events: ["boleto.paid"], authentication });
    // Nobody has a credential: no reference at all (the message stays as it was).
    expect(deliveryTargets("boleto.paid", [{ id: 1, endpoint: "https://a/" }], config())).toEqual([{ url: "https://a/" }]);
    expect(deliveryTargets("boleto.paid", [{ id: 7, endpoint: "https://a/", authentication: basic }], config(basic))).toEqual([
      { url: "https://a/", credential: { subscription: 7 } },
    ]);
    expect(deliveryTargets("boleto.paid", [{ id: 7, endpoint: "https://a/" }], config(basic))).toEqual([{ url: "https://a/", credential: { config: true } }]);
    expect(deliveryTargets("boleto.paid", [{ id: 7, endpoint: "https://b/", authentication: basic }], config(basic))).toEqual([
      { url: "https://b/", credential: { subscription: 7 } },
      { url: "https://a/", credential: { config: true } },
    ]);
    // The config's credential only goes with the config's own deliveries.
    expect(deliveryTargets("cte.cce", [{ id: 7, endpoint: "https://a/" }], config(basic))).toEqual([{ url: "https://a/" }]);
  });

  it("holds a URL that several targets name to the smallest rate limit any of them sets", () => {
    const targets = deliveryTargets(
      "boleto.paid",
      [
        { id: 1, endpoint: "https://a/", maxPorSegundo: 20 },
        { id: 2, endpoint: "https://a/" },
        { id: 3, endpoint: "https://a/", maxPorSegundo: 7 },
        { id: 4, endpoint: "https://b/" },
        { id: 5, endpoint: "https://c/", maxPorSegundo: 50 },
      ],
      { webhookUrl: "https://c/", events: ["boleto.paid"], maxPerSecond: 9 },
    );
    expect(targets).toEqual([{ url: "https://a/", maxPerSecond: 7 }, { url: "https://b/" }, { url: "https://c/", maxPerSecond: 9 }]);
    // The config's limit applies only when it receives the type.
    expect(deliveryTargets("boleto.paid", [{ id: 1, endpoint: "https://c/" }], { webhookUrl: "https://c/", events: [], maxPerSecond: 9 })).toEqual([{ url: "https://c/" }]);
  });
});

describe("retry delays", () => {
  const schedule = [0, 5, 300, 1800];
  it("follows the schedule after each failed attempt, then stops", () => {
    const noJitter = () => 0;
    expect(nextRetryDelay(schedule, 1, undefined, noJitter)).toBe(5);
    expect(nextRetryDelay(schedule, 2, undefined, noJitter)).toBe(300);
    expect(nextRetryDelay(schedule, 3, undefined, noJitter)).toBe(1800);
    expect(nextRetryDelay(schedule, 4, undefined, noJitter)).toBeUndefined();
  });

  it("lets Retry-After lengthen a wait up to an hour, never shorten it", () => {
    const noJitter = () => 0;
    expect(nextRetryDelay(schedule, 1, 120, noJitter)).toBe(120);
    expect(nextRetryDelay(schedule, 2, 1, noJitter)).toBe(300);
    expect(nextRetryDelay(schedule, 1, 999_999, noJitter)).toBe(MAX_RETRY_AFTER_SECONDS);
  });

  it("adds at most 20 % jitter", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.999_999, noNaN: true }), (r) => {
        const delay = nextRetryDelay(schedule, 2, undefined, () => r) ?? -1;
        expect(delay).toBeGreaterThanOrEqual(300);
        expect(delay).toBeLessThanOrEqual(360);
      }),
    );
  });
});

describe("SQS batches", () => {
  it("hold at most ten messages and 1 MiB, in order, each message once", async () => {
    const { batchesOf, messageSize } = await import("../../lib/aws/sqs-batch.ts");
    const big = (id: string) => ({ id, body: "x".repeat(120 * 1024) });
    const batches = batchesOf([...Array.from({ length: 12 }, (_, i) => big(`b${i}`)), ...Array.from({ length: 15 }, (_, i) => ({ id: `s${i}`, body: "{}" }))], messageSize);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(10);
      expect(batch.reduce((sum, m) => sum + Buffer.byteLength(m.body), 0)).toBeLessThanOrEqual(1024 * 1024);
    }
    expect(batches.flat().map((m) => m.id)).toEqual([...Array.from({ length: 12 }, (_, i) => `b${i}`), ...Array.from({ length: 15 }, (_, i) => `s${i}`)]);
  });
});
