import { describe, expect, it } from "vitest";
import { answer, verifyBoth } from "../../lib/dev/https-receiver.ts";
import type { ObservedRequest } from "../../lib/local-aws/runtime.ts";
import { deliveryIdFor } from "../../lambdas/domain/fiscal-event.ts";
import { OUTPUTS } from "../../lambdas/contract/resources.ts";
import { DeliveryLogStore } from "../../lambdas/data/deliveries.ts";
import { eventually } from "../support/eventually.ts";
import { PORTAL, pipelineFixture } from "../support/pipeline.ts";

/**
 * Warm dispatch and deliver functions keep what they read of a tenant for configCacheSeconds.
 * Five seconds here: long enough that an event sent right after another finds the reads still
 * warm, short enough to wait for a change to come through.
 */
const CACHE_SECONDS = 5;
const fixture = pipelineFixture({ retrySchedule: [0, 1, 1], configCacheSeconds: CACHE_SECONDS });

const READS = new Set(["GetItem", "Query", "BatchGetItem", "Scan"]);

/**
 * Runs `send`, then records the functions' DynamoDB calls until deliver has written a log line
 * (its reads come before the POST, so they are all in by then).
 */
async function functionCallsWhile(send: () => Promise<unknown>, logLines = 1): Promise<ObservedRequest[]> {
  const calls: ObservedRequest[] = [];
  const stop = fixture.env.product.runtime.observeRequests((call) => {
    if (call.service === "dynamodb" && call.functionId !== undefined) calls.push(call);
  });
  try {
    await send();
    await eventually(() => calls.filter((call) => call.operation === "BatchWriteItem").length >= logLines);
  } finally {
    stop();
  }
  return calls;
}

const readsIn = (calls: readonly ObservedRequest[]) => calls.filter((call) => READS.has(call.operation ?? ""));

