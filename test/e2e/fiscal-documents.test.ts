import { describe, expect, it } from "vitest";
import { answer, verifyBoth, type HttpsReceiver } from "../../lib/dev/https-receiver.ts";
import type { ApiCall } from "../../lib/dev/ephemeral-product.ts";
import { eventually } from "../support/eventually.ts";
import { CTE, NFE, NFE_ALPHANUMERIC } from "../support/documents.ts";
import { PORTAL, pipelineFixture } from "../support/pipeline.ts";
import { problemOf } from "../support/product.ts";

const fixture = pipelineFixture({ retrySchedule: [0, 1, 1] });
const { receiver, tenantWith, emit } = fixture;

/** Two companies, one with branches: 11.222.333/0001-81 and its branch /0002-62; 12.ABC.345/01DE-35 (alphanumeric) and its branch /0001-88; 11.444.777/0001-61 unrelated. */
const ACME = "11222333000181";
const ACME_BRANCH = "11222333000262";
const ALFA = "12ABC34501DE35";
const ALFA_BRANCH = "12ABC345000188";
const OTHER = "11444777000161";

type Body = { id: string; type: string; documentKey?: string; cnpj?: string; sequence?: number; data: unknown };
const bodies = (hook: HttpsReceiver) => hook.received.map((webhook) => JSON.parse(webhook.body) as Body);
const idsAt = (hook: HttpsReceiver) => [...new Set(bodies(hook).map((body) => body.id))].sort();

async function logsOf(call: ApiCall) {
  return (await (await call("GET", "/webhooks/logs?limit=100")).json()) as { id: string; status: string; attempts: number }[];
}

