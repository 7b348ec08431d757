import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { ENV } from "../contract/resources.ts";
import type { EventType } from "../domain/catalogue.ts";
import type { Delivery } from "../domain/delivery.ts";
import type { WebhookConfig } from "../domain/webhook-config.ts";
import { deliveryIdFor, deliveryTargets, parseFiscalEvent, webhookBody, type FiscalEvent } from "../domain/fiscal-event.ts";
import { dynamo } from "../shared/dynamo.ts";
import { requiredEnv } from "../shared/env.ts";
import { logger } from "../shared/logger.ts";
import { onceEach } from "../shared/once-each.ts";
import { sqs } from "../shared/sqs.ts";
import { DispatchedEventStore } from "../data/deliveries.ts";
import { sendAll } from "../store/queues.ts";
import { SubscriptionStore } from "../data/subscriptions.ts";
import { TenantStore } from "../data/tenants.ts";
import { WebhookConfigStore } from "../data/webhook-config.ts";

const tableName = requiredEnv(ENV.tableName);
const deliveriesQueueUrl = requiredEnv(ENV.deliveriesQueueUrl);
const eventsDeadLetterQueueUrl = requiredEnv(ENV.eventsDeadLetterQueueUrl);
const tenants = new TenantStore(dynamo, tableName);
const subscriptions = new SubscriptionStore(dynamo, tableName);
const configs = new WebhookConfigStore(dynamo, tableName);
const dispatched = new DispatchedEventStore(dynamo, tableName);

/** An event set aside: it goes to the events dead-letter queue with the reason, never dropped. */
interface Rejection {
  readonly record: SQSRecord;
  readonly reason: string;
}

/**
 * Fan-out: each fiscal event becomes one `deliveries` message per target endpoint. Events
 * that break the contract are set aside with their reason; a failure while dispatching
 * one event makes SQS retry that event only.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const failed = new Set<string>();
  const rejections: Rejection[] = [];
  const accepted: { record: SQSRecord; event: FiscalEvent }[] = [];
  for (const record of event.Records) {
    const parse = parseFiscalEvent(record.body, record.messageId, new Date(Number(record.attributes.SentTimestamp)));
    if (parse.ok) accepted.push({ record, event: parse.event });
    else rejections.push({ record, reason: parse.reason });
  }

  /** Why events of this tenant cannot be dispatched, if they cannot (read once per batch). */
  const tenantProblem = onceEach(async (tenantId) => {
    const tenant = await tenants.get(tenantId, false);
    if (!tenant) return `unknown tenant ${tenantId}`;
    return tenant.status === "active" ? undefined : `tenant ${tenantId} is revoked`;
  });

  // Events of one tenant and type in a batch share one subscriptions query and one config read.
  const reads: PlanReads = {
    subscribers: onceEach(async (key) => {
      const [tenantId = "", type] = key.split("\n");
      return (await subscriptions.listForEvent(tenantId, type as EventType)).map((s) => s.endpoint);
    }),
    config: onceEach((tenantId) => configs.getConfig(tenantId, false)),
  };

  const seen = await dispatched.alreadyDispatched(
    accepted.filter((a) => a.event.idFromProducer).map((a) => ({ tenantId: a.event.tenantId, eventId: a.event.id })),
  );
  const deliveries: { messageId: string; delivery: Delivery }[] = [];
  const toMark: { messageId: string; tenantId: string; eventId: string }[] = [];
  await Promise.all(
    accepted.map(async ({ record, event: fiscalEvent }) => {
      // Checked (and noted) before any await: the same id twice in one batch is dispatched once.
      const key = `${fiscalEvent.tenantId}\n${fiscalEvent.id}`;
      if (fiscalEvent.idFromProducer && seen.has(key)) {
        logger.info("event already dispatched", { tenantId: fiscalEvent.tenantId, eventId: fiscalEvent.id });
        return;
      }
      if (fiscalEvent.idFromProducer) seen.add(key);
      try {
        const problem = await tenantProblem(fiscalEvent.tenantId);
        if (problem) {
          rejections.push({ record, reason: problem });
          return;
        }
        for (const delivery of await plan(fiscalEvent, reads)) deliveries.push({ messageId: record.messageId, delivery });
        if (fiscalEvent.idFromProducer) {
          toMark.push({ messageId: record.messageId, tenantId: fiscalEvent.tenantId, eventId: fiscalEvent.id });
        }
      } catch (error) {
        logger.error("dispatch failed", { messageId: record.messageId, error: error as Error });
        failed.add(record.messageId);
      }
    }),
  );

  const refused = await sendAll(
    sqs,
    deliveriesQueueUrl,
    deliveries.map(({ messageId, delivery }) => ({ id: `${messageId}|${delivery.deliveryId}`, body: JSON.stringify(delivery) })),
  );
  for (const id of refused) failed.add(id.split("|")[0]!);
  // The deliveries are out: failing the batch now would send them all again. A missing
  // marker only means a later re-injection of the same id is not recognised.
  await dispatched.markDispatched(toMark.filter((m) => !failed.has(m.messageId))).catch((error: unknown) => {
    logger.error("could not mark events dispatched", { count: toMark.length, error: error as Error });
  });

  const setAside = await sendAll(
    sqs,
    eventsDeadLetterQueueUrl,
    rejections.map(({ record, reason }) => ({
      id: record.messageId,
      body: record.body,
      attributes: { "rejection-reason": reason.slice(0, 1000), "original-message-id": record.messageId },
    })),
  );
  for (const { record, reason } of rejections) {
    logger.warn("event set aside", { messageId: record.messageId, reason });
    if (setAside.has(record.messageId)) failed.add(record.messageId);
  }
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
}

interface PlanReads {
  /** Endpoints subscribed to a type, by `${tenantId}\n${type}`. */
  readonly subscribers: (key: string) => Promise<string[]>;
  readonly config: (tenantId: string) => Promise<WebhookConfig | undefined>;
}

async function plan(fiscalEvent: FiscalEvent, reads: PlanReads): Promise<Delivery[]> {
  const [subscribed, account] = await Promise.all([
    reads.subscribers(`${fiscalEvent.tenantId}\n${fiscalEvent.type}`),
    reads.config(fiscalEvent.tenantId),
  ]);
  const targets = deliveryTargets(fiscalEvent.type, subscribed, account);
  const body = webhookBody(fiscalEvent);
  const createdAt = new Date().toISOString();
  return targets.map((url) => ({
    deliveryId: deliveryIdFor(fiscalEvent.tenantId, fiscalEvent.id, url),
    tenantId: fiscalEvent.tenantId,
    eventId: fiscalEvent.id,
    eventType: fiscalEvent.type,
    url,
    body,
    createdAt,
    attemptsBefore: 0,
  }));
}
