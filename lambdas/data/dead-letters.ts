import { CLAIM_EXPIRY_MS, type DeadLetter } from "../domain/dead-letter.ts";
import { conditionally } from "./conditional.ts";
import { keys, queries } from "./keys.ts";
import { queryPage } from "./query.ts";
import { entityOf, IF_ABSENT, TableStore, type Item } from "./table.ts";

/** A letter this caller holds: removing it later is conditional on still holding it. */
export interface ClaimedLetter extends DeadLetter {
  readonly claimedAt: string;
}

export interface DeadLetterPage {
  readonly letters: DeadLetter[];
  readonly nextCursor: string | undefined;
}

/**
 * The per-tenant index of the deliveries dead-letter queue. A letter is `dead` until a
 * retry or purge claims it (a conditional update, so concurrent calls never both act on
 * it); the claimer then acts and deletes it. A claim left by a request that died expires,
 * and the letter is listed and claimable again.
 */
export class DeadLetterStore extends TableStore {
  /** Idempotent: indexing the same dead message twice leaves one letter. */
  async put(letter: DeadLetter): Promise<void> {
    const { delivery } = letter;
    await conditionally(
      this.table.put({
        Item: {
          ...keys.deadLetter(delivery.tenantId, delivery.deliveryId),
          ...keys.deadLetterListing(delivery.tenantId, letter.failedAt, delivery.deliveryId),
          delivery,
          attempts: letter.attempts,
          lastError: letter.lastError,
          failedAt: letter.failedAt,
          state: "dead",
        },
        // A letter being retried is not overwritten by a late duplicate of its own message, but
        // is by the retried delivery dying again (it carries more attempts).
        ConditionExpression: `${IF_ABSENT} OR #state = :dead OR delivery.attemptsBefore < :before`,
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":dead": "dead", ":before": delivery.attemptsBefore },
      }),
    );
  }

  /** Newest first, claimable letters only. */
  async list(tenantId: string, limit: number, cursor?: string, now = new Date()): Promise<DeadLetterPage> {
    const claimable = {
      expression: "#state = :dead OR claimedAt < :expired",
      names: { "#state": "state" },
      values: { ":dead": "dead", ":expired": expiredBefore(now) },
    };
    const page = await queryPage(this.table, { ...queries.deadLetters(tenantId), filter: claimable }, limit, cursor);
    return { letters: page.items.map(toDeadLetter), nextCursor: page.nextCursor };
  }

  async get(tenantId: string, deliveryId: string): Promise<DeadLetter | undefined> {
    const item = await this.table.get(keys.deadLetter(tenantId, deliveryId));
    return item ? toDeadLetter(item) : undefined;
  }

  /** Claims a letter for this caller; undefined when it is gone or someone else holds it. */
  async claim(tenantId: string, deliveryId: string, now = new Date()): Promise<ClaimedLetter | undefined> {
    const claim = await conditionally(
      this.table.update({
        Key: keys.deadLetter(tenantId, deliveryId),
        UpdateExpression: "SET #state = :claimed, claimedAt = :now",
        ConditionExpression: "#state = :dead OR claimedAt < :expired",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":claimed": "claimed", ":dead": "dead", ":now": now.toISOString(), ":expired": expiredBefore(now) },
        ReturnValues: "ALL_NEW",
      }),
    );
    return claim.written && claim.attributes ? { ...toDeadLetter(claim.attributes), claimedAt: now.toISOString() } : undefined;
  }

  /**
   * Removes a letter its claimer has dealt with, unless it changed since the claim (it died
   * again and was re-indexed, or the claim expired and another caller took it).
   */
  async remove(letter: ClaimedLetter): Promise<void> {
    await conditionally(
      this.table.delete({
        Key: keys.deadLetter(letter.delivery.tenantId, letter.delivery.deliveryId),
        ConditionExpression: "claimedAt = :claimedAt",
        ExpressionAttributeValues: { ":claimedAt": letter.claimedAt },
      }),
    );
  }
}

/** Claims taken before this instant have expired. */
const expiredBefore = (now: Date) => new Date(now.getTime() - CLAIM_EXPIRY_MS).toISOString();

const toDeadLetter = (item: Item) => entityOf<DeadLetter>(item, { delivery: true, attempts: true, lastError: true, failedAt: true });
