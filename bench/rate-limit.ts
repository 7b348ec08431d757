import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { setTimeout as sleep } from "node:timers/promises";
import { ENV, OUTPUTS } from "../lambdas/contract/resources.ts";
import type { EphemeralProduct } from "../lib/dev/ephemeral-product.ts";
import type { HttpsReceiver, ReceiverFactory } from "../lib/dev/https-receiver.ts";
import { BENCH_EVENT_TYPE, fiscalData, startBenchProduct } from "./workload.ts";

export interface RateLimitOptions {
  readonly receivers: ReceiverFactory;
  readonly events: number;
  /** The subscription's maxPorSegundo. */
  readonly limit: number;
  readonly retrySchedule: readonly number[];
  readonly timeLimitMs: number;
}

export interface RateLimitResult {
  readonly events: number;
  readonly limit: number;
  /** Distinct webhook-ids that arrived. */
  readonly delivered: number;
  readonly lost: number;
  /** Arrivals beyond the first of their webhook-id (a copy SQS delivered twice). */
  readonly copies: number;
  /** Deliveries that reached the receiver on an attempt other than their first. */
  readonly laterAttempts: number;
  /** Arrivals in each second of the receiver's clock, from the first arrival's second to the last's. */
  readonly perSecond: readonly number[];
  readonly peakPerSecond: number;
  /** First SendMessageBatch to the last arrival. */
  readonly drainSeconds: number;
  readonly complete: boolean;
  /** Deliver invocations that reserved slots of the endpoint's schedule (one or two updates each). */
  readonly reservations: number;
  /** Deliveries held back and sent to the queue again, seen when they came back. */
  readonly heldBack: number;
  readonly deliverInvocations: number;
  readonly runtimeErrors: readonly string[];
}

/**
 * A burst of `events` events to one Portal subscription limited to `limit` deliveries a
 * second, on the local runtime in memory: what reaches the receiver, second by second.
 */
export async function runRateLimited(options: RateLimitOptions): Promise<RateLimitResult> {
  const runtimeErrors: string[] = [];
  let env: EphemeralProduct | undefined;
  let receiver: HttpsReceiver | undefined;
  let stopRecording: (() => void) | undefined;
  try {
    receiver = await options.receivers.start();
    env = await startBenchProduct(options.receivers, options.retrySchedule, runtimeErrors);
    const { product } = env;
    const eventsQueueUrl = String(product.outputs[OUTPUTS.eventsQueueUrl]);
    const dispatchSource = product.runtime.eventSources.find((s) => s.queueUrl === eventsQueueUrl);
    const deliveriesQueueUrl = product.runtime.functions.find((f) => f.logicalId === dispatchSource?.functionId)?.environment[ENV.deliveriesQueueUrl];
    const deliverId = product.runtime.eventSources.find((s) => s.queueUrl === deliveriesQueueUrl)?.functionId;
    // What deliver was handed: messages back holding a slot (held back before) and the rest.
    const seen = { invocations: 0, reservations: 0, heldBack: 0 };
    stopRecording = product.runtime.observeInvocations({
      started: () => undefined,
      finished: (functionId, event) => {
        if (functionId !== deliverId) return;
        const records = (event as SQSEvent).Records;
        const held = records.filter((record) => record.messageAttributes["reserved-slot"] !== undefined).length;
        seen.invocations++;
        seen.heldBack += held;
        if (held < records.length) seen.reservations++;
      },
    });

    const tenant = await env.newTenant("bench-rate");
    const created = await tenant.call("POST", "/portal/api/ext/webhook", { evento: BENCH_EVENT_TYPE, endpoint: receiver.url, maxPorSegundo: options.limit });
    if (created.status !== 201) throw new Error(`subscription: HTTP ${created.status} ${await created.text()}`);

    const bodies = Array.from({ length: options.events }, (_, i) =>
      JSON.stringify({ tenantId: tenant.tenantId, type: BENCH_EVENT_TYPE, id: `rate-${i}`, data: fiscalData(i) }),
    );
    const sentAt = Date.now();
    await Promise.all(
      Array.from({ length: Math.ceil(bodies.length / 10) }, async (_, b) => {
        const entries = bodies.slice(b * 10, b * 10 + 10).map((MessageBody, i) => ({ Id: String(i), MessageBody }));
        const { Failed = [] } = await product.runtime.sqs.send(new SendMessageBatchCommand({ QueueUrl: eventsQueueUrl, Entries: entries }));
        if (Failed.length > 0) throw new Error(`SendMessageBatch refused ${Failed.length} entries`);
      }),
    );
    const distinct = () => new Set(receiver!.received.map((w) => String(w.headers["webhook-id"]))).size;
    const deadline = Date.now() + options.timeLimitMs;
    while (distinct() < options.events && Date.now() < deadline) await sleep(100);
    // Anything still on its way (a copy) arrives now or not at all.
    await sleep(1500);

    const received = receiver.received;
    const arrivals = received.map((w) => w.receivedAt);
    const first = Math.floor(Math.min(...arrivals) / 1000);
    const perSecond = Array.from({ length: Math.floor(Math.max(...arrivals) / 1000) - first + 1 }, () => 0);
    for (const at of arrivals) perSecond[Math.floor(at / 1000) - first]!++;
    const delivered = distinct();

    return {
      events: options.events,
      limit: options.limit,
      delivered,
      lost: options.events - delivered,
      copies: received.length - delivered,
      laterAttempts: received.filter((w) => w.headers["x-webhook-attempt"] !== "1").length,
      perSecond,
      peakPerSecond: Math.max(0, ...perSecond),
      drainSeconds: (Math.max(...arrivals) - sentAt) / 1000,
      complete: delivered === options.events,
      reservations: seen.reservations,
      heldBack: seen.heldBack,
      deliverInvocations: seen.invocations,
      runtimeErrors,
    };
  } finally {
    stopRecording?.();
    await env?.stop();
    await receiver?.close();
  }
}
