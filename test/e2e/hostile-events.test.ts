import { describe, expect, it } from "vitest";
import { OUTPUTS } from "../../lambdas/contract/resources.ts";
import { DeadLetterStore } from "../../lambdas/data/dead-letters.ts";
import { DeliveryLogStore } from "../../lambdas/data/deliveries.ts";
import { answer } from "../../lib/dev/https-receiver.ts";
import { eventually } from "../support/eventually.ts";
import { PORTAL, pipelineFixture } from "../support/pipeline.ts";
import { problemOf, requestWithBody } from "../support/product.ts";

/** Every line the functions logged, to check what never reaches the logs. */
const logLines: string[] = [];
const fixture = pipelineFixture({ retrySchedule: [0, 1, 1, 1], functionOutput: (_fn, line) => logLines.push(line) });
const { receiver, tenantWith, emit: emitRaw } = fixture;

const tableName = () => String(fixture.env.product.outputs[OUTPUTS.tableName]);
const logStore = () => new DeliveryLogStore(fixture.env.documents, tableName());
const deadLetters = () => new DeadLetterStore(fixture.env.documents, tableName());

const reasonFor = fixture.setAsideReason;

describe("one delivery per producer id", () => {
  it("holds when copies of one id arrive at once in separate messages, consumed by concurrent pollers", async () => {
    const { hook, tenant } = await fixture.subscriber("invoice.authorized", answer(200));
    const ids = Array.from({ length: 6 }, (_, i) => `nfe-${i}-${Date.now()}`);
    // Each copy is its own SendMessage, all in flight together, interleaved across ids.
    const copies = 8;
    await Promise.all(
      Array.from({ length: copies }, () => ids).flat().map((id) =>
        emitRaw(JSON.stringify({ tenantId: tenant.tenantId, type: "invoice.authorized", id, data: { id } })),
      ),
    );
    await eventually(() => hook.received.length >= ids.length);
    // Late duplicates would arrive within a batch or two.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const received = hook.received.map((webhook) => (JSON.parse(webhook.body) as { id: string }).id).sort();
    expect(received).toEqual([...ids].sort());
  });
});

describe("retries that are no longer wanted", () => {
  it.each([
    ["the subscription is deleted", async (tenant: Awaited<ReturnType<typeof tenantWith>>) => tenant.call("DELETE", `${PORTAL}/${tenant.ids[0]}`)],
    [
      "the subscription now points elsewhere",
      async (tenant: Awaited<ReturnType<typeof tenantWith>>) =>
        tenant.call("PUT", `${PORTAL}/${tenant.ids[0]}`, { id: tenant.ids[0], evento: "invoice.authorized", endpoint: "https://127.0.0.1:9/elsewhere" }),
    ],
    ["the tenant is revoked", async (tenant: Awaited<ReturnType<typeof tenantWith>>) => fixture.env.tenants.revoke(tenant.tenantId)],
  ])("stop at the next attempt when %s: logged canceled with the reason, nothing in the DLQ", async (_case, change) => {
    const { hook, tenant } = await fixture.subscriber("invoice.authorized", answer(503));
    await emitRaw(JSON.stringify({ tenantId: tenant.tenantId, type: "invoice.authorized", data: { n: 1 } }));
    await eventually(() => hook.received.length >= 1);
    await change(tenant);
    // Read from the table: a revoked tenant's token no longer reads its logs.
    const line = await eventually(async () => {
      const [entry] = (await logStore().list(tenant.tenantId, 10)).entries;
      return entry?.status === "canceled" ? entry : undefined;
    });
    expect(line).toMatchObject({ status: "canceled", attempts: 1, lastError: expect.stringMatching(/any more|revoked/) });
    expect((await deadLetters().list(tenant.tenantId, 10)).letters).toEqual([]);
    // Two more scheduled attempts would have come within ~2 s.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(hook.received.length).toBe(1);
  });
});

describe("events that pass the contract but could not travel", () => {
  it("delivers data holding characters SQS refuses raw (U+FFFF), byte for byte", async () => {
    const { hook, tenant } = await fixture.subscriber("invoice.authorized", answer(200));
    // The producer escapes them (SQS would refuse its message too); parsed, they are raw characters again.
    await emitRaw(`{"tenantId":"${tenant.tenantId}","type":"invoice.authorized","data":{"odd":"a\\uffffb\\ufffe"}}`);
    await eventually(() => hook.received.length === 1);
    expect((JSON.parse(hook.received[0]!.body) as { data: unknown }).data).toEqual({ odd: "a\uffffb\ufffe" });
  });

  it("sets aside at once, with the limit named, data nested past the bound", async () => {
    const tenant = await tenantWith([]);
    const deep = `{"tenantId":"${tenant.tenantId}","type":"invoice.authorized","data":{"x":${"[".repeat(4500)}${"]".repeat(4500)}}}`;
    const messageId = await emitRaw(deep);
    expect(await reasonFor(messageId)).toMatch(/nested deeper than 64 levels/);
  });

  it("sets aside at once an event whose webhook outgrows an SQS message after escaping", async () => {
    const { hook, tenant } = await fixture.subscriber("invoice.authorized", answer(200));
    const frame = JSON.stringify({ tenantId: tenant.tenantId, type: "invoice.authorized", data: { q: "" } });
    // Each quote is 2 bytes in the event and 4 in the deliveries message (escaped twice).
    const quotes = Math.floor((128 * 1024 - Buffer.byteLength(frame)) / 2);
    const messageId = await emitRaw(JSON.stringify({ tenantId: tenant.tenantId, type: "invoice.authorized", data: { q: '"'.repeat(quotes) } }));
    expect(await reasonFor(messageId)).toMatch(/deliveries message of \d+ bytes; SQS carries at most 262144/);
    expect(hook.received.length).toBe(0);
  });
});

