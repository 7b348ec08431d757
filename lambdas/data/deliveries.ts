import { brazilDate, brazilMillisOfDay } from "../domain/brazil-date.ts";
import type { DeliveryLogEntry, FailureRecord } from "../domain/delivery.ts";
import { getAll, putAll } from "./batch.ts";
import { conditionally } from "./conditional.ts";
import { failureIds, keys, queries } from "./keys.ts";
import { queryShardedPage } from "./query.ts";
import { entityOf, expiringAfter, IF_ABSENT, TableStore, TTL, type Item } from "./table.ts";

/**
 * How long logs, failure records, dispatched-event markers and document histories are kept
 * (TTL). A document's history names log lines: it is kept as long as they are.
 */
export const RETENTION_DAYS = { logs: 30, failures: 90, dispatchedEvents: 7, documentEvents: 30 } as const;

/** An event a producer named: its id is unique per tenant. */
export interface ProducerEvent {
  readonly tenantId: string;
  readonly eventId: string;
}

export interface LogPage {
  readonly entries: DeliveryLogEntry[];
  readonly nextCursor: string | undefined;
}

/** Delivery logs: one line per delivery, rewritten by each outcome. */
export class DeliveryLogStore extends TableStore {
  /** Unconditional, batched: a requeue from the DLQ, or fresh messages' first attempts (`recordedBy` their message). */
  async recordAll(entries: readonly (DeliveryLogEntry & { readonly recordedBy?: string })[], now = new Date()): Promise<void> {
    await putAll(
      this.table,
      entries.map((entry) => ({
        ...keys.deliveryLog(entry.tenantId, entry.createdAt, entry.deliveryId),
        ...entry,
        ...expiringAfter(now, RETENTION_DAYS.logs),
      })),
    );
  }

  /**
   * Records an attempt's outcome unless the delivery has moved past it — the write protocol
   * that keeps one delivery one chain of messages. An attempt is recorded when its number is
   * above the line's, or equal and recorded by this same SQS message (a re-run after a crash);
   * never over a success. `false` means another message already carries this delivery on
   * (a copy SQS delivered twice, or a step queued twice after a crash): this one stops there.
   */
  async recordAttempt(entry: DeliveryLogEntry, messageId: string, attempted: boolean, now = new Date()): Promise<boolean> {
    const { written } = await conditionally(
      this.table.put({
        Item: {
          ...keys.deliveryLog(entry.tenantId, entry.createdAt, entry.deliveryId),
          ...entry,
          recordedBy: messageId,
          ...expiringAfter(now, RETENTION_DAYS.logs),
        },
        // An outcome without an attempt (a cancellation, a delivery set aside for its disabled
        // endpoint) only must not undo a success.
        ...(!attempted
          ? {
              ConditionExpression: `${IF_ABSENT} OR #status <> :success`,
              ExpressionAttributeValues: { ":success": "success" },
            }
          : {
              ConditionExpression: `${IF_ABSENT} OR (#status <> :success AND (attempts < :attempts OR (attempts = :attempts AND recordedBy = :message)))`,
              ExpressionAttributeValues: { ":success": "success", ":attempts": entry.attempts, ":message": messageId },
            }),
        ExpressionAttributeNames: { "#status": "status" },
      }),
    );
    return written;
  }

  async get(tenantId: string, createdAt: string, deliveryId: string): Promise<DeliveryLogEntry | undefined> {
    // A line written before logs were sharded is where it was; read it there only when needed.
    const item =
      (await this.table.get(keys.deliveryLog(tenantId, createdAt, deliveryId))) ??
      (await this.table.get(keys.legacyDeliveryLog(tenantId, createdAt, deliveryId)));
    return item ? toLogEntry(item) : undefined;
  }

  /** The log lines of these deliveries that exist, in no particular order (batched reads, eventually consistent). */
  async getAll(tenantId: string, deliveries: readonly { readonly createdAt: string; readonly deliveryId: string }[]): Promise<DeliveryLogEntry[]> {
    const items = await getAll(this.table, deliveries.map(({ createdAt, deliveryId }) => keys.deliveryLog(tenantId, createdAt, deliveryId)));
    return items.map(toLogEntry);
  }

  /** Newest first; `cursor` comes from the previous page. */
  async list(tenantId: string, limit: number, cursor?: string): Promise<LogPage> {
    const page = await queryShardedPage(this.table, queries.deliveryLogs(tenantId), limit, cursor);
    return { entries: page.items.map(toLogEntry), nextCursor: page.nextCursor };
  }
}

