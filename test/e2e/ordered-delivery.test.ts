import { describe, expect, it } from "vitest";
import { answer, verifyBoth, type Behaviour, type ReceivedWebhook } from "../../lib/dev/https-receiver.ts";
import { accessKey } from "../support/documents.ts";
import { eventually } from "../support/eventually.ts";
import { PORTAL, pipelineFixture } from "../support/pipeline.ts";

// Retries two seconds apart, three attempts: a blocked document stays blocked for seconds.
const fixture = pipelineFixture({ retrySchedule: [0, 2, 2] });

/** The chave de acesso of NF-e number `number` (SP, 11/2026, model 55). */
const documentKey = (number: number) => accessKey(`35261111222333000181550010${String(number).padStart(8, "0")}112345678`);

type Sent = { tenantId: string; type: string; id: string; documentKey: string; data: { step: number } };
const events = (tenantId: string, key: string, count: number): Sent[] =>
  Array.from({ length: count }, (_, step) => ({
    tenantId,
    type: step === count - 1 ? "invoice.canceled" : "invoice.authorized",
    id: `${key}-${step}`,
    documentKey: key,
    data: { step },
  }));

const stepOf = (webhook: ReceivedWebhook) => (JSON.parse(webhook.body) as { data: { step: number } }).data.step;
const idOf = (webhook: ReceivedWebhook) => (JSON.parse(webhook.body) as { id: string }).id;

/** Fails the first `failures` attempts of each event whose id `matches`; answers 200 otherwise. */
function failingFirst(failures: number, matches: (id: string) => boolean = () => true): Behaviour {
  const seen = new Map<string, number>();
  return (webhook, response, count) => {
    const id = idOf(webhook);
    const attempts = (seen.get(id) ?? 0) + 1;
    seen.set(id, attempts);
    return answer(matches(id) && attempts <= failures ? 503 : 200, "ok")(webhook, response, count);
  };
}

describe("ordered delivery per fiscal document", () => {
  it("delivers a document's events one at a time, in the order sent, through transient failures", async () => {
    const { hook, tenant } = await fixture.subscriber("invoice.authorized", failingFirst(1));
    expect((await tenant.call("POST", PORTAL, { evento: "invoice.canceled", endpoint: hook.url })).status).toBe(201);
    const key = documentKey(1);
    await fixture.emitInGroup(key, events(tenant.tenantId, key, 5));
    await eventually(() => (hook.received.filter((w) => w.headers["x-webhook-attempt"] === "2").length === 5 ? true : undefined), 60_000);
    // Every event failed once, then went through; the next one's first attempt came only after.
    expect(hook.received.map(stepOf)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    expect(hook.received.map((w) => w.headers["x-webhook-attempt"])).toEqual(["1", "2", "1", "2", "1", "2", "1", "2", "1", "2"]);
    for (const webhook of hook.received) expect(verifyBoth(webhook, tenant.secret).standard).toBe(true);
    // The logs say the same: each delivered at its second attempt.
    const logs = (await (await tenant.call("GET", "/webhooks/logs")).json()) as { status: string; attempts: number }[];
    expect(logs.filter((line) => line.status === "success" && line.attempts === 2)).toHaveLength(5);
  });

  it("lets the next event go once one is exhausted, its reason kept in the DLQ", async () => {
    const key = documentKey(2);
    const { hook, tenant } = await fixture.subscriber("invoice.authorized", failingFirst(99, (id) => id === `${key}-0`));
    await fixture.emitInGroup(key, events(tenant.tenantId, key, 3).map((event) => ({ ...event, type: "invoice.authorized" })));
    await eventually(() => (hook.received.filter((w) => stepOf(w) === 2).length === 1 ? true : undefined), 60_000);
    // All three attempts of the first event, then the others, each once.
    expect(hook.received.map(stepOf)).toEqual([0, 0, 0, 1, 2]);
    const letters = await eventually(async () => {
      const listed = (await (await tenant.call("GET", "/webhooks/dlq")).json()) as { attempts: number; lastError: string }[];
      return listed.length === 1 ? listed : undefined;
    }, 20_000);
    expect(letters[0]).toMatchObject({ attempts: 3, lastError: "HTTP 503 Service Unavailable" });
  });

  it("keeps other documents, and events without a documentKey, flowing while one document waits", async () => {
    const blocked = documentKey(3);
    const free = documentKey(4);
    // The blocked document's first event fails twice (four seconds of retries) before it goes.
    const { hook, tenant } = await fixture.subscriber("invoice.authorized", failingFirst(2, (id) => id === `${blocked}-0`));
    await fixture.emitInGroup(blocked, events(tenant.tenantId, blocked, 3).map((event) => ({ ...event, type: "invoice.authorized" })));
    await eventually(() => (hook.received.length >= 1 ? true : undefined), 20_000);
    await fixture.emitInGroup(free, events(tenant.tenantId, free, 3).map((event) => ({ ...event, type: "invoice.authorized" })));
    await fixture.emit({ tenantId: tenant.tenantId, type: "invoice.authorized", id: "no-document", data: { step: 9 } });
    await eventually(() => (hook.received.length === 3 + 2 + 3 + 1 ? true : undefined), 60_000);
    const order = hook.received.map(idOf);
    // The free document and the plain event all arrived before the blocked document's second event.
    const blockedNext = order.indexOf(`${blocked}-1`);
    for (const id of [`${free}-0`, `${free}-1`, `${free}-2`, "no-document"]) expect(order.indexOf(id)).toBeLessThan(blockedNext);
    // And each document's own events in order.
    expect(order.filter((id) => id.startsWith(blocked))).toEqual([`${blocked}-0`, `${blocked}-0`, `${blocked}-0`, `${blocked}-1`, `${blocked}-2`]);
    expect(order.filter((id) => id.startsWith(free))).toEqual([`${free}-0`, `${free}-1`, `${free}-2`]);
  });
});
