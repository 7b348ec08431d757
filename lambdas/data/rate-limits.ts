import { conditionally } from "./conditional.ts";
import { keys } from "./keys.ts";
import { expiringAfter, TableStore, TTL } from "./table.ts";

/** A tenant may go on, or must wait this many seconds. */
export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/** A fixed window of time, in epoch seconds. */
export interface RateWindow {
  readonly start: number;
  readonly seconds: number;
}

/** The fixed window of `seconds` that `now` falls in. */
export function windowOf(now: Date, seconds: number): RateWindow {
  return { start: Math.floor(now.getTime() / 1000 / seconds) * seconds, seconds };
}

const windowEnd = (window: RateWindow) => new Date((window.start + window.seconds) * 1000);

/**
 * Fixed-window counters per tenant and action, one item per window (it expires a day after
 * its window). Two ways to use one, each a single update:
 * - `take`, one use that must fit: the counter grows only while it is under the limit, so
 *   concurrent requests never pass it;
 * - `count`, many uses at once whatever the limit: the caller learns how many the window had
 *   before them and decides which fit (and when the rest may go).
 */
export class RateLimitStore extends TableStore {
  async take(tenantId: string, action: string, limit: number, windowSeconds: number, now = new Date()): Promise<RateDecision> {
    const window = windowOf(now, windowSeconds);
    const { written } = await conditionally(this.add(tenantId, action, window, 1, limit));
    if (written) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((windowEnd(window).getTime() - now.getTime()) / 1000)) };
  }

  /** Adds `uses` to the window `now` falls in; returns the window and its count before them. */
  async count(tenantId: string, action: string, uses: number, windowSeconds: number, now = new Date()): Promise<{ window: RateWindow; before: number }> {
    const window = windowOf(now, windowSeconds);
    const { Attributes } = await this.add(tenantId, action, window, uses);
    return { window, before: Number(Attributes?.["uses"] ?? uses) - uses };
  }

  /** The one update of a window: unconditional (answering the new count), or only while under `limit`. */
  private add(tenantId: string, action: string, window: RateWindow, uses: number, limit?: number) {
    const expires = expiringAfter(windowEnd(window), 1)[TTL];
    return this.table.update({
      Key: keys.rateWindow(tenantId, action, window.start),
      UpdateExpression: "ADD uses :uses SET #expires = :expires",
      ExpressionAttributeNames: { "#expires": TTL },
      ...(limit === undefined
        ? { ExpressionAttributeValues: { ":uses": uses, ":expires": expires }, ReturnValues: "UPDATED_NEW" as const }
        : {
            ConditionExpression: "attribute_not_exists(uses) OR uses < :limit",
            ExpressionAttributeValues: { ":uses": uses, ":expires": expires, ":limit": limit },
          }),
    });
  }
}
