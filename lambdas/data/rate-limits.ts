import { conditionally } from "./conditional.ts";
import { keys } from "./keys.ts";
import { expiringAfter, TableStore, TTL } from "./table.ts";

/** A tenant may go on, or must wait this many seconds. */
export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/** Longest a schedule's item outlives its last reservation: no message it made room for outlives the queue's 14-day retention. */
const SCHEDULE_KEPT_DAYS = 14;
/** Updates a reservation may take when other batches keep moving the schedule between its two steps. */
const RESERVE_ROUNDS = 3;

/**
 * Rate limits per tenant and action, each use costing one update, in two forms:
 * - fixed windows (`take`): one item per window, whose counter grows only while it is under
 *   the limit, so concurrent requests never pass it;
 * - a schedule of slots (`reserve`): one item per action holding its next free slot, so a
 *   burst is handed consecutive slots once, however many callers share it.
 */
export class RateLimitStore extends TableStore {
  async take(tenantId: string, action: string, limit: number, windowSeconds: number, now = new Date()): Promise<RateDecision> {
    const windowStart = Math.floor(now.getTime() / 1000 / windowSeconds) * windowSeconds;
    const windowEnd = new Date((windowStart + windowSeconds) * 1000);
    const { written } = await conditionally(
      this.table.update({
        Key: keys.rateWindow(tenantId, action, windowStart),
        UpdateExpression: "ADD uses :one SET #expires = :expires",
        ConditionExpression: "attribute_not_exists(uses) OR uses < :limit",
        ExpressionAttributeNames: { "#expires": TTL },
        ExpressionAttributeValues: { ":one": 1, ":limit": limit, ":expires": expiringAfter(windowEnd, 1)[TTL] },
      }),
    );
    return written ? { allowed: true } : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((windowEnd.getTime() - now.getTime()) / 1000)) };
  }

  /**
   * Reserves `uses` consecutive slots `intervalMs` apart, none before `now`, and returns the
   * first one's time (epoch ms). When the schedule's next free slot is in the past (the action
   * was idle, the common case below the limit) one conditional update starts it at `now`;
   * while there is a backlog, that update fails and a second one moves the next free slot on.
   * Another caller moving the schedule between the two makes this one try again.
   */
  async reserve(tenantId: string, action: string, uses: number, intervalMs: number, now = new Date()): Promise<number> {
    const key = keys.rateSchedule(tenantId, action);
    const span = uses * intervalMs;
    const names = { "#next": "nextSlot", "#expires": TTL };
    const at = now.getTime();
    const expires = expiringAfter(now, SCHEDULE_KEPT_DAYS)[TTL];
    for (let round = 0; round < RESERVE_ROUNDS; round++) {
      const idle = await conditionally(
        this.table.update({
          Key: key,
          UpdateExpression: "SET #next = :next, #expires = :expires",
          ConditionExpression: "attribute_not_exists(#next) OR #next < :now",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ":next": at + span, ":now": at, ":expires": expires },
        }),
      );
      if (idle.written) return at;
      const backlog = await conditionally(
        this.table.update({
          Key: key,
          UpdateExpression: "ADD #next :span SET #expires = :expires",
          ConditionExpression: "#next >= :now",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ":span": span, ":now": at, ":expires": expires },
          ReturnValues: "UPDATED_NEW",
        }),
      );
      if (backlog.written) return Number(backlog.attributes?.["nextSlot"]) - span;
    }
    throw new Error(`the rate schedule of ${action} kept moving; ${RESERVE_ROUNDS} rounds without a reservation`);
  }
}
