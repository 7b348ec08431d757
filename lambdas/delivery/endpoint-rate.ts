import type { SQSRecord } from "aws-lambda";
import type { OutgoingMessage } from "../../lib/aws/sqs-batch.ts";
import { MAX_DELAY_SECONDS } from "../../lib/aws/sqs-batch.ts";
import { keys } from "../data/keys.ts";
import type { RateLimitStore } from "../data/rate-limits.ts";
import { deliveryMessage, isDue, throttledDelivery, type Delivery, type HeldBack, type Throttled } from "../domain/delivery.ts";

/**
 * Marks a message that holds a reserved slot of its endpoint's schedule (a delivery held back
 * earlier): it goes when due without being counted again. A message attribute, so the
 * delivery itself stays as it was.
 */
const RESERVED_SLOT = "reserved-slot";

/** What the endpoints' rate limits allow the deliveries of one batch. */
export interface Admission {
  /**
   * Why the delivery must not be sent now (throttled: its endpoint's slots in this second are
   * taken; deferred: it is not due yet), or undefined when it may go. Throws when its
   * endpoint's schedule could not be reserved: that delivery's message fails alone and SQS
   * brings it back.
   */
  check(delivery: Delivery): HeldBack | undefined;
}

export type SlotSchedule = Pick<RateLimitStore, "reserve">;

/**
 * Holds a batch's deliveries to rate-limited endpoints to their limits. Each endpoint (tenant
 * and URL) has a schedule of slots 1/limit s apart (the smallest limit among the batch's
 * deliveries to it); one update per endpoint and batch reserves the next slots for all its
 * due deliveries at once. Those whose slots fall in the current second go now, in batch
 * order; the others are throttled until the second their slot falls in, and come back then
 * holding it (see heldBackMessage), so each is reserved once and a backlog drains at the limit.
 * Deliveries without a limit are not counted: they cost nothing here.
 */
export async function admitAtEndpointRates(
  schedule: SlotSchedule,
  received: readonly { readonly record: SQSRecord; readonly delivery: Delivery }[],
  now: Date,
): Promise<Admission> {
  const verdicts = new Map<Delivery, HeldBack | Error>();
  const endpoints = new Map<string, Delivery[]>();
  for (const { record, delivery } of received) {
    if (delivery.maxPerSecond === undefined) continue;
    // Judged at the instant the slots are reserved at: a delivery is either counted or held.
    if (!isDue(delivery, now)) verdicts.set(delivery, { kind: "deferred", until: String(delivery.notBefore) });
    else if (record.messageAttributes[RESERVED_SLOT] === undefined) {
      const endpoint = `${delivery.tenantId}\n${delivery.url}`;
      endpoints.set(endpoint, [...(endpoints.get(endpoint) ?? []), delivery]);
    }
  }
  const secondEnds = (Math.floor(now.getTime() / 1000) + 1) * 1000;
  await Promise.all(
    [...endpoints.values()].map(async (group) => {
      const { tenantId, url } = group[0]!;
      const interval = 1000 / Math.min(...group.map((delivery) => delivery.maxPerSecond ?? Infinity));
      try {
        const first = await schedule.reserve(tenantId, keys.endpointRateAction(url), group.length, interval, now);
        group.forEach((delivery, index) => {
          const slot = first + index * interval;
          if (slot >= secondEnds) verdicts.set(delivery, { kind: "throttled", until: new Date(Math.floor(slot / 1000) * 1000).toISOString() });
        });
      } catch (error) {
        for (const delivery of group) verdicts.set(delivery, error as Error);
      }
    }),
  );
  return {
    check(delivery) {
      const verdict = verdicts.get(delivery);
      if (verdict instanceof Error) throw verdict;
      return verdict;
    },
  };
}

/**
 * A throttled delivery's new message: the same delivery and step, due at the start of its
 * slot's second, delayed by SQS by whole seconds from now so that it comes back within that
 * second (later ones are hidden until due when they come back early), marked as holding its slot.
 */
export function heldBackMessage(delivery: Delivery, step: number, outcome: Throttled, now: Date): OutgoingMessage & { delay: number } {
  const delay = Math.max(0, Math.floor(Date.parse(outcome.until) / 1000) - Math.floor(now.getTime() / 1000));
  return {
    ...deliveryMessage(throttledDelivery(delivery, step, outcome.until)),
    attributes: { [RESERVED_SLOT]: outcome.until },
    delay,
    delaySeconds: Math.min(delay, MAX_DELAY_SECONDS),
  };
}