describe("documentKey, cnpj and sequence through the events queue", () => {
  it("delivers valid ones at the top of the signed body, normalized", async () => {
    const { hook, tenant } = await fixture.subscriber("invoice.canceled", answer(200));
    await emit({ tenantId: tenant.tenantId, type: "invoice.canceled", id: "cancel-1", documentKey: NFE_ALPHANUMERIC.toLowerCase(), cnpj: "12.abc.345/01de-35", sequence: 1, data: { motivo: "erro" } });
    await emit({ tenantId: tenant.tenantId, type: "invoice.canceled", id: "plain-1", data: {} });
    await eventually(() => hook.received.length >= 2);
    for (const webhook of hook.received) expect(verifyBoth(webhook, tenant.secret)).toEqual({ snippet: true, standard: true });
    const byId = new Map(hook.received.map((webhook) => [(JSON.parse(webhook.body) as Body).id, webhook.body]));
    expect(JSON.parse(byId.get("cancel-1")!)).toEqual({
      id: "cancel-1",
      type: "invoice.canceled",
      createdAt: expect.any(String),
      documentKey: NFE_ALPHANUMERIC,
      cnpj: ALFA,
      sequence: 1,
      data: { motivo: "erro" },
    });
    // An event without them: the body is exactly as before.
    expect(byId.get("plain-1")).toMatch(/^\{"id":"plain-1","type":"invoice.canceled","createdAt":"[^"]+","data":\{\}\}$/);
  });

  it.each([
    [{ documentKey: `${NFE.slice(0, 43)}3` }, `breaks the event contract: documentKey ${NFE.slice(0, 43)}3: check digit is 3, expected 1`],
    [{ documentKey: NFE.slice(0, 40) }, "breaks the event contract: documentKey has 40 characters; a chave de acesso has 44"],
    [{ documentKey: CTE }, `breaks the event contract: documentKey ${CTE}: model 57 (CT-e) does not fit invoice.authorized, which is about 55 (NF-e) or 65 (NFC-e)`],
    [{ cnpj: "11.222.333/0001-82" }, "breaks the event contract: cnpj 11222333000182 has invalid check digits (expected 81)"],
    [{ cnpj: "00000000000000" }, "breaks the event contract: cnpj 00000000000000 is not a CNPJ (every digit the same)"],
    [{ sequence: 0 }, "breaks the event contract: sequence must be a positive integer (at most 2147483647)"],
    [{ sequence: 2 ** 31 }, "breaks the event contract: sequence must be a positive integer (at most 2147483647)"],
  ])("sets aside %j on the events DLQ with its reason, delivering nothing", async (fields, reason) => {
    const { hook, tenant } = await fixture.subscriber("invoice.authorized", answer(200));
    const messageId = await emit({ tenantId: tenant.tenantId, type: "invoice.authorized", ...fields, data: {} });
    expect(await fixture.setAsideReason(messageId)).toBe(reason);
    // The same tenant's next event goes through: the set-aside one would have been delivered before it.
    await emit({ tenantId: tenant.tenantId, type: "invoice.authorized", id: "after", data: {} });
    await eventually(() => hook.received.length >= 1);
    expect(idsAt(hook)).toEqual(["after"]);
  });
});

describe("CNPJ scoping", () => {
  it("sends scoped subscriptions and a scoped config only their CNPJs' events, unscoped ones everything", async () => {
    const [full, root, open, account] = await Promise.all([receiver(), receiver(), receiver(), receiver()]);
    const tenant = await tenantWith([]);
    const subscribe = async (endpoint: string, cnpjs?: string[]) => {
      const created = await tenant.call("POST", PORTAL, { evento: "invoice.authorized", endpoint, ...(cnpjs ? { cnpjs } : {}) });
      expect(created.status).toBe(201);
      return (await created.json()) as { id: number; cnpjs?: string[] };
    };
    expect(await subscribe(full.url, ["11.222.333/0001-81"])).toMatchObject({ cnpjs: [ACME] });
    expect(await subscribe(root.url, ["12.abc.345"])).toMatchObject({ cnpjs: ["12ABC345"] });
    expect(await subscribe(open.url)).not.toHaveProperty("cnpjs");
    const patched = await tenant.call("PATCH", "/webhooks/config", { webhookUrl: account.url, events: ["invoice.authorized"], cnpjs: [OTHER] });
    expect(await patched.json()).toMatchObject({ cnpjs: [OTHER] });

    const events: [string, string | undefined][] = [
      ["acme", ACME],
      ["acme-branch", ACME_BRANCH],
      ["alfa", ALFA],
      ["alfa-branch", ALFA_BRANCH],
      ["other", OTHER],
      ["none", undefined],
    ];
    await fixture.emitBatch(events.map(([id, cnpj]) => JSON.stringify({ tenantId: tenant.tenantId, type: "invoice.authorized", id, ...(cnpj ? { cnpj } : {}), data: {} })));
    const expected = { full: ["acme"], root: ["alfa", "alfa-branch"], open: events.map(([id]) => id).sort(), account: ["other"] };
    const total = Object.values(expected).flat().length;
    // Every delivery the tenant has is logged: once all are successes, nothing else is on its way.
    const lines = await eventually(async () => {
      const all = await logsOf(tenant.call);
      return all.length >= total && all.every((line) => line.status === "success") ? all : undefined;
    });
    expect(lines).toHaveLength(total);
    expect({ full: idsAt(full), root: idsAt(root), open: idsAt(open), account: idsAt(account) }).toEqual(expected);
    for (const hook of [full, root, open, account]) {
      for (const webhook of hook.received) expect(verifyBoth(webhook, tenant.secret)).toEqual({ snippet: true, standard: true });
    }
    expect(bodies(root).map((body) => body.cnpj).sort()).toEqual([ALFA_BRANCH, ALFA].sort());
  });

  it("keeps retrying a scoped delivery, and cancels it once the scope no longer takes its CNPJ", async () => {
    const flaky = await receiver((_webhook, response, count) => {
      response.writeHead(count === 1 ? 503 : 200);
      response.end();
    });
    const failing = await receiver(answer(503));
    const tenant = await tenantWith([]);
    await tenant.call("POST", PORTAL, { evento: "invoice.authorized", endpoint: flaky.url, cnpjs: ["11222333"] });
    const created = await tenant.call("POST", PORTAL, { evento: "boleto.paid", endpoint: failing.url, cnpjs: [ACME] });
    const { id } = (await created.json()) as { id: number };

    await emit({ tenantId: tenant.tenantId, type: "invoice.authorized", id: "retried", cnpj: ACME_BRANCH, data: {} });
    await eventually(() => flaky.received.length >= 2);
    expect(flaky.received.map((webhook) => webhook.headers["x-webhook-attempt"])).toEqual(["1", "2"]);

    await emit({ tenantId: tenant.tenantId, type: "boleto.paid", id: "unwanted", cnpj: ACME, data: {} });
    await eventually(() => failing.received.length >= 1);
    const changed = await tenant.call("PUT", `${PORTAL}/${id}`, { id, evento: "boleto.paid", endpoint: failing.url, cnpjs: [OTHER] });
    expect(await changed.json()).toMatchObject({ cnpjs: [OTHER] });
    const canceled = await eventually(async () => (await logsOf(tenant.call)).find((line) => line.status === "canceled"));
    expect(canceled.attempts).toBe(1);
    expect(failing.received).toHaveLength(1);
    const retried = (await logsOf(tenant.call)).find((line) => line.id === flaky.received[0]!.headers["webhook-id"]);
    expect(retried).toMatchObject({ status: "success", attempts: 2 });
  });

  it("keeps a scope on a PUT or PATCH that leaves the field out, removes it with null, and shows it in lists", async () => {
    const hook = await receiver();
    const tenant = await tenantWith([]);
    const created = await tenant.call("POST", PORTAL, { evento: "cte.cce", endpoint: hook.url, cnpjs: ["11222333", ALFA] });
    const { id } = (await created.json()) as { id: number };
    const kept = await tenant.call("PUT", `${PORTAL}/${id}`, { id, evento: "cte.cce", endpoint: hook.url });
    expect(await kept.json()).toMatchObject({ cnpjs: ["11222333", ALFA] });
    expect(await (await tenant.call("GET", PORTAL)).json()).toEqual([expect.objectContaining({ id, cnpjs: ["11222333", ALFA] })]);
    const removed = await tenant.call("PUT", `${PORTAL}/${id}`, { id, evento: "cte.cce", endpoint: hook.url, cnpjs: null });
    expect(await removed.json()).not.toHaveProperty("cnpjs");

    await tenant.call("PATCH", "/webhooks/config", { webhookUrl: hook.url, cnpjs: [ACME] });
    expect(await (await tenant.call("PATCH", "/webhooks/config", { events: ["cte.cce"] })).json()).toMatchObject({ cnpjs: [ACME] });
    expect(await (await tenant.call("GET", "/webhooks/config")).json()).toMatchObject({ cnpjs: [ACME] });
    expect(await (await tenant.call("PATCH", "/webhooks/config", { cnpjs: null })).json()).not.toHaveProperty("cnpjs");
  });

  it("answers bad scopes with a 400 naming the field and the entry, on every route that takes one", async () => {
    const hook = await receiver();
    const tenant = await tenantWith([{ evento: "cte.cce", endpoint: hook.url }]);
    const id = tenant.ids[0]!;
    const routes: [string, string, Record<string, unknown>][] = [
      ["POST", PORTAL, { evento: "invoice.authorized", endpoint: hook.url }],
      ["PUT", `${PORTAL}/${id}`, { id, evento: "cte.cce", endpoint: hook.url }],
      ["PATCH", "/webhooks/config", { webhookUrl: hook.url }],
    ];
    const cases: [unknown, string, string, RegExp][] = [
      [[ACME, "11.222.333/0001-82"], "cnpjs/1", "cnpj", /11222333000182 has invalid check digits \(expected 81\)/],
      [["1122233"], "cnpjs/0", "cnpj", /must be a CNPJ of 14 characters.*or a CNPJ root of 8/],
      [[ACME, "00000000000000"], "cnpjs/1", "cnpj", /every digit the same/],
      [[ACME, "11.222.333/0001-81"], "cnpjs/1", "unique", /repeats 11222333000181 \(entry 0\)/],
      [[], "cnpjs", "too_small", /list of 1 to 100 CNPJs/],
      [Array.from({ length: 101 }, (_, i) => String(10_000_000 + i)), "cnpjs", "too_big", /list of 1 to 100 CNPJs/],
      [ACME, "cnpjs", "invalid_type", /list of 1 to 100 CNPJs/],
      [[11222333], "cnpjs/0", "invalid_type", /must be a string/],
    ];
    for (const [method, route, body] of routes) {
      for (const [cnpjs, field, rule, message] of cases) {
        const problem = await problemOf(await tenant.call(method, route, { ...body, cnpjs }), 400);
        expect(problem["errors"]).toEqual([expect.objectContaining({ field, rule, message: expect.stringMatching(message) })]);
      }
    }
    // Nothing was changed or created by the refused requests.
    expect(await (await tenant.call("GET", PORTAL)).json()).toEqual([expect.not.objectContaining({ cnpjs: expect.anything() })]);
    expect((await tenant.call("GET", "/webhooks/config")).status).toBe(404);
  });
});
