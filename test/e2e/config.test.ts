import { readFileSync } from "node:fs";
import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_ROUTES } from "../../lambdas/contract/routes.ts";
import { OPENAPI_FILE } from "../../lib/openapi-file.ts";
import { startEphemeralProduct, type EphemeralProduct } from "../../lib/dev/ephemeral-product.ts";
import { problemOf } from "../support/product.ts";

let env: EphemeralProduct;
beforeAll(async () => {
  env = await startEphemeralProduct();
});
afterAll(async () => env?.stop());

const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/;
const MASKED = /^whsec_[A-Za-z0-9+/]{2}\.\.\.[A-Za-z0-9+/]{2}$/;
const maskOf = (secret: string) => `whsec_${secret.slice(6, 8)}...${secret.slice(-3, -1)}`;

describe("account webhook configuration", () => {
  it("is 404 problem+json until the first PATCH, which creates it and shows the secret once", async () => {
    const { call } = await env.newTenant("config");
    const missing = await problemOf(await call("GET", "/webhooks/config"), 404);
    expect(missing["detail"]).toMatch(/PATCH \/webhooks\/config/);

    // The document's example request, as written.
    const created = await call("PATCH", "/webhooks/config", {
      webhookUrl: "https://api.suaempresa.com/webhooks",
      events: ["invoice.authorized", "invoice.rejected", "boleto.paid"],
    });
    expect(created.status).toBe(200);
    expect(created.headers.get("cache-control")).toBe("no-store");
    const first = (await created.json()) as { webhookUrl: string; webhookSecret: string; events: string[] };
    expect(first).toEqual({
      webhookUrl: "https://api.suaempresa.com/webhooks",
      webhookSecret: expect.stringMatching(SECRET),
      events: ["invoice.authorized", "invoice.rejected", "boleto.paid"],
      status: { state: "enabled" },
    });
    expect(Buffer.from(first.webhookSecret.slice(6), "base64")).toHaveLength(32);

    const got = (await (await call("GET", "/webhooks/config")).json()) as Record<string, unknown>;
    expect(got).toEqual({ ...first, webhookSecret: maskOf(first.webhookSecret) });
    expect(got["webhookSecret"]).toMatch(MASKED);

    const patched = await call("PATCH", "/webhooks/config", { events: ["invoice.authorized"] });
    expect(patched.headers.get("cache-control")).toBeNull();
    expect(await patched.json()).toEqual({
      webhookUrl: "https://api.suaempresa.com/webhooks",
      webhookSecret: maskOf(first.webhookSecret),
      events: ["invoice.authorized"],
      status: { state: "enabled" },
    });
  });

  it("issues secrets that work as the snippet's HMAC key and as a Standard Webhooks secret", async () => {
    const { call } = await env.newTenant("keys");
    const { webhookSecret } = (await (await call("POST", "/webhooks/secret/regenerate")).json()) as { webhookSecret: string };
    expect(webhookSecret).toMatch(SECRET);
    const payload = '{"id":"1","type":"invoice.authorized"}';
    expect(createHmac("sha256", webhookSecret).update(payload).digest("hex")).toMatch(/^[0-9a-f]{64}$/);
    const webhook = new Webhook(webhookSecret);
    const timestamp = new Date();
    const signature = webhook.sign("msg_1", timestamp, payload);
    expect(webhook.verify(payload, { "webhook-id": "msg_1", "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)), "webhook-signature": signature })).toBeTruthy();
  });

  it("regenerates the secret: a new one, shown in full once, and the masked one follows it", async () => {
    const { call } = await env.newTenant("rotate");
    const first = (await (await call("PATCH", "/webhooks/config", { webhookUrl: "https://r.example.com/h" })).json()) as {
      webhookSecret: string;
      events: string[];
    };
    expect(first.events).toEqual([]);
    const response = await call("POST", "/webhooks/secret/regenerate");
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const { webhookSecret } = (await response.json()) as { webhookSecret: string };
    expect(webhookSecret).toMatch(SECRET);
    expect(webhookSecret).not.toBe(first.webhookSecret);
    const got = (await (await call("GET", "/webhooks/config")).json()) as { webhookSecret: string };
    expect(got.webhookSecret).toBe(maskOf(webhookSecret));
  });

  it("applies the URL and event rules", async () => {
    const { call } = await env.newTenant("rules");
    const noUrl = await problemOf(await call("PATCH", "/webhooks/config", { events: ["boleto.paid"] }), 400);
    expect(noUrl["errors"]).toEqual([expect.objectContaining({ field: "webhookUrl", rule: "required" })]);
    const empty = await problemOf(await call("PATCH", "/webhooks/config", {}), 400);
    expect(empty["errors"]).toEqual([expect.objectContaining({ rule: "minProperties" })]);
    const cases: [unknown, string, string][] = [
      [{ webhookUrl: "http://x.example.com" }, "webhookUrl", "https"],
      [{ webhookUrl: "https://x.example.com", events: ["nfe.magic"] }, "events/0", "invalid_value"],
      [{ webhookUrl: "https://x.example.com", events: ["boleto.paid", "boleto.paid"] }, "events/1", "unique"],
      [{ webhookUrl: "https://x.example.com", events: "boleto.paid" }, "events", "invalid_type"],
      [{ webhookUrl: "https://x.example.com", webhookSecret: "whsec_mine" }, "webhookSecret", "unknownField"],
      [{ webhookUrl: null }, "webhookUrl", "invalid_type"],
    ];
    for (const [body, field, rule] of cases) {
      const problem = await problemOf(await call("PATCH", "/webhooks/config", body), 400);
      expect(problem["errors"]).toContainEqual(expect.objectContaining({ field, rule }));
    }
    await problemOf(await call("GET", "/webhooks/config"), 404);
  });
});

describe("the OpenAPI document", () => {
  it("is served without a token, matches the checked-in file and documents every route", async () => {
    const response = await fetch(`${env.product.apiUrl}/openapi.json`);
    expect(response.status).toBe(200);
    const served = (await response.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(served).toEqual(JSON.parse(readFileSync(OPENAPI_FILE, "utf8")));
    expect(served.openapi).toBe("3.1.0");
    for (const route of API_ROUTES) expect(served.paths[route.path]?.[route.method.toLowerCase()]).toBeDefined();
    // The web console's routes serve a page and its files, not the API.
    expect(Object.keys(served.paths).filter((documented) => documented.startsWith("/console"))).toEqual([]);
  });
});
