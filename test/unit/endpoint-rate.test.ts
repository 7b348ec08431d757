import { describe, expect, it } from "vitest";
import { keys } from "../../lambdas/data/keys.ts";
import { windowOf } from "../../lambdas/data/rate-limits.ts";
import { admitAtEndpointRates, type WindowCounter } from "../../lambdas/delivery/endpoint-rate.ts";
import type { Delivery } from "../../lambdas/domain/delivery.ts";

const TENANT = "ten_0123456789abcdef0123";
const URL_A = "https://a.example.com/hook";

/** The store's counting, in memory: windows by tenant, action and start. */
function memoryCounter(fail?: (action: string) => boolean) {
  const windows = new Map<string, number>();
  const calls: { tenantId: string; action: string; uses: number }[] = [];
  const counter: WindowCounter = {
    count: async (tenantId, action, uses, windowSeconds, now = new Date()) => {
      calls.push({ tenantId, action, uses });
      if (fail?.(action)) throw new Error("ProvisionedThroughputExceededException");
      const window = windowOf(now, windowSeconds);
      const key = `${tenantId} ${action} ${window.start}`;
      const before = windows.get(key) ?? 0;
      windows.set(key, before + uses);
      return { window, before };
    },
  };
  return { counter, calls };
}

let sequence = 0;
function delivery(fields: Partial<Delivery> = {}): Delivery {
  sequence++;
  return {
    deliveryId: `00000000-0000-8000-8000-${String(sequence).padStart(12, "0")}`,
    tenantId: TENANT,
    eventId: `e${sequence}`,
    eventType: "invoice.authorized",
    url: URL_A,
    body: "{}",
    createdAt: "2026-11-27T10:00:00.000Z",
    attemptsBefore: 0,
    step: 1,
    ...fields,
  };
}
const limited = (count: number, maxPerSecond: number, fields: Partial<Delivery> = {}) =>
  Array.from({ length: count }, () => delivery({ maxPerSecond, ...fields }));
const at = (instant: string) => new Date(instant);

describe("endpoint rate limits", () => {
  it("counts nothing for deliveries without a limit", async () => {
    const { counter, calls } = memoryCounter();
    const batch = Array.from({ length: 10 }, () => delivery());
    const admission = await admitAtEndpointRates(counter, batch, at("2026-11-27T10:00:10.300Z"));
    expect(calls).toEqual([]);
    for (const d of batch) expect(admission.check(d)).toBeUndefined();
  });

  it("lets a window's allowance go and places the rest in later windows, a limit's worth each", async () => {
    const { counter, calls } = memoryCounter();
    const batch = limited(12, 5);
    const admission = await admitAtEndpointRates(counter, batch, at("2026-11-27T10:00:10.300Z"));
    // One count for the whole batch's deliveries to the endpoint.
    expect(calls).toEqual([{ tenantId: TENANT, action: keys.endpointRateAction(URL_A), uses: 12 }]);
    expect(batch.map((d) => admission.check(d))).toEqual([
      ...Array.from({ length: 5 }, () => undefined),
      ...Array.from({ length: 5 }, () => ({ kind: "throttled", until: "2026-11-27T10:00:11.000Z" })),
      ...Array.from({ length: 2 }, () => ({ kind: "throttled", until: "2026-11-27T10:00:12.000Z" })),
    ]);

    // A later batch in the same second finds the window full and queues up behind the first.
    const later = limited(4, 5);
    const second = await admitAtEndpointRates(counter, later, at("2026-11-27T10:00:10.900Z"));
    expect(later.map((d) => second.check(d))).toEqual([
      ...Array.from({ length: 3 }, () => ({ kind: "throttled", until: "2026-11-27T10:00:12.000Z" })),
      { kind: "throttled", until: "2026-11-27T10:00:13.000Z" },
    ]);

    // The next second opens a window of its own.
    const next = limited(6, 5);
    const third = await admitAtEndpointRates(counter, next, at("2026-11-27T10:00:11.000Z"));
    expect(next.map((d) => third.check(d))).toEqual([...Array.from({ length: 5 }, () => undefined), { kind: "throttled", until: "2026-11-27T10:00:12.000Z" }]);
  });

  it("counts each endpoint of each tenant apart, and holds a batch's deliveries to one endpoint to the smallest limit among them", async () => {
    const { counter, calls } = memoryCounter();
    const other = "ten_fedcba9876543210fedc";
    const toA = [...limited(2, 3), ...limited(2, 1)];
    const toB = limited(3, 3, { url: "https://b.example.com/hook" });
    const otherTenant = limited(3, 3, { tenantId: other });
    const unlimited = delivery();
    const admission = await admitAtEndpointRates(counter, [...toA, ...toB, unlimited, ...otherTenant], at("2026-11-27T10:00:10Z"));
    expect(calls).toHaveLength(3);
    // Limit 1 for the four to A: one goes, one a second after another.
    expect(toA.map((d) => admission.check(d)?.kind)).toEqual([undefined, "throttled", "throttled", "throttled"]);
    expect(toA.map((d) => admission.check(d))).toContainEqual({ kind: "throttled", until: "2026-11-27T10:00:13.000Z" });
    expect(toB.map((d) => admission.check(d))).toEqual([undefined, undefined, undefined]);
    expect(otherTenant.map((d) => admission.check(d))).toEqual([undefined, undefined, undefined]);
    expect(admission.check(unlimited)).toBeUndefined();
  });

  it("neither counts nor sends a limited delivery back before its time", async () => {
    const { counter, calls } = memoryCounter();
    const early = delivery({ maxPerSecond: 5, notBefore: "2026-11-27T10:05:00.000Z" });
    const admission = await admitAtEndpointRates(counter, [early], at("2026-11-27T10:00:10Z"));
    expect(calls).toEqual([]);
    expect(admission.check(early)).toEqual({ kind: "deferred", until: "2026-11-27T10:05:00.000Z" });
    // Due (within SQS's second of slack): counted.
    const due = delivery({ maxPerSecond: 5, notBefore: "2026-11-27T10:00:10.800Z" });
    expect((await admitAtEndpointRates(counter, [due], at("2026-11-27T10:00:10Z"))).check(due)).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it("fails only the deliveries of an endpoint whose window could not be counted", async () => {
    const broken = "https://broken.example.com/";
    const { counter } = memoryCounter((action) => action === keys.endpointRateAction(broken));
    const lost = limited(2, 5, { url: broken });
    const fine = limited(2, 5);
    const admission = await admitAtEndpointRates(counter, [...lost, ...fine], at("2026-11-27T10:00:10Z"));
    for (const d of lost) expect(() => admission.check(d)).toThrow(/ProvisionedThroughputExceeded/);
    for (const d of fine) expect(admission.check(d)).toBeUndefined();
  });
});
