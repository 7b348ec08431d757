import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { setTimeout as sleep } from "node:timers/promises";
import { OUTPUTS } from "../lambdas/contract/resources.ts";
import type { EphemeralProduct } from "../lib/dev/ephemeral-product.ts";
import { verifyBoth, type HttpsReceiver, type ReceiverFactory } from "../lib/dev/https-receiver.ts";
import { sampleRss } from "./instrument.ts";
import { memoryBreakdown, type MemoryBreakdown } from "./memory.ts";
import { runBounded, BENCH_EVENT_TYPE, fiscalData, startBenchProduct } from "./workload.ts";

export interface FanOutOptions {
  readonly receivers: ReceiverFactory;
  /** Subscriptions of one tenant to the event type, each a distinct endpoint. */
  readonly endpoints: number;
  readonly retrySchedule: readonly number[];
  readonly timeLimitMs: number;
}

export interface FanOutResult {
  readonly endpoints: number;
  /** Subscribing them all through the API, 8 at a time. */
  readonly subscribeSeconds: number;
  /** Distinct webhook-ids the receiver got for the one event. */
  readonly delivered: number;
  readonly signaturesValid: number;
  /** From the event's send to its last delivery. */
  readonly seconds: number;
  readonly complete: boolean;
  /** Whole process (functions' worker threads included): before the measured event (after a warm-up one), and the peak until it was delivered. */
  readonly rssBefore: number;
  readonly rssPeak: number;
  /** Where the memory was before the measured event and once it was delivered. */
  readonly breakdown: { readonly before: MemoryBreakdown; readonly delivered: MemoryBreakdown };
  readonly runtimeErrors: readonly string[];
}

/** One event of one tenant fanned out to `endpoints` Portal subscriptions, on the local runtime in memory. */
export async function runFanOut(options: FanOutOptions): Promise<FanOutResult> {
  const runtimeErrors: string[] = [];
  let env: EphemeralProduct | undefined;
  let receiver: HttpsReceiver | undefined;
  try {
    receiver = await options.receivers.start();
    env = await startBenchProduct(options.receivers, options.retrySchedule, runtimeErrors);
    const tenant = await env.newTenant("bench-fan-out");
    const subscribing = performance.now();
    await runBounded(options.endpoints, 8, Number.POSITIVE_INFINITY, async (i) => {
      const created = await tenant.call("POST", "/portal/api/ext/webhook", { evento: BENCH_EVENT_TYPE, endpoint: `${receiver!.url}?endpoint=${i}` });
      if (created.status !== 201) throw new Error(`subscription ${i}: HTTP ${created.status} ${await created.text()}`);
    });
    const subscribeSeconds = (performance.now() - subscribing) / 1000;
    const { webhookSecret } = (await (await tenant.call("POST", "/webhooks/secret/regenerate")).json()) as { webhookSecret: string };

    const send = (id: string) =>
      env!.product.runtime.sqs.send(
        new SendMessageCommand({
          QueueUrl: String(env!.product.outputs[OUTPUTS.eventsQueueUrl]),
          MessageBody: JSON.stringify({ tenantId: tenant.tenantId, type: BENCH_EVENT_TYPE, id, data: fiscalData(1) }),
        }),
      );
    const distinct = () => new Set(receiver!.received.map((w) => String(w.headers["webhook-id"]))).size;
    const deliveredAll = async (count: number) => {
      const deadline = Date.now() + options.timeLimitMs;
      while (distinct() < count && Date.now() < deadline) await sleep(50);
    };
    // A first event warms the functions' execution environments up: the second one is measured.
    await send("fan-out-warm-up");
    await deliveredAll(options.endpoints);
    const warm = receiver.received.length;
    const before = await memoryBreakdown(env.product.runtime);
    const rss = sampleRss();
    const rssBefore = process.memoryUsage.rss();
    const sentAt = Date.now();
    await send("fan-out-measured");
    await deliveredAll(2 * options.endpoints);
    const measured = receiver.received.slice(warm);
    const last = Math.max(0, ...measured.map((w) => w.receivedAt));
    const rssPeak = rss.stop();
    const deliveredBreakdown = await memoryBreakdown(env.product.runtime);
    const delivered = new Set(measured.map((w) => String(w.headers["webhook-id"]))).size;
    return {
      endpoints: options.endpoints,
      subscribeSeconds,
      delivered,
      signaturesValid: measured.filter((w) => verifyBoth(w, webhookSecret).standard).length,
      seconds: (last - sentAt) / 1000,
      complete: delivered === options.endpoints,
      rssBefore,
      rssPeak,
      breakdown: { before, delivered: deliveredBreakdown },
      runtimeErrors,
    };
  } finally {
    await env?.stop();
    await receiver?.close();
  }
}
