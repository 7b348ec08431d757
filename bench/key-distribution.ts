import { randomUUID } from "node:crypto";
import { failureIds, keys } from "../lambdas/data/keys.ts";
import { brazilDate } from "../lambdas/domain/brazil-date.ts";

/**
 * Which partition keys one busy tenant's writes land on, computed with the product's own key
 * builders (lambdas/data/keys.ts) over a simulated day: DynamoDB takes about 1,000 writes a
 * second per partition key, so no key may see more, whatever the tenant's rate.
 */
export interface KeyDistributionOptions {
  /** Deliveries a second of one tenant. */
  readonly deliveriesPerSecond: number;
  /** Endpoints per event (events a second = deliveries / fan-out). */
  readonly fanOut: number;
  /** Share of attempts that fail (each writes a failure record besides its log line). */
  readonly failingShare: number;
  /** Share of events that carry a documentKey (each files one history item, keyed by its document). */
  readonly documentShare: number;
  /** Seconds of the day simulated in full, spread evenly over it (the rest behave the same). */
  readonly sampledSeconds: number;
}

export interface HotKey {
  /** The key's pattern, the tenant's id elided. */
  readonly key: string;
  /** What is written there. */
  readonly kind: string;
  /** The most writes it got in one second of the day. */
  readonly peakPerSecond: number;
}

export interface KeyDistribution {
  readonly hottest: readonly HotKey[];
  readonly distinctKeysPerSecond: number;
  readonly writesPerSecond: number;
}

const TENANT = "ten_0000000000000000hot1";

/** The day's hottest keys: every write of each sampled second counted by partition key. */
export function simulateKeyDistribution(options: KeyDistributionOptions): KeyDistribution {
  const day = Date.UTC(2026, 10, 27, 3, 0, 0); // Brazilian midnight
  const peak = new Map<string, HotKey>();
  let distinct = 0;
  let writes = 0;
  const events = Math.round(options.deliveriesPerSecond / options.fanOut);
  for (let sample = 0; sample < options.sampledSeconds; sample++) {
    const at = new Date(day + Math.floor((sample * 86_400) / options.sampledSeconds) * 1000);
    const createdAt = at.toISOString();
    const second = new Map<string, { kind: string; count: number }>();
    const write = (pk: string, kind: string) => {
      const entry = second.get(pk) ?? { kind, count: 0 };
      entry.count++;
      second.set(pk, entry);
    };
    for (let e = 0; e < events; e++) {
      const eventId = randomUUID();
      write(keys.dispatchedEvent(TENANT, eventId).pk, "producer-id claim");
      if (e < events * options.documentShare) write(keys.documentEvent(TENANT, `3526111122233300018155001${String(e).padStart(18, "0")}`, createdAt, eventId).pk, "document history");
      for (let d = 0; d < options.fanOut; d++) {
        const deliveryId = randomUUID();
        write(keys.deliveryLog(TENANT, createdAt, deliveryId).pk, "delivery log line");
        if ((e * options.fanOut + d) % Math.round(1 / options.failingShare) === 0) {
          write(keys.failure(TENANT, brazilDate(at), failureIds(deliveryId, 0)[0]!).pk, "failure record (falhas)");
        }
      }
    }
    distinct = Math.max(distinct, second.size);
    writes = Math.max(writes, [...second.values()].reduce((sum, { count }) => sum + count, 0));
    for (const [pk, { kind, count }] of second) {
      const pattern = pk.replace(TENANT, "<tenant>").replace(/#DOC#.*/, "#DOC#<documentKey>").replace(/#FAIL#\d{8}/, "#FAIL#<ddMMyyyy>");
      const known = peak.get(pattern);
      if (!known || known.peakPerSecond < count) peak.set(pattern, { key: pattern, kind, peakPerSecond: count });
    }
  }
  const hottest = [...peak.values()].sort((a, b) => b.peakPerSecond - a.peakPerSecond);
  return { hottest, distinctKeysPerSecond: distinct, writesPerSecond: writes };
}
