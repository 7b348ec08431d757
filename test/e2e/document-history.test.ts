import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { OUTPUTS } from "../../lambdas/contract/resources.ts";
import { answer, type HttpsReceiver, type ReceivedWebhook } from "../../lib/dev/https-receiver.ts";
import type { ApiCall } from "../../lib/dev/ephemeral-product.ts";
import { accessKey } from "../support/documents.ts";
import { eventually } from "../support/eventually.ts";
import { pipelineFixture } from "../support/pipeline.ts";
import { problemOf } from "../support/product.ts";

const fixture = pipelineFixture({ retrySchedule: [0, 1, 1], deliveryTimeoutSeconds: 1 });

/** A CT-e access key (model 57), another one nobody sends, and one of another UF. */
const KEY = accessKey("3526111234567800019057001000000456100000456");
const UNSENT = accessKey("3526111234567800019057001000000999100000999");
const OTHER = accessKey("4126111234567800019057001000000999100000999");

interface HistoryEvent {
  eventId: string;
  type: string;
  sequence: number | null;
  createdAt: string;
  receivedAt: string;
  deliveries: { endpoint: string; webhookId: string }[];
}
interface EndpointState {
  endpoint: string;
  webhookId: string;
  eventId: string;
  type: string;
  sequence: number | null;
  status: string;
  attempts: number;
  deliveredAt: string | null;
  lastError: string | null;
}
interface History {
  documentKey: string;
  events: HistoryEvent[];
  endpoints: EndpointState[];
}

const historyOf = async (call: ApiCall, key: string, query = "") => {
  const response = await call("GET", `/webhooks/documents/${key}${query}`);
  expect(response.status).toBe(200);
  return { history: (await response.json()) as History, next: response.headers.get("x-next-cursor"), link: response.headers.get("link") };
};
const eventIdOf = (webhook: ReceivedWebhook) => (JSON.parse(webhook.body) as { id: string }).id;
const webhookIdOf = (hook: HttpsReceiver, eventId: string) => {
  const ids = new Set(hook.received.filter((webhook) => eventIdOf(webhook) === eventId).map((webhook) => webhook.headers["webhook-id"]));
  expect(ids.size).toBe(1);
  return [...ids][0] as string;
};

// The document's life: authorized, two CC-e, then canceled, injected one after the other.
const LIFE: readonly { id: string; type: string; sequence: number | null }[] = [
  { id: "k1-authorized", type: "cte.authorized", sequence: null },
  { id: "k2-cce", type: "cte.cce", sequence: 1 },
  { id: "k3-cce", type: "cte.cce", sequence: 2 },
  { id: "k4-canceled", type: "cte.canceled", sequence: 1 },
];

/**
 * One tenant with two endpoints for the document's types: `steady` takes every webhook at once,
 * `flaky` answers 503 to each first attempt and takes the second. The document's events, one of
 * another document and one without a key go through the pipeline; the history answers once
 * every webhook has arrived.
 */
const scenario = (async () => {
  const steady = await fixture.receiver();
  const flaky = await fixture.receiver((webhook, response) => answer(webhook.headers["x-webhook-attempt"] === "1" ? 503 : 200)(webhook, response, 0));
  const types = ["cte.authorized", "cte.cce", "cte.canceled"];
  const tenant = await fixture.tenantWith(types.flatMap((evento) => [steady, flaky].map((hook) => ({ evento, endpoint: hook.url }))));
  for (const { id, type, sequence } of LIFE) {
    await fixture.emit({ tenantId: tenant.tenantId, type, id, documentKey: KEY, ...(sequence === null ? {} : { sequence }), data: { chave: KEY } });
    // Each waits for the one before to arrive: the injection order is the test's, not a race's.
    await eventually(() => steady.received.some((webhook) => eventIdOf(webhook) === id));
  }
  await fixture.emit({ tenantId: tenant.tenantId, type: "cte.authorized", id: "other-document", documentKey: OTHER, data: {} });
  await fixture.emit({ tenantId: tenant.tenantId, type: "cte.authorized", id: "no-document", data: {} });
  const total = LIFE.length + 2;
  await eventually(() => steady.received.length === total && flaky.received.length === 2 * total, 30_000);
  return { steady, flaky, tenant };
});
let started: ReturnType<typeof scenario> | undefined;
const delivered = () => (started ??= scenario());