const toLogEntry = (item: Item) =>
  entityOf<DeliveryLogEntry>(item, LOG_FIELDS);
const LOG_FIELDS = { deliveryId: true, tenantId: true, eventId: true, eventType: true, url: true, status: true, attempts: true, createdAt: true, deliveredAt: true, lastError: true, lastStatusCode: true } as const;

export interface StoredFailure extends FailureRecord {
  /** Number(10): milliseconds since Brazilian midnight × 100 + a collision counter, so ids sort by time. */
  readonly id: number;
  /** ddMMyyyy, Brazilian civil date. */
  readonly data: string;
}

/** Failure records, filed per tenant and Brazilian date. */
/** Ids tried before a failure record gives up (six a millisecond, over a few milliseconds). */
const MAX_FAILURE_ID_TRIES = 60;

export class FailureStore extends TableStore {
  async record(failure: FailureRecord): Promise<StoredFailure> {
    const at = new Date(failure.failedAt);
    const data = brazilDate(at);
    // The delivery's shard's ids in its millisecond, then in the following ones, should that
    // shard have had six failures of the tenant in one millisecond.
    for (let ms = brazilMillisOfDay(at), tries = 0; tries < MAX_FAILURE_ID_TRIES; ms++) {
      for (const id of failureIds(failure.deliveryId, ms * 100)) {
        tries++;
        const stored: StoredFailure = { ...failure, id, data };
        const { written } = await conditionally(
          this.table.put({
            Item: { ...keys.failure(failure.tenantId, data, stored.id), ...stored, ...expiringAfter(at, RETENTION_DAYS.failures) },
            ConditionExpression: IF_ABSENT,
          }),
        );
        if (written) return stored;
        // Another failure of this tenant in the same millisecond took the id: take the next.
      }
    }
    throw new Error(`no failure record id left for tenant ${failure.tenantId} around ${failure.failedAt}`);
  }

  /**
   * One page of a Brazilian date's failures, oldest first. A page is one DynamoDB query
   * page (at most `limit` records and 1 MB), so an answer stays bounded however bad the day.
   */
  async listForDate(tenantId: string, date: string, limit: number, cursor?: string): Promise<{ failures: StoredFailure[]; nextCursor: string | undefined }> {
    const page = await queryShardedPage(this.table, queries.failures(tenantId, date), limit, cursor);
    return { failures: page.items as unknown as StoredFailure[], nextCursor: page.nextCursor };
  }
}

/** Events dispatched under a producer's id: a re-injected id is recognised and skipped. */
/**
 * Producer event ids, claimed so that "the same id is delivered once" holds under concurrency.
 * Write protocol: dispatch claims an id with one conditional put before it sends anything,
 * naming the SQS message that claims it. The put succeeds when the id is new, or when that
 * same message holds it already (an earlier receive of it claimed, then crashed or failed
 * before everything was sent: it finishes the job, with the same delivery ids). Any other
 * message finds the id taken and is a copy: nothing is sent for it. A message that gives up
 * (set aside, or failed on its last receive) releases its claim, so the event, redriven from
 * the dead-letter queue under another message id, can claim it again.
 */
export class DispatchedEventStore extends TableStore {
  async claim(event: ProducerEvent, messageId: string, now = new Date()): Promise<boolean> {
    const { written } = await conditionally(
      this.table.put({
        Item: {
          ...keys.dispatchedEvent(event.tenantId, event.eventId),
          tenantId: event.tenantId,
          eventId: event.eventId,
          messageId,
          claimedAt: now.toISOString(),
          ...expiringAfter(now, RETENTION_DAYS.dispatchedEvents),
        },
        // TTL deletes lazily: a claim past its expiry no longer counts.
        ConditionExpression: `${IF_ABSENT} OR messageId = :messageId OR #expires < :now`,
        ExpressionAttributeNames: { "#expires": TTL },
        ExpressionAttributeValues: { ":messageId": messageId, ":now": Math.floor(now.getTime() / 1000) },
      }),
    );
    return written;
  }

  /** Gives the id up, if this message still holds it. */
  async release(event: ProducerEvent, messageId: string): Promise<void> {
    await conditionally(
      this.table.delete({
        Key: keys.dispatchedEvent(event.tenantId, event.eventId),
        ConditionExpression: "messageId = :messageId",
        ExpressionAttributeValues: { ":messageId": messageId },
      }),
    );
  }
}
