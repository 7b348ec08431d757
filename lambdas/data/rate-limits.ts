import { conditionally } from "./conditional.ts";
import { keys } from "./keys.ts";
import { expiringAfter, TableStore, TTL } from "./table.ts";

/** A tenant may go on, or must wait this many seconds. */
export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/**
 * Fixed-window limits per tenant and action. One conditional update per use: the window's
 * counter grows only while it is under the limit, so concurrent requests never pass it.
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
}