describe("the document history", () => {
  it("lists the document's events as injected and each endpoint's last delivery as the receivers saw it", async () => {
    const { steady, flaky, tenant } = await delivered();
    // The flaky endpoint's last log line is written after its answer: wait for both to settle.
    const { history, next } = await eventually(async () => {
      const answer = await historyOf(tenant.call, KEY);
      return answer.history.endpoints.every((endpoint) => endpoint.status === "success") && answer;
    });
    expect(next).toBeNull();
    expect(history.documentKey).toBe(KEY);
    expect(history.events.map(({ eventId, type, sequence }) => ({ id: eventId, type, sequence }))).toEqual(LIFE);
    const received = history.events.map((event) => event.receivedAt);
    expect(received).toEqual(received.toSorted());
    for (const event of history.events) {
      expect(event.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      // The webhook-ids are the ones each receiver got for the event.
      expect(event.deliveries.toSorted((a, b) => a.endpoint.localeCompare(b.endpoint))).toEqual(
        [steady, flaky]
          .map((hook) => ({ endpoint: hook.url, webhookId: webhookIdOf(hook, event.eventId) }))
          .toSorted((a, b) => a.endpoint.localeCompare(b.endpoint)),
      );
    }
    const last = LIFE[LIFE.length - 1]!;
    const state = (hook: HttpsReceiver, attempts: number) => ({
      endpoint: hook.url,
      webhookId: webhookIdOf(hook, last.id),
      eventId: last.id,
      type: last.type,
      sequence: last.sequence,
      status: "success",
      attempts,
      deliveredAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      lastError: null,
    });
    expect(history.endpoints.toSorted((a, b) => a.endpoint.localeCompare(b.endpoint))).toEqual(
      [state(steady, 1), state(flaky, 2)].toSorted((a, b) => a.endpoint.localeCompare(b.endpoint)),
    );
    // The flaky endpoint saw that webhook twice, the second time as attempt 2.
    const lastToFlaky = flaky.received.filter((webhook) => eventIdOf(webhook) === last.id);
    expect(lastToFlaky.map((webhook) => webhook.headers["x-webhook-attempt"])).toEqual(["1", "2"]);
  });

  it("pages the events with X-Next-Cursor and Link, each page carrying the endpoints", async () => {
    const { tenant } = await delivered();
    const whole = await eventually(async () => {
      const answer = await historyOf(tenant.call, KEY);
      return answer.history.endpoints.every((endpoint) => endpoint.status === "success") && answer.history;
    });
    const walked: HistoryEvent[] = [];
    let query = "?limit=1";
    for (let page = 0; page < 10; page++) {
      const { history, next, link } = await historyOf(tenant.call, KEY, query);
      walked.push(...history.events);
      expect(history.endpoints).toEqual(whole.endpoints);
      if (next === null) break;
      expect(link).toBe(`</webhooks/documents/${KEY}?limit=1&cursor=${encodeURIComponent(next)}>; rel="next"`);
      query = `?limit=1&cursor=${encodeURIComponent(next)}`;
    }
    expect(walked).toEqual(whole.events);
    const { history: firstThree, next } = await historyOf(tenant.call, KEY, "?limit=3");
    expect(firstThree.events).toEqual(whole.events.slice(0, 3));
    const { history: rest } = await historyOf(tenant.call, KEY, `?limit=3&cursor=${encodeURIComponent(next!)}`);
    expect(rest.events).toEqual(whole.events.slice(3));
    // A cursor of this document is no cursor for another.
    const other = OTHER;
    await problemOf(await tenant.call("GET", `/webhooks/documents/${other}?limit=3&cursor=${encodeURIComponent(next!)}`), 400);
  });

  it("files nothing for an event without a documentKey, one item for each event with one", async () => {
    const { tenant } = await delivered();
    const { product } = fixture.env;
    const { Items = [] } = await product.runtime.dynamodb.send(
      new ScanCommand({
        TableName: String(product.outputs[OUTPUTS.tableName]),
        FilterExpression: "begins_with(pk, :documents)",
        ExpressionAttributeValues: { ":documents": { S: `TENANT#${tenant.tenantId}#DOC#` } },
      }),
    );
    expect(Items.map((item) => item["eventId"]?.S).sort()).toEqual([...LIFE.map(({ id }) => id), "other-document"].sort());
    // The other document has its own history.
    const { history } = await historyOf(tenant.call, OTHER);
    expect(history.events.map((event) => event.eventId)).toEqual(["other-document"]);
  });

  it("answers 404 for a document nobody sent and for another tenant's, 400 for what is no access key", async () => {
    const { tenant } = await delivered();
    const stranger = await fixture.env.newTenant("stranger");
    const missing = await problemOf(await tenant.call("GET", `/webhooks/documents/${UNSENT}`), 404);
    expect(await problemOf(await stranger.call("GET", `/webhooks/documents/${KEY}`), 404)).toEqual({ ...missing, detail: expect.any(String) });
    // Letters may stand in the CNPJ's positions (the 2026 alphanumeric CNPJ), in either case.
    await problemOf(await tenant.call("GET", `/webhooks/documents/3526111A2B3C4D000190570010000004561000004567`.toLowerCase()), 404);
    for (const bad of ["3526", `${KEY}0`, `${KEY.slice(0, 43)}-`, "%20".repeat(44)]) {
      const problem = await problemOf(await tenant.call("GET", `/webhooks/documents/${bad}`), 400);
      expect(problem["errors"]).toEqual([expect.objectContaining({ field: "documentKey (path)", rule: "documentKey" })]);
    }
    for (const query of ["?limit=0", "?limit=101", "?cursor=bogus", "?sort=asc"]) await problemOf(await tenant.call("GET", `/webhooks/documents/${KEY}${query}`), 400);
  });
});
