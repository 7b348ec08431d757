import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { OUTPUTS } from "../../lambdas/contract/resources.ts";
import { keys } from "../../lambdas/data/keys.ts";
import { brazilDate } from "../../lambdas/domain/brazil-date.ts";
import { verifyBoth, type HttpsReceiver } from "../../lib/dev/https-receiver.ts";
import type { ApiCall } from "../../lib/dev/ephemeral-product.ts";
import { eventually } from "../support/eventually.ts";
import { PORTAL, pipelineFixture } from "../support/pipeline.ts";
import { problemOf } from "../support/product.ts";

const fixture = pipelineFixture({ retrySchedule: [0, 1, 1], deliveryTimeoutSeconds: 2 });
const { receiver, tenantWith } = fixture;

/** The tolerance of a second's arrivals over the limit: one batch of deliveries, late from the second before. */
const BATCH = 10;

type LogLine = { id: string; status: string; attempts: number };
const logsOf = async (call: ApiCall) => (await (await call("GET", "/webhooks/logs?limit=100")).json()) as LogLine[];

/** `count` events of one type for the tenant, sent ten per SendMessageBatch. */
async function burst(tenantId: string, type: string, count: number, tag: string): Promise<void> {
  const bodies = Array.from({ length: count }, (_, i) => JSON.stringify({ tenantId, type, id: `${tag}-${i}`, data: { i } }));
  await Promise.all(Array.from({ length: Math.ceil(count / 10) }, (_, b) => fixture.emitBatch(bodies.slice(b * 10, b * 10 + 10))));
}

/** Webhooks the receiver got per second of its own clock. */
function perSecond(hook: HttpsReceiver): number[] {
  const seconds = new Map<number, number>();
  for (const { receivedAt } of hook.received) seconds.set(Math.floor(receivedAt / 1000), (seconds.get(Math.floor(receivedAt / 1000)) ?? 0) + 1);
  return [...seconds.values()];
}

/** Waits for `count` distinct deliveries, then checks none was lost or sent twice under another id, all on their first attempt. */
async function allArrive(hook: HttpsReceiver, count: number, secret: string, call: ApiCall): Promise<void> {
  await eventually(() => new Set(hook.received.map((w) => w.headers["webhook-id"])).size >= count, 40_000);
  const ids = new Set(hook.received.map((w) => String(w.headers["webhook-id"])));
  expect(ids.size).toBe(count);
  // A copy (SQS may deliver a message twice) carries the same webhook-id and body: receivers deduplicate on it.
  expect(new Set(hook.received.map((w) => (JSON.parse(w.body) as { id: string }).id)).size).toBe(count);
  for (const webhook of hook.received) {
    expect(webhook.headers["x-webhook-attempt"]).toBe("1");
    expect(verifyBoth(webhook, secret)).toEqual({ snippet: true, standard: true });
  }
  // Waiting for a later second used no attempt and recorded no failure.
  const lines = await eventually(async () => {
    const all = await logsOf(call);
    return all.filter((line) => line.status === "success").length === count ? all : undefined;
  });
  expect(lines.map((line) => line.attempts)).toEqual(Array.from({ length: count }, () => 1));
  expect(new Set(lines.map((line) => line.id))).toEqual(ids);
  expect(await (await call("GET", `${PORTAL}/falhas?data=${brazilDate(new Date())}`)).json()).toEqual([]);
}

/** The tenant's rate-limit items: what counting cost it. */
async function rateItems(tenantId: string): Promise<Record<string, unknown>[]> {
  const { product } = fixture.env;
  const documents = DynamoDBDocumentClient.from(product.runtime.dynamodb);
  const { Items = [] } = await documents.send(
    new QueryCommand({
      TableName: String(product.outputs[OUTPUTS.tableName]),
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :rate)",
      ExpressionAttributeValues: { ":pk": keys.tenantPartition(tenantId), ":rate": "RATE#" },
    }),
  );
  return Items;
}

