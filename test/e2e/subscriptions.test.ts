import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEphemeralProduct, type ApiCall, type EphemeralProduct } from "../../lib/dev/ephemeral-product.ts";
import { problemOf } from "../support/product.ts";

const PORTAL = "/portal/api/ext/webhook";
const CAP = 5;
let env: EphemeralProduct;
let call: ApiCall;

beforeAll(async () => {
  env = await startEphemeralProduct({ maxSubscriptionsPerTenant: CAP });
  ({ call } = await env.newTenant("portal"));
});
afterAll(async () => env?.stop());

async function subscribe(api: ApiCall, evento: string, endpoint: string) {
  const response = await api("POST", PORTAL, { evento, endpoint });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: number; evento: string; endpoint: string };
}

describe("Portal Único subscriptions", () => {
  it("subscribes, lists, changes and deletes as the document shows", async () => {
    // The document's example, with its placeholder event replaced by a catalogue type.
    const created = await subscribe(call, "invoice.authorized", "https://endpoint_a_ser_notificado");
    // The document's fields, plus the endpoint's health (an addition).
    expect(created).toEqual({ id: expect.any(Number), evento: "invoice.authorized", endpoint: "https://endpoint_a_ser_notificado", situacao: { codigo: "ativa" } });
    expect(Number.isInteger(created.id) && created.id > 0 && String(created.id).length <= 10).toBe(true);

    const listed = await call("GET", PORTAL);
    expect(listed.status).toBe(200);
    expect(await listed.json()).toContainEqual(created);

    const changed = await call("PUT", `${PORTAL}/${created.id}`, {
      id: created.id,
      evento: "boleto.paid",
      endpoint: "https://erp.example.com/hooks/boleto",
    });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toEqual({ id: created.id, evento: "boleto.paid", endpoint: "https://erp.example.com/hooks/boleto", situacao: { codigo: "ativa" } });

    const deleted = await call("DELETE", `${PORTAL}/${created.id}`, { id: created.id });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe("");
    expect(((await (await call("GET", PORTAL)).json()) as { id: number }[]).map((s) => s.id)).not.toContain(created.id);
    await problemOf(await call("DELETE", `${PORTAL}/${created.id}`), 404);
    await problemOf(await call("PUT", `${PORTAL}/${created.id}`, { ...created }), 404);
  });

  it("refuses the document's placeholder event id, naming the field", async () => {
    const problem = await problemOf(await call("POST", PORTAL, { evento: "id_evento", endpoint: "https://x.example.com" }), 400);
    expect(problem["errors"]).toEqual([
      expect.objectContaining({ field: "evento", rule: "invalid_value", received: '"id_evento"' }),
    ]);
  });

  it("never reuses an id and answers a duplicate with 409 naming the existing one", async () => {
    const first = await subscribe(call, "cte.authorized", "https://dup.example.com/a");
    const duplicate = await problemOf(
      await call("POST", PORTAL, { evento: "cte.authorized", endpoint: "https://DUP.example.com:443/a" }),
      409,
    );
    expect(duplicate).toMatchObject({ existingId: first.id, detail: expect.stringContaining(String(first.id)) });
    await call("DELETE", `${PORTAL}/${first.id}`);
    const again = await subscribe(call, "cte.authorized", "https://dup.example.com/a");
    expect(again.id).toBeGreaterThan(first.id);
    await call("DELETE", `${PORTAL}/${again.id}`);
  });

  it("refuses a change that would duplicate another subscription, and keeps both intact", async () => {
    const a = await subscribe(call, "mdfe.closed", "https://a.example.com/");
    const b = await subscribe(call, "mdfe.closed", "https://b.example.com/");
    const problem = await problemOf(
      await call("PUT", `${PORTAL}/${b.id}`, { id: b.id, evento: "mdfe.closed", endpoint: "https://a.example.com/" }),
      409,
    );
    expect(problem["existingId"]).toBe(a.id);
    const list = (await (await call("GET", PORTAL)).json()) as unknown[];
    expect(list).toContainEqual(a);
    expect(list).toContainEqual(b);
    // Changing b to a key that frees its old one lets a new subscription take the old key.
    await call("PUT", `${PORTAL}/${b.id}`, { id: b.id, evento: "mdfe.closed", endpoint: "https://c.example.com/" });
    const reuse = await subscribe(call, "mdfe.closed", "https://b.example.com/");
    await Promise.all([a, b, reuse].map((s) => call("DELETE", `${PORTAL}/${s.id}`)));
  });

  it("caps a tenant's subscriptions at the configured limit", async () => {
    const { call: capped } = await env.newTenant("capped");
    for (let i = 0; i < CAP; i++) await subscribe(capped, "dfe.received", `https://cap.example.com/${i}`);
    const problem = await problemOf(await capped("POST", PORTAL, { evento: "dfe.received", endpoint: "https://cap.example.com/x" }), 409);
    expect(problem).toMatchObject({ limit: CAP, type: "urn:fiscal-webhooks:problem:subscription-limit" });
  });

  it("never goes above the cap, however many creates run at once", async () => {
    const { call: racing } = await env.newTenant("racing");
    const statuses = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => (await racing("POST", PORTAL, { evento: "dfe.received", endpoint: `https://race.example.com/${i}` })).status),
    );
    expect(statuses.filter((status) => status === 201)).toHaveLength(CAP);
    expect(statuses.filter((status) => status !== 201).every((status) => status === 409)).toBe(true);
    expect((await (await racing("GET", PORTAL)).json()) as unknown[]).toHaveLength(CAP);
  });
});