describe("warm functions' caches (configCacheSeconds)", () => {
  it("reads a tenant once: a second batch right after the first makes no DynamoDB read", async () => {
    const { hook, tenant } = await fixture.subscriber("invoice.authorized");
    const send = (n: number) => fixture.emit({ tenantId: tenant.tenantId, type: "invoice.authorized", data: { n } });

    const first = await functionCallsWhile(() => send(1));
    await eventually(() => hook.received.length === 1);
    // Cold: dispatch reads the tenant, its subscriptions to the type and its config; deliver its secret.
    expect(readsIn(first).length).toBeGreaterThanOrEqual(4);

    const second = await functionCallsWhile(() => send(2));
    await eventually(() => hook.received.length === 2);
    expect(readsIn(second).map((call) => call.operation)).toEqual([]);
    for (const webhook of hook.received) expect(verifyBoth(webhook, tenant.secret)).toEqual({ snippet: true, standard: true });
  });

  it("a new subscription receives within the cache's age", async () => {
    const { tenant } = await fixture.subscriber("cte.authorized");
    const late = await fixture.receiver();
    const send = (n: number) => fixture.emit({ tenantId: tenant.tenantId, type: "cte.authorized", data: { n } });
    await functionCallsWhile(() => send(0));
    const created = await tenant.call("POST", PORTAL, { evento: "cte.authorized", endpoint: late.url });
    expect(created.status).toBe(201);
    // An event every half second until one reaches the new endpoint.
    let n = 1;
    await eventually(async () => {
      if (late.received.length > 0) return true;
      await send(n++);
      await new Promise((resolve) => setTimeout(resolve, 500));
      return false;
    }, 4 * CACHE_SECONDS * 1000);
    expect(verifyBoth(late.received[0]!, tenant.secret)).toEqual({ snippet: true, standard: true });
  });

  it("an endpoint re-enabled gets the next event at once, though deliver's copy still says disabled", async () => {
    const { hook, tenant } = await fixture.subscriber("boleto.paid", answer(410));
    const [id] = tenant.ids;
    const send = (n: number) => fixture.emit({ tenantId: tenant.tenantId, type: "boleto.paid", id: `boleto-${n}`, data: { n } });
    const lettered = async (n: number) => {
      const letters = (await (await tenant.call("GET", "/webhooks/dlq")).json()) as { id: string }[];
      return letters.some((letter) => letter.id === deliveryIdFor(tenant.tenantId, `boleto-${n}`, hook.url));
    };
    // Its first 410 disables it; the next event finds it disabled (and leaves deliver's copy saying so).
    await send(0);
    await eventually(() => lettered(0));
    await send(1);
    await eventually(() => lettered(1));
    expect(hook.received).toHaveLength(1);

    hook.behave(answer(200));
    expect((await tenant.call("PUT", `${PORTAL}/${id}`, { id, evento: "boleto.paid", endpoint: hook.url })).status).toBe(200);
    await send(2);
    const delivered = await eventually(() => hook.received.find((webhook) => webhook.headers["webhook-id"] === deliveryIdFor(tenant.tenantId, "boleto-2", hook.url)));
    expect(verifyBoth(delivered, tenant.secret)).toEqual({ snippet: true, standard: true });
    expect(await lettered(2)).toBe(false);
  });

  it("a tenant revoked: the retry of its delivery is canceled at once, though the functions' copies say active", async () => {
    // The second attempt, a retry, reads the tenant (active) and keeps it; its answer waits
    // until the tenant is revoked, so the third attempt comes after the revocation.
    let revoked: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (revoked = resolve));
    const { hook, tenant } = await fixture.subscriber("cte.cce", async (_webhook, response, count) => {
      if (count === 2) await held;
      response.writeHead(503);
      response.end();
    });
    await fixture.emit({ tenantId: tenant.tenantId, type: "cte.cce", data: {} });
    await eventually(() => hook.received.length === 2);
    expect(await fixture.env.tenants.revoke(tenant.tenantId)).toBe(true);
    revoked();
    const logs = new DeliveryLogStore(fixture.env.documents, String(fixture.env.product.outputs[OUTPUTS.tableName]));
    const line = await eventually(async () => (await logs.list(tenant.tenantId, 10)).entries.find((entry) => entry.status === "canceled"));
    expect(line).toMatchObject({ attempts: 2 });
    expect(hook.received).toHaveLength(2);
  });

  it("a regenerated secret: a retry is signed with it at once, first attempts within the cache's age", async () => {
    // A failing endpoint, so that the failed attempts below change no health record (a change
    // would make deliver drop its cached copy and read the new secret for another reason).
    const hook = await fixture.receiver(answer(503));
    const tenant = await fixture.tenantWith([{ evento: "mdfe.authorized", endpoint: hook.url }]);
    const send = (n: number) => fixture.emit({ tenantId: tenant.tenantId, type: "mdfe.authorized", data: { n } });
    // Its three attempts fail: the endpoint is failing, and both functions' reads of the tenant are warm.
    await send(0);
    await eventually(() => hook.received.length === 3);

    const regenerated = await tenant.call("POST", "/webhooks/secret/regenerate");
    const { webhookSecret } = (await regenerated.json()) as { webhookSecret: string };
    // The receiver already takes only the new secret.
    hook.behave((webhook, response) => {
      response.writeHead(verifyBoth(webhook, webhookSecret).snippet ? 200 : 401);
      response.end();
    });
    const from = hook.received.length;
    await send(1);
    const accepted = await eventually(() => hook.received.slice(from).find((webhook) => verifyBoth(webhook, webhookSecret).snippet));
    // The first attempt may have been signed with the cached old secret; no retry was.
    const retries = hook.received.slice(from).filter((webhook) => webhook.headers["x-webhook-attempt"] !== "1");
    for (const retry of retries) expect(verifyBoth(retry, webhookSecret)).toEqual({ snippet: true, standard: true });
    expect(["1", "2"]).toContain(accepted.headers["x-webhook-attempt"]);

    // New events' first attempts are signed with it once the cached copy has aged out.
    let n = 2;
    await eventually(async () => {
      const firstAttempts = hook.received.slice(from).filter((webhook) => webhook.headers["x-webhook-attempt"] === "1");
      if (firstAttempts.some((webhook) => JSON.parse(webhook.body).data.n >= 2 && verifyBoth(webhook, webhookSecret).snippet)) return true;
      await send(n++);
      await new Promise((resolve) => setTimeout(resolve, 500));
      return false;
    }, 4 * CACHE_SECONDS * 1000);
  });
});
