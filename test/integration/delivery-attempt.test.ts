import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attemptDelivery, type AttemptSetup } from "../../lambdas/delivery/attempt.ts";
import { createWebhookSender, type WebhookSender } from "../../lambdas/delivery/sender.ts";
import { deliveryLogEntry, failureRecord, isHeldBack, type Delivery, type DeliveryAttempt } from "../../lambdas/domain/delivery.ts";
import { parseRetrySchedule } from "../../lambdas/domain/retry-schedule.ts";
import { newSigningSecret } from "../../lambdas/domain/signing.ts";
import { answer, receiverFactory, verifyBoth, type HttpsReceiver } from "../../lib/dev/https-receiver.ts";

/** The log line of an outcome that has one. */
function logLine(delivery: Delivery, outcome: DeliveryAttempt) {
  if (isHeldBack(outcome)) throw new Error("a delivery held back writes no log line");
  return deliveryLogEntry(delivery, outcome);
}

describe("one delivery attempt", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "fw-attempt-"));
  const secret = newSigningSecret();
  // Standard Webhooks verification refuses timestamps far from now.
  const clock = new Date(Math.floor(Date.now() / 1000) * 1000);
  let receiver: HttpsReceiver;
  let sender: WebhookSender;
  let setup: AttemptSetup;
  const delivery = (attemptsBefore = 0): Delivery => ({
    deliveryId: "0b3f1c2e-5d6a-8b7c-9d8e-0f1a2b3c4d5e",
    tenantId: "ten_0123456789abcdef0123",
    eventId: "e1",
    eventType: "invoice.authorized",
    url: receiver.url,
    body: '{"id":"e1","type":"invoice.authorized","createdAt":"2026-11-27T12:00:00.000Z","data":{}}',
    createdAt: clock.toISOString(),
    attemptsBefore,
  });

  beforeAll(async () => {
    const receivers = await receiverFactory(dir);
    receiver = await receivers.start();
    sender = createWebhookSender({ allowLoopback: true, extraCaFile: receivers.caFile });
    setup = { sender, schedule: parseRetrySchedule([0, 5, 300]), timeoutMs: 2000, now: () => clock, random: () => 0 };
  });
  afterAll(async () => {
    sender.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is Delivered on a 2xx, signed both ways with every delivery header, and logs a success", async () => {
    receiver.behave(answer(204));
    const outcome = await attemptDelivery(setup, delivery(), 1, { secret });
    expect(outcome).toEqual({ kind: "delivered", attempt: 1, statusCode: 204, deliveredAt: clock.toISOString(), responseMs: expect.any(Number) });
    const got = receiver.received.at(-1)!;
    expect(verifyBoth(got, secret)).toEqual({ snippet: true, standard: true });
    expect(got.headers["webhook-id"]).toBe(delivery().deliveryId);
    expect(got.headers["x-webhook-event"]).toBe("invoice.authorized");
    expect(got.headers["x-webhook-attempt"]).toBe("1");
    expect(logLine(delivery(), outcome)).toMatchObject({ status: "success", attempts: 1, lastStatusCode: 204 });
  });

  it("is RetryAt the schedule's next delay, lengthened by Retry-After, with the attempt number carried on", async () => {
    receiver.behave(answer(503, "busy", { "retry-after": "60" }));
    const outcome = await attemptDelivery(setup, delivery(2), 1, { secret });
    expect(outcome).toEqual({
      kind: "retry-at",
      attempt: 3,
      delaySeconds: 60,
      failure: { reason: "HTTP 503 Service Unavailable", statusCode: 503, failedAt: clock.toISOString(), responseMs: expect.any(Number) },
    });
    expect(receiver.received.at(-1)?.headers["x-webhook-attempt"]).toBe("3");
    expect(logLine(delivery(2), outcome)).toMatchObject({ status: "retrying", attempts: 3, lastError: "HTTP 503 Service Unavailable" });
    if (outcome.kind !== "retry-at") throw new Error("expected a retry");
    expect(failureRecord(delivery(2), outcome)).toMatchObject({ attempt: 3, descricao: "HTTP 503 Service Unavailable", conteudo: delivery().body });
  });

  it("is Exhausted after the schedule's last step, and logs it failed", async () => {
    receiver.behave(answer(500));
    const outcome = await attemptDelivery(setup, delivery(), 3, { secret });
    expect(outcome).toMatchObject({ kind: "exhausted", attempt: 3, failure: { reason: "HTTP 500 Internal Server Error" } });
    expect(logLine(delivery(), outcome)).toMatchObject({ status: "failed", attempts: 3 });
  });

  it("sends nothing without a signing secret and says so", async () => {
    const before = receiver.received.length;
    const outcome = await attemptDelivery(setup, delivery(), 1, { secret: undefined });
    expect(outcome).toEqual({
      kind: "retry-at",
      attempt: 1,
      delaySeconds: 5,
      failure: { reason: "the tenant has no signing secret", statusCode: undefined, failedAt: clock.toISOString(), responseMs: undefined },
    });
    expect(receiver.received.length).toBe(before);
  });

  it("is Deferred, sending nothing and using no attempt, when the message is back before its time", async () => {
    const before = receiver.received.length;
    const due = new Date(clock.getTime() + 60_000).toISOString();
    expect(await attemptDelivery(setup, { ...delivery(), step: 2, notBefore: due }, 2, { secret })).toEqual({ kind: "deferred", until: due });
    expect(receiver.received.length).toBe(before);
  });

  it("is Canceled, sending nothing, when the delivery is no longer wanted", async () => {
    const before = receiver.received.length;
    const outcome = await attemptDelivery(setup, delivery(), 2, { secret, unwanted: "the subscription was removed" });
    expect(outcome).toEqual({ kind: "canceled", attempt: 1, reason: "the subscription was removed" });
    expect(logLine(delivery(), outcome)).toMatchObject({ status: "canceled", attempts: 1, lastError: "the subscription was removed" });
    expect(receiver.received.length).toBe(before);
  });
});
