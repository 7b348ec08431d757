import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { MAX_MESSAGE_BYTES, messageSize, sendMessages } from "../../lib/aws/sqs-batch.ts";
import { ENV } from "../contract/resources.ts";
import { documentHistoryBatch } from "../delivery/document-history.ts";
import { batchTargets, targetCaches, type BatchTargets } from "../delivery/targets.ts";
import { atLargest, deliveryMessage, type Delivery } from "../domain/delivery.ts";
import { deliveryIdFor, failingEndpoint, orderedRoute, parseFiscalEvent, PRODUCT_ORIGIN, type FiscalEvent } from "../domain/fiscal-event.ts";
import { webhookEnvelope } from "../domain/webhook-message.ts";
import { requiredEnv } from "../shared/env.ts";
import { logger } from "../shared/logger.ts";
import { publishEvents } from "../shared/metrics.ts";
import { heldBehind } from "../shared/message-groups.ts";
import { sqsWorker } from "../shared/worker.ts";
import { boundedText, MAX_REASON_CHARACTERS } from "../shared/json.ts";
import { sqs } from "../shared/sqs.ts";
import type { ProducerEvent } from "../data/deliveries.ts";
import { configs, dispatchedEvents as dispatched, documentHistory, subscriptions, tenants } from "../shared/stores.ts";

const deliveriesQueueUrl = requiredEnv(ENV.deliveriesQueueUrl);
const orderedDeliveriesQueueUrl = requiredEnv(ENV.orderedDeliveriesQueueUrl);
const eventsDeadLetterQueueUrl = requiredEnv(ENV.eventsDeadLetterQueueUrl);
/** The events queue's maxReceiveCount: the receive after which SQS sets a failing event aside. */
const eventMaxReceives = Number(requiredEnv(ENV.eventMaxReceives));
/** Where events go (tenant, subscriptions by type, config), as this warm environment read it at most configCacheSeconds ago. */
const caches = targetCaches(Number(requiredEnv(ENV.configCacheSeconds)));

/** An event set aside: it goes to the events dead-letter queue with the reason, never dropped. */
interface Rejection {
  readonly record: SQSRecord;
  readonly reason: string;
}

/**
 * Fan-out: each fiscal event becomes one `deliveries` message per target endpoint. Events
 * that break the contract or cannot travel are set aside with their reason; a failure while
 * dispatching one event makes SQS retry that event only. An event with a producer id is
 * claimed before anything is sent (see DispatchedEventStore), so copies of it, in this
 * batch or in another running at once, send nothing.
 */
