import type { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import type { ClaimedLetter, DeadLetterStore } from "../../lambdas/data/dead-letters.ts";
import type { DeliveryLogStore } from "../../lambdas/data/deliveries.ts";
import { DeadLetterOperations } from "../../lambdas/dead-letters/operations.ts";
import type { DeadLetter } from "../../lambdas/domain/dead-letter.ts";

/**
 * A tenant's letters in pages of 100, each page taking `pageMs[i]` of a clock the test owns
 * (as a loaded table would make them), recording when each page's work ended.
 */
function slowPages(pageMs: readonly number[]) {
  let clock = 0;
  const pageEnds: number[] = [];
  const removed: string[] = [];
  const letter = (page: number, i: number) => ({ delivery: { deliveryId: `d-${page}-${i}` }, attempts: 3, lastError: "503", failedAt: "2026-11-27T00:00:00.000Z" }) as unknown as DeadLetter;
  const letters = {
    async list(_tenantId: string, limit: number, cursor?: string) {
      const page = Number(cursor ?? 0);
      clock += pageMs[page]!;
      pageEnds.push(clock);
      const next = page + 1 < pageMs.length ? String(page + 1) : undefined;
      return { letters: Array.from({ length: limit }, (_, i) => letter(page, i)), nextCursor: next };
    },
    async claim(_tenantId: string, deliveryId: string) {
      return { delivery: { deliveryId }, claimedAt: "now" } as unknown as ClaimedLetter;
    },
    async remove(claimed: ClaimedLetter) {
      removed.push(claimed.delivery.deliveryId);
    },
  } as unknown as DeadLetterStore;
  const operations = new DeadLetterOperations({
    letters,
    logs: {} as DeliveryLogStore,
    sqs: {} as SQSClient,
    deliveriesQueueUrl: "unused by purge",
    now: () => clock,
  });
  return { operations, pageEnds, removed };
}

describe("bulk dead-letter operations against their deadline", () => {
  it("start no page that the slowest page so far says would end past the deadline", async () => {
    const { operations, pageEnds, removed } = slowPages([1_000, 4_000, 4_000, 4_000, 4_000]);
    const progress = await operations.purge("t", 10_000);
    expect(progress).toEqual({ count: 200, remaining: true });
    expect(removed).toHaveLength(200);
    for (const end of pageEnds) expect(end).toBeLessThan(10_000);
  });

  it("finish when every page fits", async () => {
    const { operations, removed } = slowPages([500, 500, 500]);
    expect(await operations.purge("t", 10_000)).toEqual({ count: 300, remaining: false });
    expect(removed).toHaveLength(300);
  });
});