describe("request bodies nested past the bound", () => {
  it("are a 400 problem naming the limit on every route that reads a body, never a 500", async () => {
    const tenant = await tenantWith([{ evento: "invoice.authorized", endpoint: "https://erp.example/hooks" }]);
    const deep = `${"[".repeat(4500)}${"]".repeat(4500)}`;
    const requests: [string, string][] = [
      ["POST", PORTAL],
      ["PUT", `${PORTAL}/${tenant.ids[0]}`],
      ["PATCH", "/webhooks/config"],
      ["DELETE", `${PORTAL}/${tenant.ids[0]}`],
    ];
    for (const [method, route] of requests) {
      const problem = await problemOf(await tenant.call(method, route, deep), 400);
      expect(problem).toMatchObject({ type: "urn:fiscal-webhooks:problem:body-too-deep", status: 400 });
      expect(problem["detail"]).toMatch(/nested deeper than 64 levels/);
    }
    // The Portal's falhas search sends its JSON body on a GET.
    const falhas = await requestWithBody(`${fixture.env.product.apiUrl}${PORTAL}/falhas`, "GET", tenant.token, `{"data":${deep}}`);
    expect(falhas).toMatchObject({ status: 400, json: { type: "urn:fiscal-webhooks:problem:body-too-deep" } });
  });
});

describe("POST /webhooks/test", () => {
  it("is limited per tenant (5 a minute by default), exactly under concurrency, with 429 and Retry-After", async () => {
    const hook = await receiver(answer(200, "OK"));
    const [busy, other] = [await fixture.env.newTenant("tester"), await fixture.env.newTenant("other")];
    for (const tenant of [busy, other]) await tenant.call("PATCH", "/webhooks/config", { webhookUrl: hook.url });
    // One minute's window: start clear of its end, so all eight fall in it.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
    const answers = await Promise.all(Array.from({ length: 8 }, () => busy.call("POST", "/webhooks/test")));
    expect(answers.filter((response) => response.status === 200)).toHaveLength(5);
    const refused = answers.filter((response) => response.status !== 200);
    expect(refused).toHaveLength(3);
    for (const response of refused) {
      const retryAfter = Number(response.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(await problemOf(response, 429)).toMatchObject({ type: "urn:fiscal-webhooks:problem:too-many-requests" });
    }
    expect(hook.received.length).toBe(5);
    expect((await other.call("POST", "/webhooks/test")).status).toBe(200);
  });
});

describe("metrics", () => {
  it("are embedded-format lines in the functions' logs, with only the contract's dimensions and no tenant", async () => {
    const { hook, tenant } = await fixture.subscriber("boleto.paid", answer(200));
    await emitRaw(JSON.stringify({ tenantId: tenant.tenantId, type: "boleto.paid", data: { n: 1 } }));
    await eventually(() => hook.received.length === 1);
    type Emf = { _aws?: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } } & Record<string, unknown>;
    const emf = await eventually(() => {
      const lines = logLines.flatMap((line) => {
        try {
          const parsed = JSON.parse(line) as Emf;
          return parsed._aws ? [parsed] : [];
        } catch {
          return [];
        }
      });
      const deliveries = lines.find((line) => line["EventType"] === "boleto.paid" && line["Outcome"] === "delivered");
      return deliveries ? { lines, deliveries } : undefined;
    });
    expect(emf.deliveries._aws?.CloudWatchMetrics[0]).toMatchObject({ Namespace: "FiscalWebhooks", Dimensions: [["Outcome"], ["Outcome", "EventType"]] });
    expect(emf.deliveries["Deliveries"]).toBe(1);
    expect(emf.lines.some((line) => line._aws?.CloudWatchMetrics[0]?.Metrics.some((metric) => metric.Name === "EndToEndLatency"))).toBe(true);
    expect(emf.lines.some((line) => line._aws?.CloudWatchMetrics[0]?.Metrics.some((metric) => metric.Name === "EventsDispatched"))).toBe(true);
    for (const line of emf.lines) {
      expect(JSON.stringify(line)).not.toContain(tenant.tenantId);
      expect(line["service"]).toBeUndefined();
    }
  });
});

describe("what never reaches the logs", () => {
  it("keeps payload fragments out of rejection reasons and bounds them", async () => {
    const tenant = await tenantWith([]);
    const broken = await emitRaw(`{"tenantId":"${tenant.tenantId}","type":"invoice.authorized","data":{"cpf": 123.456.789-09}}`);
    const longKey = "k".repeat(100_000);
    const wide = await emitRaw(JSON.stringify({ tenantId: tenant.tenantId, type: "invoice.authorized", data: {}, [longKey]: 1 }));
    const [brokenReason, wideReason] = [await reasonFor(broken), await reasonFor(wide)];
    expect(brokenReason).toMatch(/^not JSON: not valid JSON/);
    expect(wideReason).toMatch(/unknown field\(s\) k+…/);
    expect(wideReason.length).toBeLessThanOrEqual(1000);
    // A function's log lines arrive on their own stream, maybe after the message they speak of.
    await eventually(() => logLines.filter((line) => line.includes("event set aside")).length >= 2);
    for (const line of logLines) {
      expect(line).not.toMatch(/123\.456/);
      expect(line.length).toBeLessThan(5000);
    }
  });
});