async function handle(event: SQSEvent): Promise<SQSBatchResponse> {
  const failed = new Set<SQSRecord>();
  const rejections: Rejection[] = [];
  const accepted: { record: SQSRecord; event: FiscalEvent }[] = [];
  for (const record of event.Records) {
    const origin = record.messageAttributes[PRODUCT_ORIGIN.attribute]?.stringValue === PRODUCT_ORIGIN.value ? "product" : "producer";
    const parse = parseFiscalEvent(record.body, record.messageId, new Date(Number(record.attributes.SentTimestamp)), origin);
    if (parse.ok) accepted.push({ record, event: parse.event });
    else rejections.push({ record, reason: parse.reason });
  }

  const targets = batchTargets({ tenants, subscriptions, configs }, caches);
  const claimed = new Map<SQSRecord, ProducerEvent>();
  const inBatch = new Set<string>();
  const deliveries: { record: SQSRecord; body: string; groupId?: string; deduplicationId?: string }[] = [];
  const history = documentHistoryBatch<SQSRecord>(documentHistory);
  await Promise.all(
    accepted.map(async ({ record, event: fiscalEvent }) => {
      const producerEvent = fiscalEvent.idFromProducer ? { tenantId: fiscalEvent.tenantId, eventId: fiscalEvent.id } : undefined;
      // Checked before any await: the same id twice in one batch costs no claim.
      const batchKey = `${fiscalEvent.tenantId}\n${fiscalEvent.id}`;
      if (producerEvent && inBatch.has(batchKey)) return alreadyDispatched(producerEvent);
      inBatch.add(batchKey);
      try {
        const problem = await targets.tenantProblem(fiscalEvent.tenantId);
        if (problem) return void rejections.push({ record, reason: problem });
        const acceptedAt = new Date(Number(record.attributes.SentTimestamp)).toISOString();
        const planned = await plan(fiscalEvent, targets, acceptedAt);
        const messages = planned.map(deliveryMessage);
        // Checked before anything is claimed or sent, at the size the message can grow to on its
        // way: an event whose webhook cannot travel is set aside, not retried.
        const largest = Math.max(0, ...planned.map((delivery) => messageSize(deliveryMessage(atLargest(delivery)))));
        if (largest > MAX_MESSAGE_BYTES) {
          return void rejections.push({ record, reason: `its webhook makes a deliveries message of ${largest} bytes; SQS carries at most ${MAX_MESSAGE_BYTES}` });
        }
        if (producerEvent) {
          if (!(await dispatched.claim(producerEvent, record.messageId))) return alreadyDispatched(producerEvent);
          claimed.set(record, producerEvent);
        }
        planned.forEach((delivery, index) => deliveries.push({ record, ...messages[index]!, ...orderedRoute(fiscalEvent, delivery) }));
        history.add(record, fiscalEvent, acceptedAt, planned);
      } catch (error) {
        logger.error("dispatch failed", { messageId: record.messageId, error: error as Error });
        failed.add(record);
      }
    }),
  );

  // An event of a FIFO group that failed holds back the group's later events in this batch:
  // they send nothing now and come back after it, in order.
  for (const record of heldBehind(event.Records, failed)) failed.add(record);
  // The history first: a webhook a receiver gets is always in its document's history.
  for (const record of await history.write()) failed.add(record);
  for (const record of heldBehind(event.Records, failed)) failed.add(record);
  const sending = deliveries.filter(({ record }) => !failed.has(record));
  // Ordered deliveries go in the order of their events in the batch (planning ran concurrently).
  const position = new Map(event.Records.map((record, index) => [record, index]));
  const ordered = sending.filter((entry) => entry.groupId !== undefined).sort((a, b) => position.get(a.record)! - position.get(b.record)!);
  const refused = await Promise.all([
    sendMessages(sqs, deliveriesQueueUrl, sending.filter((entry) => entry.groupId === undefined)),
    sendMessages(sqs, orderedDeliveriesQueueUrl, ordered),
  ]);
  for (const { entry, reason, senderFault } of refused.flat()) {
    // SQS blaming the message itself will not change its mind on a retry.
    if (senderFault) rejections.push({ record: entry.record, reason: `the deliveries queue refused its webhook: ${reason}` });
    else failed.add(entry.record);
  }

  const setAside = rejections.map(({ record, reason }) => ({ record, reason: boundedText(reason, MAX_REASON_CHARACTERS) }));
  const notSetAside = await sendMessages(
    sqs,
    eventsDeadLetterQueueUrl,
    setAside.map(({ record, reason }) => ({
      record,
      body: record.body,
      attributes: { "rejection-reason": reason, "original-message-id": record.messageId },
    })),
  );
  for (const { record, reason } of setAside) logger.warn("event set aside", { messageId: record.messageId, reason });
  for (const { entry } of notSetAside) failed.add(entry.record);

  for (const record of heldBehind(event.Records, failed)) failed.add(record);
  const rejected = new Set(rejections.map(({ record }) => record));
  // A message that gives up lets its claim go, so the event can be dispatched when redriven.
  const givingUp = [...claimed].filter(
    ([record]) => rejected.has(record) || (failed.has(record) && Number(record.attributes.ApproximateReceiveCount) >= eventMaxReceives),
  );
  await Promise.all(
    givingUp.map(([record, producerEvent]) =>
      // A claim left held only blocks a redrive of this event: never worth failing the batch over.
      dispatched.release(producerEvent, record.messageId).catch((error: unknown) => {
        logger.error("producer-id claim not released", { ...producerEvent, messageId: record.messageId, error: error as Error });
      }),
    ),
  );
  const queued = new Set(deliveries.map(({ record }) => record));
  publishEvents([...queued].filter((record) => !failed.has(record) && !rejected.has(record)).length, setAside.length - notSetAside.length);
  return { batchItemFailures: [...failed].map((record) => ({ itemIdentifier: record.messageId })) };
}

function alreadyDispatched(event: ProducerEvent): void {
  logger.info("event already dispatched", { tenantId: event.tenantId, eventId: event.eventId });
}

async function plan(fiscalEvent: FiscalEvent, targets: BatchTargets, acceptedAt: string): Promise<Delivery[]> {
  const endpoints = await targets.targetsFor(fiscalEvent.tenantId, fiscalEvent.type, failingEndpoint(fiscalEvent), fiscalEvent.cnpj);
  const body = webhookEnvelope(fiscalEvent);
  const createdAt = new Date().toISOString();
  return endpoints.map(({ url, credential, maxPerSecond }) => ({
    deliveryId: deliveryIdFor(fiscalEvent.tenantId, fiscalEvent.id, url),
    tenantId: fiscalEvent.tenantId,
    eventId: fiscalEvent.id,
    eventType: fiscalEvent.type,
    url,
    body,
    createdAt,
    attemptsBefore: 0,
    step: 1,
    acceptedAt,
    credential,
    ...(maxPerSecond === undefined ? {} : { maxPerSecond }),
    ...(fiscalEvent.cnpj === undefined ? {} : { cnpj: fiscalEvent.cnpj }),
  }));
}

export const handler = sqsWorker(handle);
