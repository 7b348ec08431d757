import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { changeVisibilities, sendMessages } from "../../lib/aws/sqs-batch.ts";
import { ENV } from "../contract/resources.ts";
import { attemptDelivery, type AttemptSetup } from "../delivery/attempt.ts";
import { batchTargets } from "../delivery/targets.ts";
import { createWebhookSender } from "../delivery/sender.ts";
import { deliveryLogEntry, failureRecord, parseDeliveryMessage, type Delivery, type DeliveryAttempt } from "../domain/delivery.ts";
import { MAX_RETRY_DELAY_SECONDS, parseRetrySchedule } from "../domain/retry-schedule.ts";
import { requiredEnv } from "../shared/env.ts";
import { logger } from "../shared/logger.ts";
import { sqsWorker } from "../shared/worker.ts";
import { onceEach } from "../shared/once-each.ts";
import { addressPolicy } from "../shared/policy.ts";
import { sqs } from "../shared/sqs.ts";
import { configs, deliveryLogs as logs, failures, subscriptions, tenants } from "../shared/stores.ts";

const deliveriesQueueUrl = requiredEnv(ENV.deliveriesQueueUrl);
const deadLetterQueueUrl = requiredEnv(ENV.deliveriesDeadLetterQueueUrl);
const setup: AttemptSetup = {
  schedule: parseRetrySchedule(requiredEnv(ENV.retrySchedule)),
  timeoutMs: Number(requiredEnv(ENV.deliveryTimeoutMs)),
  // One keep-alive agent for the life of the execution environment. Local receivers' CAs
  // arrive through the standard NODE_EXTRA_CA_CERTS variable.
  sender: createWebhookSender({
    allowLoopback: addressPolicy.allowLoopback,
    ...(process.env["NODE_EXTRA_CA_CERTS"] ? { extraCaFile: process.env["NODE_EXTRA_CA_CERTS"] } : {}),
  }),
};

interface Attempted {
  readonly record: SQSRecord;
  readonly delivery: Delivery;
  readonly outcome: DeliveryAttempt;
}

/**
 * Signs and POSTs each delivery of the batch concurrently, then records every outcome in
 * one batched log write (plus a failure record per failed attempt). Failed deliveries stay
 * in the queue with their visibility set to the retry schedule's next delay; after the
 * last attempt they are released at once and SQS moves them to the dead-letter queue.
 * Delivered and canceled ones are deleted as the batch succeeds.
 */
async function handle(event: SQSEvent): Promise<SQSBatchResponse> {
  const startedAt = Date.now();
  const valid: { record: SQSRecord; delivery: Delivery }[] = [];
  const malformed: { record: SQSRecord; reason: string; body: string; attributes: Record<string, string> }[] = [];
  for (const record of event.Records) {
    const parsed = parseDeliveryMessage(record.body);
    if (parsed.ok) valid.push({ record, delivery: parsed.delivery });
    else malformed.push({ record, reason: parsed.reason, body: record.body, attributes: { "rejection-reason": parsed.reason } });
  }

  // Read per batch, never cached across batches: a regenerated secret signs the very next delivery.
  const secretOf = onceEach(async (tenantId: string) => (await configs.getSecret(tenantId))?.secret);
  const targets = batchTargets({ tenants, subscriptions, configs });
  /** A retry checks that its delivery is still wanted; a first attempt follows its dispatch by moments. */
  const unwanted = async (delivery: Delivery): Promise<string | undefined> =>
    (await targets.tenantProblem(delivery.tenantId)) ??
    ((await targets.urlsFor(delivery.tenantId, delivery.eventType)).includes(delivery.url)
      ? undefined
      : `no subscription or account webhook sends ${delivery.eventType} to this endpoint any more`);

  const attempted: Attempted[] = await Promise.all(
    valid.map(async ({ record, delivery }) => {
      // The receive count is the step of the schedule this message is on.
      const step = Number(record.attributes.ApproximateReceiveCount);
      const retry = step > 1 || delivery.attemptsBefore > 0;
      const [secret, stop] = await Promise.all([secretOf(delivery.tenantId), retry ? unwanted(delivery) : undefined]);
      const outcome = await attemptDelivery(setup, delivery, step, { secret, unwanted: stop });
      if (outcome.kind === "canceled") logger.info("delivery canceled", { deliveryId: delivery.deliveryId, reason: outcome.reason });
      else if (outcome.kind !== "delivered") {
        const retryIn = outcome.kind === "retry-at" ? outcome.delaySeconds : undefined;
        logger.info("delivery attempt failed", { deliveryId: delivery.deliveryId, attempts: outcome.attempt, reason: outcome.failure.reason, retryIn });
      }
      return { record, delivery, outcome };
    }),
  );
  await logs.recordAll(attempted.map(({ delivery, outcome }) => deliveryLogEntry(delivery, outcome)));
  await Promise.all(
    attempted.flatMap(({ delivery, outcome }) =>
      outcome.kind === "retry-at" || outcome.kind === "exhausted" ? [failures.record(failureRecord(delivery, outcome))] : [],
    ),
  );

  // Both stay in the queue: a retry becomes visible at its scheduled time; an exhausted
  // delivery is released at once, and SQS's redrive moves it to the dead-letter queue.
  // SQS refuses a visibility reaching past 12 h from the receive; this batch was received
  // about when the invocation began.
  const latest = MAX_RETRY_DELAY_SECONDS - Math.ceil((Date.now() - startedAt) / 1000) - 60;
  const undelivered = attempted.flatMap(({ record, outcome }) =>
    outcome.kind === "retry-at" || outcome.kind === "exhausted"
      ? [{ record, receiptHandle: record.receiptHandle, visibilityTimeout: outcome.kind === "retry-at" ? Math.min(outcome.delaySeconds, latest) : 0 }]
      : [],
  );
  // Such a delivery comes back after the queue's own visibility timeout instead: retried sooner, never lost.
  for (const { reason } of await changeVisibilities(sqs, deliveriesQueueUrl, undelivered)) logger.warn("retry delay not applied", { reason });

  const notSetAside = await sendMessages(sqs, deadLetterQueueUrl, malformed);
  for (const { record, reason } of malformed) logger.warn("delivery message set aside", { messageId: record.messageId, reason });
  return {
    batchItemFailures: [...undelivered.map((u) => u.record), ...notSetAside.map((failed) => failed.entry.record)].map((record) => ({
      itemIdentifier: record.messageId,
    })),
  };
}

export const handler = sqsWorker(handle);
