import type { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import {
  deliveryExhaustedEvent,
  emitOperationalEvents,
  endpointDisabledEvent,
  endpointRecoveredEvent,
  operationalEventMessage,
  type OperationalEvent,
} from "../../lambdas/delivery/operational-events.ts";
import type { BatchTargets } from "../../lambdas/delivery/targets.ts";
import { EVENT_CATALOGUE, isOperationalEventType } from "../../lambdas/domain/catalogue.ts";
import type { Delivery, Exhausted } from "../../lambdas/domain/delivery.ts";
import { deliveryTargets, failingEndpoint, parseFiscalEvent, PRODUCT_ORIGIN } from "../../lambdas/domain/fiscal-event.ts";

const TENANT = "ten_0123456789abcdef0123";
const delivery: Delivery = {
  deliveryId: "6f1c2a9e-3b4d-8e5f-9a0b-1c2d3e4f5a6b",
  tenantId: TENANT,
  eventId: "nfe-42",
  eventType: "invoice.authorized",
  url: "https://erp.example.com/hooks",
  body: JSON.stringify({ id: "nfe-42", type: "invoice.authorized", createdAt: "2025-01-01T00:00:00.000Z", data: { chave: "PAYLOAD" } }),
  createdAt: "2025-01-01T00:00:00.000Z",
  attemptsBefore: 3,
};
const exhausted: Exhausted = { kind: "exhausted", attempt: 11, failure: { reason: "HTTP 503 Service Unavailable", statusCode: 503, failedAt: "2025-01-02T03:04:05.000Z" } };

/** How dispatch reads an operational event's message. */
const parsed = (event: OperationalEvent, origin: "product" | "producer" = "product") =>
  parseFiscalEvent(operationalEventMessage(event).body, "message-1", new Date(), origin);

describe("the catalogue", () => {
  it("marks the three operational types, and only them", () => {
    expect(EVENT_CATALOGUE.filter((entry) => entry.kind === "operational").map((entry) => entry.type)).toEqual([
      "webhook.endpoint.disabled",
      "webhook.endpoint.recovered",
      "webhook.delivery.exhausted",
    ]);
    expect(EVENT_CATALOGUE.filter((entry) => isOperationalEventType(entry.type))).toHaveLength(3);
    expect(isOperationalEventType("invoice.authorized")).toBe(false);
  });
});

describe("webhook.delivery.exhausted", () => {
  it("names the endpoint, the reason, the delivery and its event, never the body sent", () => {
    const event = deliveryExhaustedEvent(delivery, exhausted)!;
    expect(event).toEqual({
      tenantId: TENANT,
      type: "webhook.delivery.exhausted",
      id: `op.delivery.exhausted.${delivery.deliveryId}.11`,
      occurredAt: "2025-01-02T03:04:05.000Z",
      data: { endpoint: delivery.url, reason: "HTTP 503 Service Unavailable", deliveryId: delivery.deliveryId, eventId: "nfe-42", eventType: "invoice.authorized", attempts: 11 },
    });
    expect(JSON.stringify(event)).not.toContain("PAYLOAD");
  });

  it("is a new event when a DLQ retry is exhausted again (more attempts), and none for an operational event's own delivery", () => {
    expect(deliveryExhaustedEvent(delivery, { ...exhausted, attempt: 19 })?.id).toBe(`op.delivery.exhausted.${delivery.deliveryId}.19`);
    expect(deliveryExhaustedEvent({ ...delivery, eventType: "webhook.delivery.exhausted" }, exhausted)).toBeUndefined();
    expect(deliveryExhaustedEvent({ ...delivery, eventType: "webhook.endpoint.disabled" }, exhausted)).toBeUndefined();
  });
});

describe("webhook.endpoint.disabled and webhook.endpoint.recovered", () => {
  const since = new Date("2025-01-01T10:00:00.000Z");
  const at = new Date("2025-01-06T10:00:00.000Z");

  it("carry the endpoint, the reason and when, with ids the same for every spelling of one endpoint", () => {
    const disabled = endpointDisabledEvent(TENANT, "https://erp.example.com/hooks", "failing since 2025-01-01T10:00:00.000Z", since, at);
    expect(disabled).toEqual({
      tenantId: TENANT,
      type: "webhook.endpoint.disabled",
      id: expect.stringMatching(/^op\.endpoint\.disabled\.[0-9a-f]{16}\.1735725600000$/),
      occurredAt: at.toISOString(),
      data: { endpoint: "https://erp.example.com/hooks", reason: "failing since 2025-01-01T10:00:00.000Z", since: since.toISOString() },
    });
    expect(endpointDisabledEvent(TENANT, "https://ERP.example.com:443/hooks", "HTTP 410 Gone", since, new Date()).id).toBe(disabled.id);
    expect(endpointDisabledEvent(TENANT, "https://erp.example.com/other", "HTTP 410 Gone", since, at).id).not.toBe(disabled.id);
    expect(endpointDisabledEvent(TENANT, "https://erp.example.com/hooks", "HTTP 410 Gone", at, at).id).not.toBe(disabled.id);

    const recovered = endpointRecoveredEvent(TENANT, "https://erp.example.com/hooks", "re-enabled", at);
    expect(recovered).toEqual({
      tenantId: TENANT,
      type: "webhook.endpoint.recovered",
      id: expect.stringMatching(/^op\.endpoint\.recovered\.[0-9a-f]{16}\.1736157600000$/),
      occurredAt: at.toISOString(),
      data: { endpoint: "https://erp.example.com/hooks", reason: "re-enabled" },
    });
  });

  it("travel in the producers' contract, accepted from the product and refused from a producer", () => {
    for (const event of [
      deliveryExhaustedEvent(delivery, exhausted)!,
      endpointDisabledEvent(TENANT, delivery.url, "HTTP 410 Gone", since, at),
      endpointRecoveredEvent(TENANT, delivery.url, "re-enabled", at),
    ]) {
      expect(operationalEventMessage(event).attributes).toEqual({ [PRODUCT_ORIGIN.attribute]: PRODUCT_ORIGIN.value });
      expect(parsed(event)).toEqual({
        ok: true,
        event: { tenantId: TENANT, type: event.type, id: event.id, idFromProducer: true, createdAt: event.occurredAt, data: event.data },
      });
      expect(parsed(event, "producer")).toEqual({
        ok: false,
        reason: `breaks the event contract: type ${event.type} is an operational event only the product emits`,
      });
    }
    const body = JSON.stringify({ tenantId: TENANT, type: "webhook.endpoint.recovered", data: { reason: "no endpoint" } });
    expect(parseFiscalEvent(body, "m", new Date(), "product")).toEqual({
      ok: false,
      reason: "breaks the event contract: data.endpoint must name the endpoint (a string)",
    });
  });
});

describe("where an operational event goes", () => {
  it("never to the endpoint it is about, however it is spelled", () => {
    const event = deliveryExhaustedEvent(delivery, exhausted)!;
    const about = failingEndpoint({ type: event.type, data: event.data });
    expect(about).toBe(delivery.url);
    const config = { webhookUrl: "https://ERP.example.com:443/./hooks", events: ["webhook.delivery.exhausted"] };
    const subscriptions = [
      { id: 1, endpoint: "https://ops.example.com/" },
      { id: 2, endpoint: delivery.url },
    ];
    expect(deliveryTargets(event.type, subscriptions, config, about)).toEqual([{ url: "https://ops.example.com/" }]);
    // A fiscal event's data is the producer's: an `endpoint` field there excludes nothing.
    expect(failingEndpoint({ type: "invoice.authorized", data: { endpoint: "https://ops.example.com/" } })).toBeUndefined();
  });
});

describe("emitting operational events", () => {
  const event = deliveryExhaustedEvent(delivery, exhausted)!;
  const other = deliveryExhaustedEvent({ ...delivery, tenantId: "ten_ffffffffffffffffffff", deliveryId: "7f1c2a9e-3b4d-8e5f-9a0b-1c2d3e4f5a6b" }, exhausted)!;
  /** Only the first tenant has an endpoint for the notice. */
  const targets: Pick<BatchTargets, "urlsFor"> = {
    urlsFor: async (tenantId, _type, except) => (tenantId === TENANT ? ["https://ops.example.com/", String(except)] : []).filter((url) => url !== except),
  };
  const client = (answer: (command: SendMessageBatchCommand) => unknown) => {
    const calls: SendMessageBatchCommand[] = [];
    return { calls, sqs: { send: async (command: SendMessageBatchCommand) => (calls.push(command), answer(command)) } as unknown as SQSClient };
  };

  it("sends in one batch call those some endpoint would receive, marked as the product's", async () => {
    const { calls, sqs } = client(() => ({ Successful: [], Failed: [] }));
    await emitOperationalEvents([event, other, event], { sqs, queueUrl: "https://sqs.example/events", targets });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.input.QueueUrl).toBe("https://sqs.example/events");
    expect(calls[0]!.input.Entries?.map((entry) => [entry.MessageBody, entry.MessageAttributes])).toEqual(
      [event, event].map((e) => [JSON.stringify(e), { [PRODUCT_ORIGIN.attribute]: { DataType: "String", StringValue: PRODUCT_ORIGIN.value } }]),
    );
    await emitOperationalEvents([other], { sqs, queueUrl: "https://sqs.example/events", targets });
    await emitOperationalEvents([], { sqs, queueUrl: "https://sqs.example/events", targets });
    expect(calls).toHaveLength(1);
  });

  it("never throws when SQS refuses them, nor when the targets cannot be read (it sends then)", async () => {
    const { calls, sqs } = client(() => {
      throw new Error("SQS is down");
    });
    const unreadable: Pick<BatchTargets, "urlsFor"> = { urlsFor: async () => Promise.reject(new Error("DynamoDB is down")) };
    await expect(emitOperationalEvents([event, other], { sqs, queueUrl: "https://sqs.example/events", targets: unreadable })).resolves.toBeUndefined();
    expect(calls[0]!.input.Entries).toHaveLength(2);
  });
});
