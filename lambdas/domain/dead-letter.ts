import type { Delivery } from "./delivery.ts";

/** A delivery that exhausted its attempts, indexed per tenant from the SQS dead-letter queue. */
export interface DeadLetter {
  readonly delivery: Delivery;
  readonly attempts: number;
  readonly lastError: string;
  readonly failedAt: string;
}

/** The view the DLQ API lists. */
export function deadLetterView(dead: DeadLetter) {
  return {
    id: dead.delivery.deliveryId,
    eventType: dead.delivery.eventType,
    endpoint: dead.delivery.url,
    attempts: dead.attempts,
    lastError: dead.lastError,
    failedAt: dead.failedAt,
    createdAt: dead.delivery.createdAt,
  };
}

/**
 * A claim on a dead letter (by a retry or a purge) that has not finished within this time
 * belongs to a request that died; the letter is dead again and may be claimed anew.
 */
export const CLAIM_EXPIRY_MS = 5 * 60_000;
