import type { SQSClient } from "@aws-sdk/client-sqs";
import { sendMessages } from "../../lib/aws/sqs-batch.ts";
import type { DeadLetter } from "../domain/dead-letter.ts";
import { deliveryLogEntry, deliveryMessage, requeuedDelivery } from "../domain/delivery.ts";
import type { ClaimedLetter, DeadLetterStore } from "../data/dead-letters.ts";
import type { DeliveryLogStore } from "../data/deliveries.ts";

export interface DeadLetterOperationsDeps {
  readonly letters: DeadLetterStore;
  readonly logs: DeliveryLogStore;
  readonly sqs: SQSClient;
  readonly deliveriesQueueUrl: string;
  /** The clock deadlines are read on (tests inject theirs). */
  readonly now?: () => number;
}

/** How far a bulk operation got before its deadline. */
export interface BulkProgress {
  readonly count: number;
  /** True when letters remain: the caller continues asynchronously. */
  readonly remaining: boolean;
}

export type RetryOutcome =
  | { readonly kind: "queued"; readonly letter: DeadLetter }
  | { readonly kind: "missing" }
  | { readonly kind: "busy" };

const PAGE = 100;

/**
 * Retry and purge of a tenant's dead letters. Each letter is claimed first (a conditional
 * write), so concurrent calls never act on the same letter twice; a retried delivery goes
 * back to the deliveries queue with its delivery id, its attempt count carried on and a
 * fresh attempt budget, and its log line turns to `retrying`.
 */
export class DeadLetterOperations {
  constructor(private readonly deps: DeadLetterOperationsDeps) {}

  async retry(tenantId: string, deliveryId: string): Promise<RetryOutcome> {
    const letter = await this.deps.letters.claim(tenantId, deliveryId);
    if (!letter) return (await this.deps.letters.get(tenantId, deliveryId)) ? { kind: "busy" } : { kind: "missing" };
    const requeued = await this.requeue([letter]);
    if (requeued.length === 0) throw new Error(`the deliveries queue refused delivery ${deliveryId}`);
    return { kind: "queued", letter };
  }

  async retryAll(tenantId: string, deadline: number): Promise<BulkProgress> {
    return this.drain(tenantId, deadline, async (claimed) => (await this.requeue(claimed)).length);
  }

  async purge(tenantId: string, deadline: number): Promise<BulkProgress> {
    return this.drain(tenantId, deadline, async (claimed) => {
      await Promise.all(claimed.map((letter) => this.deps.letters.remove(letter)));
      return claimed.length;
    });
  }

  /**
   * Claims the tenant's letters a page at a time and hands them to `act`, until none are left or
   * time is up. A page is started only when twice the slowest page so far still fits before the
   * deadline: a page cut short by the function's timeout would leave its letters claimed and its
   * continuation unqueued until SQS returns the job, minutes later.
   */
  private async drain(
    tenantId: string,
    deadline: number,
    act: (claimed: ClaimedLetter[]) => Promise<number>,
  ): Promise<BulkProgress> {
    const now = this.deps.now ?? Date.now;
    let count = 0;
    let cursor: string | undefined;
    let slowestPageMs = 0;
    for (;;) {
      const started = now();
      if (started + 2 * slowestPageMs >= deadline) return { count, remaining: true };
      // Pages forward through the index (eventually consistent): letters just acted on may
      // still be listed, fail their claim and are skipped; only the index's end means done.
      const page = await this.deps.letters.list(tenantId, PAGE, cursor);
      const claimed = (
        await Promise.all(page.letters.map((letter) => this.deps.letters.claim(tenantId, letter.delivery.deliveryId)))
      ).filter((letter): letter is ClaimedLetter => letter !== undefined);
      count += await act(claimed);
      slowestPageMs = Math.max(slowestPageMs, now() - started);
      if (page.nextCursor === undefined) return { count, remaining: false };
      cursor = page.nextCursor;
    }
  }

  /**
   * Marks the logs `retrying`, sends the claimed letters back (ten per call) and removes
   * them. The log is written first so a fast success can never be overwritten by it.
   * Returns those sent.
   */
  private async requeue(claimed: readonly ClaimedLetter[]): Promise<ClaimedLetter[]> {
    await this.deps.logs.recordAll(
      claimed.map(({ delivery, attempts, lastError }) => deliveryLogEntry(delivery, { kind: "requeued", attempts, lastError })),
    );
    const refused = await sendMessages(
      this.deps.sqs,
      this.deps.deliveriesQueueUrl,
      claimed.map((letter) => ({ letter, ...deliveryMessage(requeuedDelivery(letter.delivery, letter.attempts)) })),
    );
    // A refused letter keeps its claim, which expires: the next retry picks it up again.
    const notSent = new Set(refused.map(({ entry }) => entry.letter));
    const sent = claimed.filter((letter) => !notSent.has(letter));
    await Promise.all(sent.map((letter) => this.deps.letters.remove(letter)));
    return sent;
  }

}

/** A bulk operation that did not finish within an API call continues as a job on the jobs queue. */
export interface DeadLetterJob {
  readonly operation: "retry-all" | "purge";
  readonly tenantId: string;
}