describe("per-endpoint rate limits", () => {
  it("holds a burst to a subscription's maxPorSegundo: none lost, none failed, no attempt used", async () => {
    const hook = await receiver();
    const tenant = await tenantWith([]);
    const created = await tenant.call("POST", PORTAL, { evento: "invoice.authorized", endpoint: hook.url, maxPorSegundo: 5 });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ id: expect.any(Number), evento: "invoice.authorized", endpoint: hook.url, maxPorSegundo: 5, situacao: { codigo: "ativa" } });

    await burst(tenant.tenantId, "invoice.authorized", 60, "nfce");
    await allArrive(hook, 60, tenant.secret, tenant.call);
    const counts = perSecond(hook);
    expect(Math.max(...counts)).toBeLessThanOrEqual(5 + BATCH);
    // Spread over the seconds the limit asks for (12 at 5 a second), not sent at once.
    expect(counts.length).toBeGreaterThanOrEqual(60 / (5 + BATCH));
    // The endpoint's schedule is the one item the limit added.
    expect(await rateItems(tenant.tenantId)).toEqual([expect.objectContaining(keys.rateSchedule(tenant.tenantId, keys.endpointRateAction(hook.url)))]);
  });

  it("holds the account webhook to the config's maxPerSecond", async () => {
    const hook = await receiver();
    const tenant = await tenantWith([]);
    const patched = await tenant.call("PATCH", "/webhooks/config", { webhookUrl: hook.url, events: ["cte.authorized"], maxPerSecond: 4 });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ webhookUrl: hook.url, events: ["cte.authorized"], maxPerSecond: 4 });
    await burst(tenant.tenantId, "cte.authorized", 30, "cte");
    await allArrive(hook, 30, tenant.secret, tenant.call);
    expect(Math.max(...perSecond(hook))).toBeLessThanOrEqual(4 + BATCH);
  });

  it("leaves deliveries to endpoints without a limit alone: nothing counted, nothing held", async () => {
    const hook = await receiver();
    const tenant = await tenantWith([{ evento: "boleto.paid", endpoint: hook.url }]);
    await burst(tenant.tenantId, "boleto.paid", 30, "boleto");
    await allArrive(hook, 30, tenant.secret, tenant.call);
    expect(await rateItems(tenant.tenantId)).toEqual([]);
  });

  it("keeps a limit a change leaves out, removes it with null, and refuses anything else naming the field", async () => {
    const tenant = await tenantWith([]);
    const endpoint = "https://limits.example.com/hook";
    const { id } = (await (await tenant.call("POST", PORTAL, { evento: "mdfe.closed", endpoint, maxPorSegundo: 20 })).json()) as { id: number };
    const put = async (body: Record<string, unknown>) => (await tenant.call("PUT", `${PORTAL}/${id}`, { id, evento: "mdfe.closed", endpoint, ...body })).json();
    expect(await put({})).toEqual({ id, evento: "mdfe.closed", endpoint, maxPorSegundo: 20, situacao: { codigo: "ativa" } });
    expect(await (await tenant.call("GET", PORTAL)).json()).toEqual([{ id, evento: "mdfe.closed", endpoint, maxPorSegundo: 20, situacao: { codigo: "ativa" } }]);
    expect(await put({ maxPorSegundo: 1000 })).toEqual({ id, evento: "mdfe.closed", endpoint, maxPorSegundo: 1000, situacao: { codigo: "ativa" } });
    expect(await put({ maxPorSegundo: null })).toEqual({ id, evento: "mdfe.closed", endpoint, situacao: { codigo: "ativa" } });
    expect(await (await tenant.call("GET", PORTAL)).json()).toEqual([{ id, evento: "mdfe.closed", endpoint, situacao: { codigo: "ativa" } }]);
    // Created without one (or with null): none, and the view is the document's.
    const plain = await tenant.call("POST", PORTAL, { evento: "mdfe.authorized", endpoint, maxPorSegundo: null });
    expect(await plain.json()).toEqual({ id: expect.any(Number), evento: "mdfe.authorized", endpoint, situacao: { codigo: "ativa" } });

    await tenant.call("PATCH", "/webhooks/config", { webhookUrl: endpoint, maxPerSecond: 7 });
    const config = async () => (await (await tenant.call("GET", "/webhooks/config")).json()) as Record<string, unknown>;
    expect((await config())["maxPerSecond"]).toBe(7);
    await tenant.call("PATCH", "/webhooks/config", { events: ["mdfe.closed"] });
    expect(await config()).toMatchObject({ events: ["mdfe.closed"], maxPerSecond: 7 });
    expect((await tenant.call("PATCH", "/webhooks/config", { maxPerSecond: null })).status).toBe(200);
    expect(await config()).not.toHaveProperty("maxPerSecond");

    const bad: unknown[] = [0, -1, 1001, 2.5, "5", true, [5], { n: 5 }];
    for (const value of bad) {
      for (const [method, path, body, field] of [
        ["POST", PORTAL, { evento: "mdfe.closed", endpoint: `${endpoint}/x`, maxPorSegundo: value }, "maxPorSegundo"],
        ["PUT", `${PORTAL}/${id}`, { id, evento: "mdfe.closed", endpoint, maxPorSegundo: value }, "maxPorSegundo"],
        ["PATCH", "/webhooks/config", { maxPerSecond: value }, "maxPerSecond"],
      ] as const) {
        const problem = await problemOf(await tenant.call(method, path, body), 400);
        expect(problem["errors"], `${method} ${JSON.stringify(value)}`).toEqual([expect.objectContaining({ field })]);
      }
    }
    // The Portal's field name is not the account API's, nor the other way round.
    const crossed = await problemOf(await tenant.call("PATCH", "/webhooks/config", { maxPorSegundo: 5 }), 400);
    expect(crossed["errors"]).toEqual([expect.objectContaining({ field: "maxPorSegundo", rule: "unknownField" })]);
    // Nothing refused changed anything.
    expect(await (await tenant.call("GET", `${PORTAL}`)).json()).toContainEqual({ id, evento: "mdfe.closed", endpoint, situacao: { codigo: "ativa" } });
    expect(await config()).not.toHaveProperty("maxPerSecond");
  });
});