describe("Portal Único request rules", () => {
  const badBodies: [string, unknown, string, string][] = [
    ["missing evento", { endpoint: "https://x.example.com" }, "evento", "required"],
    ["missing endpoint", { evento: "boleto.paid" }, "endpoint", "required"],
    ["evento of the wrong type", { evento: 5, endpoint: "https://x.example.com" }, "evento", "invalid_value"],
    ["empty evento", { evento: "", endpoint: "https://x.example.com" }, "evento", "invalid_value"],
    ["evento with whitespace", { evento: " boleto.paid", endpoint: "https://x.example.com" }, "evento", "invalid_value"],
    ["empty endpoint", { evento: "boleto.paid", endpoint: "" }, "endpoint", "required"],
    ["http endpoint", { evento: "boleto.paid", endpoint: "http://x.example.com" }, "endpoint", "https"],
    ["endpoint with credentials", { evento: "boleto.paid", endpoint: "https://u:p@x.example.com" }, "endpoint", "credentials"],
    ["endpoint with fragment", { evento: "boleto.paid", endpoint: "https://x.example.com/#a" }, "endpoint", "fragment"],
    ["endpoint with a zero-width space", { evento: "boleto.paid", endpoint: "https://x\u200b.example.com" }, "endpoint", "ascii"],
    ["endpoint with right-to-left override", { evento: "boleto.paid", endpoint: "https://x.example.com/\u202egpj" }, "endpoint", "ascii"],
    ["endpoint to a private address", { evento: "boleto.paid", endpoint: "https://10.1.2.3/hook" }, "endpoint", "publicAddress"],
    ["endpoint to cloud metadata", { evento: "boleto.paid", endpoint: "https://169.254.169.254/" }, "endpoint", "publicAddress"],
    ["endpoint over 500 characters", { evento: "boleto.paid", endpoint: `https://x.example.com/${"a".repeat(480)}` }, "endpoint", "maxLength"],
    ["unknown field", { evento: "boleto.paid", endpoint: "https://x.example.com", extra: true }, "extra", "unknownField"],
    ["an array body", [1, 2], "(body)", "invalid_type"],
  ];

  it.each(badBodies)("POST with %s is a 400 naming the field", async (_name, body, field, rule) => {
    const problem = await problemOf(await call("POST", PORTAL, body), 400);
    expect(problem["errors"]).toContainEqual(expect.objectContaining({ field, rule }));
  });

  it("answers malformed JSON, a wrong media type, an oversized body and no body with specific problems", async () => {
    expect((await problemOf(await call("POST", PORTAL, "{evento:"), 400))["type"]).toBe("urn:fiscal-webhooks:problem:malformed-json");
    await problemOf(await call("POST", PORTAL, "evento=x", { "content-type": "application/x-www-form-urlencoded" }), 415);
    await problemOf(await call("POST", PORTAL, '{"a":1}', { "content-type": "text/plain" }), 415);
    await problemOf(await call("POST", PORTAL, { evento: "boleto.paid", endpoint: `https://x.example.com/${"a".repeat(20_000)}` }), 413);
    expect((await problemOf(await call("POST", PORTAL), 400))["type"]).toBe("urn:fiscal-webhooks:problem:body-required");
  });

  it.each([
    ["11 digits", "12345678901"],
    ["a negative id", "-1"],
    ["zero", "0"],
    ["a decimal", "1.5"],
    ["leading zeros", "007"],
    ["letters", "abc"],
  ])("refuses a path id with %s", async (_name, id) => {
    const put = await problemOf(
      await call("PUT", `${PORTAL}/${id}`, { id: 1, evento: "boleto.paid", endpoint: "https://x.example.com" }),
      400,
    );
    expect(put["errors"]).toContainEqual(expect.objectContaining({ field: "id (path)" }));
    await problemOf(await call("DELETE", `${PORTAL}/${id}`), 400);
  });

  it("refuses a body id that disagrees with the path, or breaks Number(10)", async () => {
    const created = await subscribe(call, "cte.cce", "https://ids.example.com");
    const mismatch = await problemOf(
      await call("PUT", `${PORTAL}/${created.id}`, { id: created.id + 1, evento: "cte.cce", endpoint: "https://ids.example.com" }),
      400,
    );
    expect(mismatch["errors"]).toContainEqual(expect.objectContaining({ field: "id", rule: "matchesPath" }));
    await problemOf(await call("DELETE", `${PORTAL}/${created.id}`, { id: created.id + 1 }), 400);
    for (const id of [12345678901, -3, 1.5, "7"]) {
      const problem = await problemOf(await call("DELETE", `${PORTAL}/${created.id}`, { id }), 400);
      expect(problem["errors"]).toContainEqual(expect.objectContaining({ field: "id" }));
    }
    expect((await call("DELETE", `${PORTAL}/${created.id}`)).status).toBe(204);
  });
});
