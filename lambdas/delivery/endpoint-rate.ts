import { keys } from "../data/keys.ts";
import type { RateLimitStore } from "../data/rate-limits.ts";
import { isDue, type Delivery, type HeldBack } from "../domain/delivery.ts";

/** Endpoint rate limits count deliveries in one-second windows. */
const WINDOW_SECONDS = 1;

/** What the endpoints' rate limits allow the deliveries of one batch. */
export interface Admission {
  /**
   * Why the delivery must not be sent now (throttled: its endpoint's window is full; deferred:
   * it is not due yet), or undefined when it may go. Throws when its endpoint's window could
   * not be counted: that delivery's message fails alone and SQS brings it back.
   */
  check(delivery: Delivery): HeldBack | undefined;
}

export type WindowCounter = Pick<RateLimitStore, "count">;

/**
 * Holds a batch's deliveries to rate-limited endpoints to their limits. Per endpoint (tenant
 * and URL), one update counts all the batch's due deliveries to it in the current one-second
 * window; those within the window's allowance go now, in batch order (the smallest limit among
 * them applies). The others are numbered on from the window's count, which places each in a
 * later window: position p of window w is due at the start of window w + floor(p / limit), so
 * a backlog drains at the limit rather than coming back all at once. When it comes back it is
 * counted again in its own window, so the limit holds whatever else arrived meanwhile.
 * Deliveries without a limit are not counted: they cost nothing here.
 */
export async function admitAtEndpointRates(counter: WindowCounter, deliveries: readonly Delivery[], now: Date): Promise<Admission> {
  const verdicts = new Map<Delivery, HeldBack | Error>();
  const endpoints = new Map<string, Delivery[]>();
  for (const delivery of deliveries) {
    if (delivery.maxPerSecond === undefined) continue;
    // Judged here, at the instant it is counted at: a delivery is either counted or held.
    if (!isDue(delivery, now)) verdicts.set(delivery, { kind: "deferred", until: String(delivery.notBefore) });
    else {
      const endpoint = `${delivery.tenantId}\n${delivery.url}`;
      endpoints.set(endpoint, [...(endpoints.get(endpoint) ?? []), delivery]);
    }
  }
  await Promise.all(
    [...endpoints.values()].map(async (group) => {
      const { tenantId, url } = group[0]!;
      const limit = Math.min(...group.map((delivery) => delivery.maxPerSecond ?? Infinity));
      try {
        const { window, before } = await counter.count(tenantId, keys.endpointRateAction(url), group.length, WINDOW_SECONDS, now);
        group.forEach((delivery, index) => {
          const position = before + index;
          if (position < limit) return;
          const due = (window.start + Math.floor(position / limit) * window.seconds) * 1000;
          verdicts.set(delivery, { kind: "throttled", until: new Date(due).toISOString() });
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
