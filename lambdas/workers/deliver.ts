import { ChangeMessageVisibilityBatchCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { createWebhookSender } from "../delivery/sender.ts";
import { ENV } from "../contract/resources.ts";
import { parseDeliveryMessage, type Delivery, type DeliveryLogEntry, type FailureRecord } from "../domain/delivery.ts";
import { MAX_RETRY_DELAY_SECONDS, nextRetryDelay, parseRetrySchedule } from "../domain/retry-schedule.ts";
import { signDelivery } from "../domain/signing.ts";
import { dynamo } from "../shared/dynamo.ts";
import { requiredEnv } from "../shared/env.ts";
import { logger } from "../shared/logger.ts";
import { onceEach } from "../shared/once-each.ts";
import { addressPolicy } from "../shared/policy.ts";
import { sqs } from "../shared/sqs.ts";
import { DeliveryLogStore, FailureStore } from "../data/deliveries.ts";
import { sendAll } from "../store/queues.ts";
import { WebhookConfigStore } from "../data/webhook-config.ts";

const tableName = requiredEnv(ENV.tableName);
const deliveriesQueueUrl = requiredEnv(ENV.deliveriesQueueUrl);
const deadLetterQueueUrl = requiredEnv(ENV.deliveriesDeadLetterQueueUrl);
const schedule = parseRetrySchedule(requiredEnv(ENV.retrySchedule));
const timeoutMs = Number(requiredEnv(ENV.deliveryTimeoutMs));
const logs = new DeliveryLogStore(dynamo, tableName);
const failures = new FailureStore(dynamo, tableName);
const secrets = new WebhookConfigStore(dynamo, tableName);
// One keep-alive agent for the life of the execution environment. Local receivers' CAs
// arrive through the standard NODE_EXTRA_CA_CERTS variable.
const sender = createWebhookSender({
  allowLoopback: addressPolicy.allowLoopback,
  ...(process.env["NODE_EXTRA_CA_CERTS"] ? { extraCaFile: process.env["NODE_EXTRA_CA_CERTS"] } : {}),
});

interface Outcome {
  readonly record: SQSRecord;
  readonly log: DeliveryLogEntry;
  readonly failure?: FailureRecord;
  /** Seconds until the next attempt; undefined when delivered, 0 when exhausted (straight to the DLQ). */
  readonly retryIn?: number;
}

/**
 * Signs and POSTs each delivery of the batch concurrently, then records every outcome in
 * one batched log write (plus a failure record per failed attempt). Failed deliveries stay
 * in the queue with their visibility set to the retry schedule's next delay; after the
 * last attempt they are released at once and SQS moves them to the dead-letter queue.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const startedAt = Date.now();
  const valid: { record: SQSRecord; delivery: Delivery }[] = [];
  const malformed: { record: SQSRecord; reason: string }[] = [];
  for (const record of event.Records) {
    const parsed = parseDeliveryMessage(record.body);
    if (parsed.ok) valid.push({ record, delivery: parsed.delivery });
    else malformed.push({ record, reason: parsed.reason });
  }

  // Read per batch, never cached across batches: a regenerated secret signs the very next delivery.
  const secretOf = onceEach(async (tenantId) => (await secrets.getSecret(tenantId))?.secret);

  const outcomes = await Promise.all(valid.map(({ record, delivery }) => attempt(record, delivery, secretOf)));
  await logs.recordAll(outcomes.map((o) => o.log));
  await Promise.all(outcomes.flatMap((o) => (o.failure ? [failures.record(o.failure)] : [])));

  const retries = outcomes.filter((o) => o.retryIn !== undefined);
  // SQS refuses a visibility reaching past 12 h from the receive; this batch was received
  // about when the invocation began.
  const latest = MAX_RETRY_DELAY_SECONDS - Math.ceil((Date.now() - startedAt) / 1000) - 60;
  for (let start = 0; start < retries.length; start += 10) {
    const { Failed = [] } = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: deliveriesQueueUrl,
        Entries: retries.slice(start, start + 10).map((o, i) => ({
          Id: String(i),
          ReceiptHandle: o.record.receiptHandle,
          VisibilityTimeout: Math.min(o.retryIn ?? 0, latest),
        })),
      }),
    );
    // Such a delivery comes back after the queue's own visibility timeout instead: retried sooner, never lost.
    for (const failure of Failed) logger.warn("retry delay not applied", { code: failure.Code, message: failure.Message });
  }

  const notSetAside = await sendAll(
    sqs,
    deadLetterQueueUrl,
    malformed.map(({ record, reason }) => ({ id: record.messageId, body: record.body, attributes: { "rejection-reason": reason } })),
  );
  for (const { record, reason } of malformed) logger.warn("delivery message set aside", { messageId: record.messageId, reason });
  return {
    batchItemFailures: [...retries.map((o) => o.record.messageId), ...notSetAside].map((itemIdentifier) => ({ itemIdentifier })),
  };
}

async function attempt(
  record: SQSRecord,
  delivery: Delivery,
  secretOf: (tenantId: string) => Promise<string | undefined>,
): Promise<Outcome> {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount);
  const attempts = delivery.attemptsBefore + receiveCount;
  const base = {
    deliveryId: delivery.deliveryId,
    tenantId: delivery.tenantId,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    url: delivery.url,
    attempts,
    createdAt: delivery.createdAt,
  };
  const now = new Date();
  const secret = await secretOf(delivery.tenantId);
  const response = secret
    ? await sender.send({
        url: delivery.url,
        body: delivery.body,
        timeoutMs,
        headers: {
          ...signDelivery({ secret, webhookId: delivery.deliveryId, timestamp: now, body: delivery.body }),
          "x-webhook-event": delivery.eventType,
          "x-webhook-attempt": String(attempts),
        },
      })
    : { ok: false, failure: "the tenant has no signing secret", statusCode: undefined, retryAfterSeconds: undefined };
  if (response.ok) {
    return { record, log: { ...base, status: "success", deliveredAt: new Date().toISOString(), lastStatusCode: response.statusCode } };
  }
  const reason = response.failure ?? "delivery failed";
  const delay = nextRetryDelay(schedule, receiveCount, response.retryAfterSeconds);
  logger.info("delivery attempt failed", { deliveryId: delivery.deliveryId, attempts, reason, retryIn: delay });
  return {
    record,
    log: { ...base, status: delay === undefined ? "failed" : "retrying", lastError: reason, lastStatusCode: response.statusCode },
    failure: {
      tenantId: delivery.tenantId,
      deliveryId: delivery.deliveryId,
      attempt: attempts,
      evento: delivery.eventType,
      url: delivery.url,
      descricao: reason,
      conteudo: delivery.body,
      failedAt: now.toISOString(),
    },
    retryIn: delay ?? 0,
  };
}
