import type { SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { keys } from "../../lambdas/data/keys.ts";
import { admitAtEndpointRates, heldBackMessage, type SlotSchedule } from "../../lambdas/delivery/endpoint-rate.ts";
import { parseDeliveryMessage, type Delivery } from "../../lambdas/domain/delivery.ts";

const TENANT = "ten_0123456789abcdef0123";
const URL_A = "https://a.example.com/hook";

/** The store's schedules, in memory: the next free slot per tenant and action. */
function memorySchedule(fail?: (action: string) => boolean) {
  const next = new Map<string, number>();
  const calls: { tenantId: string; action: string; uses: number; intervalMs: number }[] = [];
  const schedule: SlotSchedule = {
    reserve: async (tenantId, action, uses, intervalMs, now = new Date()) => {
      calls.push({ tenantId, action, uses, intervalMs });
      if (fail?.(action)) throw new Error("ProvisionedThroughputExceededException");
      const key = `${tenantId} ${action}`;
      const first = Math.max(next.get(key) ?? 0, now.getTime());
      next.set(key, first + uses * intervalMs);
      return first;
    },
  };
  return { schedule, calls };
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
/** As received from the queue; a message held back before carries its reserved slot. */
const received = (deliveries: readonly Delivery[], attributes: SQSRecord["messageAttributes"] = {}) =>
  deliveries.map((d) => ({ record: { messageAttributes: attributes } as SQSRecord, delivery: d }));
const at = (instant: string) => new Date(instant);
const throttled = (until: string) => ({ kind: "throttled", until });
const times = <T>(n: number, value: T) => Array.from({ length: n }, () => value);

describe("endpoint rate limits", () => {
  it("reserves nothing for deliveries without a limit", async () => {
    const { schedule, calls } = memorySchedule();
    const batch = Array.from({ length: 10 }, () => delivery());
    const admission = await admitAtEndpointRates(schedule, received(batch), at("2026-11-27T10:00:10.300Z"));
    expect(calls).toEqual([]);
    for (const d of batch) expect(admission.check(d)).toBeUndefined();
  });

  it("lets the slots of the current second go and holds the rest until the second of their slot, a limit's worth a second", async () => {
    const { schedule, calls } = memorySchedule();
    const batch = limited(12, 5);
    const admission = await admitAtEndpointRates(schedule, received(batch), at("2026-11-27T10:00:10.300Z"));
    // One reservation for the whole batch's deliveries to the endpoint, 200 ms apart.
    expect(calls).toEqual([{ tenantId: TENANT, action: keys.endpointRateAction(URL_A), uses: 12, intervalMs: 200 }]);
    // Slots at 10.3, 10.5, 10.7, 10.9 go now; 11.1 … 11.9 in second 11; 12.1 … 12.5 in second 12.
    expect(batch.map((d) => admission.check(d))).toEqual([
      ...times(4, undefined),
      ...times(5, throttled("2026-11-27T10:00:11.000Z")),
      ...times(3, throttled("2026-11-27T10:00:12.000Z")),
    ]);

    // A later batch queues behind the backlog, never in a second already full.
    const later = limited(4, 5);
    const second = await admitAtEndpointRates(schedule, received(later), at("2026-11-27T10:00:10.900Z"));
    expect(later.map((d) => second.check(d))).toEqual([...times(2, throttled("2026-11-27T10:00:12.000Z")), ...times(2, throttled("2026-11-27T10:00:13.000Z"))]);

    // Those held back come back holding their slots: they go without being counted again.
    const back = later.map((d) => ({ ...d, notBefore: "2026-11-27T10:00:12.000Z" }));
    const returning = await admitAtEndpointRates(schedule, received(back, { "reserved-slot": { stringValue: "2026-11-27T10:00:12.000Z", dataType: "String" } }), at("2026-11-27T10:00:12.050Z"));
    expect(back.map((d) => returning.check(d))).toEqual(times(4, undefined));
    expect(calls).toHaveLength(2);
  });

  it("keeps a schedule per endpoint of each tenant, at the smallest limit among a batch's deliveries to it", async () => {
    const { schedule, calls } = memorySchedule();
    const toA = [...limited(2, 3), ...limited(2, 1)];
    const toB = limited(3, 3, { url: "https://b.example.com/hook" });
    const otherTenant = limited(3, 3, { tenantId: "ten_fedcba9876543210fedc" });
    const unlimited = delivery();
    const admission = await admitAtEndpointRates(schedule, received([...toA, ...toB, unlimited, ...otherTenant]), at("2026-11-27T10:00:10Z"));
    expect(calls.map(({ uses, intervalMs }) => [uses, intervalMs])).toEqual([
      [4, 1000],
      [3, 1000 / 3],
      [3, 1000 / 3],
    ]);
    // One a second for the four to A.
    expect(toA.map((d) => admission.check(d))).toEqual([
      undefined,
      throttled("2026-11-27T10:00:11.000Z"),
      throttled("2026-11-27T10:00:12.000Z"),
      throttled("2026-11-27T10:00:13.000Z"),
    ]);
    expect(toB.map((d) => admission.check(d))).toEqual(times(3, undefined));
    expect(otherTenant.map((d) => admission.check(d))).toEqual(times(3, undefined));
    expect(admission.check(unlimited)).toBeUndefined();
  });

  it("neither reserves nor sends a limited delivery back before its time", async () => {
    const { schedule, calls } = memorySchedule();
    const early = delivery({ maxPerSecond: 5, notBefore: "2026-11-27T10:05:00.000Z" });
    const admission = await admitAtEndpointRates(schedule, received([early]), at("2026-11-27T10:00:10Z"));
    expect(calls).toEqual([]);
    expect(admission.check(early)).toEqual({ kind: "deferred", until: "2026-11-27T10:05:00.000Z" });
  });

  it("fails only the deliveries of an endpoint whose schedule could not be reserved", async () => {
    const broken = "https://broken.example.com/";
    const { schedule } = memorySchedule((action) => action === keys.endpointRateAction(broken));
    const lost = limited(2, 5, { url: broken });
    const fine = limited(2, 5);
    const admission = await admitAtEndpointRates(schedule, received([...lost, ...fine]), at("2026-11-27T10:00:10Z"));
    for (const d of lost) expect(() => admission.check(d)).toThrow(/ProvisionedThroughputExceeded/);
    for (const d of fine) expect(admission.check(d)).toBeUndefined();
  });

  it("sends a delivery held back as the same delivery and step, due in its slot's second, delayed into it", () => {
    const held = delivery({ maxPerSecond: 5, step: 3, attemptsBefore: 2 });
    const message = heldBackMessage(held, 3, { kind: "throttled", until: "2026-11-27T10:00:12.000Z" }, at("2026-11-27T10:00:10.300Z"));
    // Sent at 10.3 with 2 s of delay: back at 12.3, within its second.
    expect(message).toMatchObject({ delay: 2, delaySeconds: 2, attributes: { "reserved-slot": "2026-11-27T10:00:12.000Z" } });
    expect(parseDeliveryMessage(message.body)).toEqual({ ok: true, delivery: { ...held, notBefore: "2026-11-27T10:00:12.000Z" } });
    // Beyond SQS's 15 minutes of delay it comes back early and waits, hidden, until due.
    expect(heldBackMessage(held, 3, { kind: "throttled", until: "2026-11-27T10:20:10.000Z" }, at("2026-11-27T10:00:10.300Z"))).toMatchObject({ delay: 1200, delaySeconds: 900 });
  });
});
