import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DeadLetter } from "../domain/dead-letter.ts";
import type { Delivery } from "../domain/delivery.ts";
import type { DeadLetterStore } from "../store/dead-letters.ts";
import type { DeliveryLogStore } from "../store/deliveries.ts";
import { sendAll } from "../store/queues.ts";

export interface DeadLetterOperationsDeps {
  readonly letters: DeadLetterStore;
  readonly logs: DeliveryLogStore;
  readonly sqs: SQSClient;
  readonly deliveriesQueueUrl: string;
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
      await Promise.all(claimed.map((letter) => this.deps.letters.remove(tenantId, letter.delivery.deliveryId)));
      return claimed.length;
    });
  }

  /** Claims the tenant's letters a page at a time and hands them to `act`, until none are left or time is up. */
  private async drain(
    tenantId: string,
    deadline: number,
    act: (claimed: DeadLetter[]) => Promise<number>,
  ): Promise<BulkProgress> {
    let count = 0;
    for (;;) {
      if (Date.now() >= deadline) return { count, remaining: true };
      const { letters } = await this.deps.letters.list(tenantId, PAGE);
      if (letters.length === 0) return { count, remaining: false };
      const claimed = (
        await Promise.all(letters.map((letter) => this.deps.letters.claim(tenantId, letter.delivery.deliveryId)))
      ).filter((letter): letter is DeadLetter => letter !== undefined);
      // Letters claimed elsewhere meanwhile are that caller's; a page of nothing but those means we are done.
      if (claimed.length === 0) return { count, remaining: false };
      count += await act(claimed);
    }
  }

  /** Sends claimed letters back (ten per call), marks their logs, removes them. Returns those sent. */
  private async requeue(claimed: readonly DeadLetter[]): Promise<DeadLetter[]> {
    const refused = await sendAll(
      this.deps.sqs,
      this.deps.deliveriesQueueUrl,
      claimed.map((letter) => {
        const delivery: Delivery = { ...letter.delivery, attemptsBefore: letter.attempts };
        return { id: delivery.deliveryId, body: JSON.stringify(delivery) };
      }),
    );
    // A refused letter keeps its claim, which expires: the next retry picks it up again.
    const sent = claimed.filter((letter) => !refused.has(letter.delivery.deliveryId));
    await this.deps.logs.recordAll(
      sent.map(({ delivery, attempts, lastError }) => ({
        deliveryId: delivery.deliveryId,
        tenantId: delivery.tenantId,
        eventId: delivery.eventId,
        eventType: delivery.eventType,
        url: delivery.url,
        status: "retrying",
        attempts,
        createdAt: delivery.createdAt,
        lastError,
      })),
    );
    await Promise.all(sent.map((letter) => this.deps.letters.remove(letter.delivery.tenantId, letter.delivery.deliveryId)));
    return sent;
  }
}

/** A bulk operation that did not finish within an API call continues as a job on the jobs queue. */
export interface DeadLetterJob {
  readonly operation: "retry-all" | "purge";
  readonly tenantId: string;
}
