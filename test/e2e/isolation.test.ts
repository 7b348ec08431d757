import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../lambdas/domain/catalogue.ts";
import { startEphemeralProduct, type ApiCall, type EphemeralProduct } from "../../lib/dev/ephemeral-product.ts";
import { problemOf } from "../support/product.ts";

const PORTAL = "/portal/api/ext/webhook";
let env: EphemeralProduct;
let alice: ApiCall;
let mallory: ApiCall;
let aliceSubscription: { id: number; evento: string; endpoint: string };
let aliceConfig: unknown;

const snapshot = async (api: ApiCall) => ({
  subscriptions: await (await api("GET", PORTAL)).json(),
  config: await (await api("GET", "/webhooks/config")).json(),
});

beforeAll(async () => {
  env = await startEphemeralProduct();
  ({ call: alice } = await env.newTenant("alice"));
  ({ call: mallory } = await env.newTenant("mallory"));
  aliceSubscription = (await (await alice("POST", PORTAL, { evento: "invoice.authorized", endpoint: "https://alice.example.com/h" })).json()) as typeof aliceSubscription;
  await alice("PATCH", "/webhooks/config", { webhookUrl: "https://alice.example.com/all", events: ["boleto.paid"] });
  aliceConfig = await (await alice("GET", "/webhooks/config")).json();
});
afterAll(async () => env?.stop());

describe("tenant isolation", () => {
  it("hides another tenant's subscriptions and answers 404 for their ids on every route", async () => {
    expect(await (await mallory("GET", PORTAL)).json()).toEqual([]);
    const { id } = aliceSubscription;
    await problemOf(await mallory("PUT", `${PORTAL}/${id}`, { id, evento: "boleto.paid", endpoint: "https://evil.example.com" }), 404);
    await problemOf(await mallory("DELETE", `${PORTAL}/${id}`), 404);
    await problemOf(await mallory("DELETE", `${PORTAL}/${id}`, { id }), 404);
    // The same (event, endpoint) is free for another tenant: uniqueness is per tenant.
    expect((await mallory("POST", PORTAL, { evento: "invoice.authorized", endpoint: "https://alice.example.com/h" })).status).toBe(201);
  });

  it("keeps each tenant's configuration and secret to itself", async () => {
    await problemOf(await mallory("GET", "/webhooks/config"), 404);
    const created = (await (await mallory("PATCH", "/webhooks/config", { webhookUrl: "https://m.example.com/h" })).json()) as {
      webhookSecret: string;
    };
    await mallory("POST", "/webhooks/secret/regenerate");
    expect(await (await alice("GET", "/webhooks/config")).json()).toEqual(aliceConfig);
    expect((aliceConfig as { webhookSecret: string }).webhookSecret).not.toBe(
      `whsec_${created.webhookSecret.slice(6, 8)}...${created.webhookSecret.slice(-3, -1)}`,
    );
  });

  it("never answers a 5xx and never changes another tenant's data, whatever the request", async () => {
    const before = await snapshot(alice);
    const idInPath = fc.oneof(
      fc.constant(String(aliceSubscription.id)),
      fc.integer({ min: -5, max: 2 ** 40 }).map(String),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
    const field = fc.oneof(
      fc.constantFrom(...EVENT_TYPES),
      fc.string({ maxLength: 50 }),
      fc.webUrl(),
      fc.constantFrom("https://10.0.0.1/", "https://[::1]/", "https://a\u202e.com", "https://x.example.com/#f"),
      fc.integer(),
      fc.constant(null),
    );
    const body = fc.oneof(
      fc.record({ evento: field, endpoint: field }, { requiredKeys: [] }),
      fc.record({ id: fc.oneof(fc.constant(aliceSubscription.id), fc.integer(), fc.double()), evento: field, endpoint: field }, { requiredKeys: [] }),
      fc.record({ webhookUrl: field, events: fc.array(field, { maxLength: 15 }) }, { requiredKeys: [] }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
    );
    const request = fc.oneof(
      fc.record({ method: fc.constantFrom("POST", "GET"), path: fc.constant(PORTAL), body }),
      fc.record({ method: fc.constantFrom("PUT", "DELETE"), path: idInPath.map((id) => `${PORTAL}/${id}`), body }),
      fc.record({ method: fc.constantFrom("PATCH", "GET"), path: fc.constant("/webhooks/config"), body }),
      fc.record({ method: fc.constant("POST"), path: fc.constant("/webhooks/secret/regenerate"), body }),
    );
    await fc.assert(
      fc.asyncProperty(request, fc.constantFrom("application/json", "text/plain", "application/json; charset=latin1"), async (r, type) => {
        const response = await mallory(r.method, r.path, r.method === "GET" ? undefined : r.body, { "content-type": type });
        expect(response.status, `${r.method} ${r.path} ${JSON.stringify(r.body)} → ${await response.clone().text()}`).toBeLessThan(500);
        await response.arrayBuffer();
      }),
      { numRuns: 150 },
    );
    expect(await snapshot(alice)).toEqual(before);
  });
});
