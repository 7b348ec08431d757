import { describe, expect, it } from "vitest";
import { answer } from "../../lib/dev/https-receiver.ts";
import { eventually } from "../support/eventually.ts";
import { pipelineFixture } from "../support/pipeline.ts";

// The deliver function's first invocation crashes in init and its second times out: in AWS
// both use up receives of their batch, and neither may use up an attempt of the schedule.
const SCHEDULE = [0, 2, 2];
const fixture = pipelineFixture({
  retrySchedule: SCHEDULE,
  deliveryTimeoutSeconds: 1,
  faults: { Deliver: { crashes: 1, timeouts: 1 } },
});

describe("attempts the product owns", () => {
  it("gives a delivery exactly its scheduled attempts, in order and with the scheduled gaps, through a crash and a timeout", async () => {
    const { hook, tenant } = await fixture.subscriber("invoice.authorized", answer(503, "down"));
    await fixture.emit({ tenantId: tenant.tenantId, type: "invoice.authorized", data: { n: 1 } });
    const letters = await eventually(async () => {
      const listed = (await (await tenant.call("GET", "/webhooks/dlq")).json()) as { attempts: number }[];
      return listed.length === 1 ? listed : undefined;
    }, 150_000);
    expect(letters[0]?.attempts).toBe(SCHEDULE.length);
    expect(hook.received.map((webhook) => webhook.headers["x-webhook-attempt"])).toEqual(["1", "2", "3"]);
    const gaps = hook.received.slice(1).map((webhook, i) => webhook.receivedAt - hook.received[i]!.receivedAt);
    for (const [i, gap] of gaps.entries()) expect(gap).toBeGreaterThanOrEqual(SCHEDULE[i + 1]! * 1000 - 50);
    expect(new Set(hook.received.map((webhook) => webhook.headers["webhook-id"])).size).toBe(1);
  }, 180_000);
});
