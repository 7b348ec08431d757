import { SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { OUTPUTS } from "../lambdas/contract/resources.ts";
import type { EphemeralProduct } from "../lib/dev/ephemeral-product.ts";
import type { ReceiverFactory } from "../lib/dev/https-receiver.ts";
import { fixed, int, verdict } from "./format.ts";
import { percentile } from "./instrument.ts";
import { BENCH_EVENT_TYPE, fiscalData, startBenchProduct } from "./workload.ts";

export interface LatencyOptions {
  readonly receivers: ReceiverFactory;
  /** Events in the burst, sent ten per SendMessageBatch as fast as the calls return. */
  readonly burst: number;
  /** Events sent one at a time, each after the previous one arrived, with the pipeline idle. */
  readonly lone: number;
  readonly warmupEvents: number;
  readonly retrySchedule: readonly number[];
  readonly timeLimitMs: number;
}

interface Latencies {
  readonly sent: number;
  readonly received: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly complete: boolean;
}

export interface LatencyResult {
  readonly burst: Latencies & { readonly injectMs: number; readonly drainMs: number };
  readonly lone: Latencies;
  readonly runtimeErrors: readonly string[];
}

const PORTAL = "/portal/api/ext/webhook";

function summarize(sentAt: ReadonlyMap<string, number>, arrivedAt: ReadonlyMap<string, number>): Latencies {
  const latencies = [...sentAt].flatMap(([id, at]) => {
    const arrived = arrivedAt.get(id);
    return arrived === undefined ? [] : [arrived - at];
  });
  return {
    sent: sentAt.size,
    received: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: Math.max(...latencies),
    complete: latencies.length === sentAt.size,
  };
}

/**
 * Inject → receive latency on the local runtime, in memory: one tenant, one subscription
 * (fan-out 1), the receiver in the bench process. Per event: the receiver's arrival time of its
 * first webhook (found by the event id in the body) minus the time its send call started.
 */
export async function runLatency(options: LatencyOptions): Promise<LatencyResult> {
  const runtimeErrors: string[] = [];
  const receiver = await options.receivers.start();
  let env: EphemeralProduct | undefined;
  try {
    env = await startBenchProduct(options.receivers, options.retrySchedule, runtimeErrors);
    const sqs = env.product.runtime.sqs;
    const queueUrl = String(env.product.outputs[OUTPUTS.eventsQueueUrl]);
    const tenant = await env.newTenant("latency");
    const created = await tenant.call("POST", PORTAL, { evento: BENCH_EVENT_TYPE, endpoint: `${receiver.url}?latency` });
    if (created.status !== 201) throw new Error(`subscription: HTTP ${created.status} ${await created.text()}`);

    const arrivedAt = new Map<string, number>();
    let waiter: { id: string; resolve: () => void } | undefined;
    receiver.behave((webhook, response) => {
      const at = performance.now();
      response.writeHead(200);
      response.end("OK");
      const id = (JSON.parse(webhook.body) as { id: string }).id;
      if (!arrivedAt.has(id)) arrivedAt.set(id, at);
      if (waiter?.id === id) waiter.resolve();
    });
    const runTag = randomBytes(4).toString("hex");
    let counter = 0;
    const event = () => {
      const index = counter++;
      const id = `latency-${runTag}-${index}`;
      return { id, body: JSON.stringify({ tenantId: tenant.tenantId, type: BENCH_EVENT_TYPE, id, data: fiscalData(index) }) };
    };
    const sendBurst = async (count: number, sentAt: Map<string, number>) => {
      for (let start = 0; start < count; start += 10) {
        const events = Array.from({ length: Math.min(10, count - start) }, event);
        const at = performance.now();
        for (const e of events) sentAt.set(e.id, at);
        const { Failed = [] } = await sqs.send(
          new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: events.map((e, i) => ({ Id: String(i), MessageBody: e.body })) }),
        );
        if (Failed.length > 0) throw new Error(`SendMessageBatch refused ${Failed.length} entries`);
      }
    };
    const allArrived = async (ids: Iterable<string>, deadline: number) => {
      const pending = [...ids];
      while (performance.now() < deadline) {
        while (pending.length > 0 && arrivedAt.has(pending[pending.length - 1]!)) pending.pop();
        if (pending.length === 0) return true;
        await sleep(5);
      }
      return false;
    };

    // Warm-up: a burst, so both functions have warm execution environments.
    const warm = new Map<string, number>();
    await sendBurst(options.warmupEvents, warm);
    if (!(await allArrived([...warm.keys()].reverse(), performance.now() + 60_000))) throw new Error("latency warm-up: events did not arrive within 60 s");
    await sleep(1000);

    // Lone events, one at a time, each after the previous one arrived and a pause.
    const loneSent = new Map<string, number>();
    const loneDeadline = performance.now() + options.timeLimitMs;
    for (let i = 0; i < options.lone && performance.now() < loneDeadline; i++) {
      const e = event();
      const arrived = new Promise<void>((resolve) => (waiter = { id: e.id, resolve }));
      const at = performance.now();
      loneSent.set(e.id, at);
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: e.body }));
      await Promise.race([arrived, sleep(Math.max(0, loneDeadline - performance.now()))]);
      waiter = undefined;
      await sleep(200);
    }
    const lone = summarize(loneSent, arrivedAt);
    await sleep(1000);

    // The burst.
    const burstSent = new Map<string, number>();
    const started = performance.now();
    await sendBurst(options.burst, burstSent);
    const injectMs = performance.now() - started;
    await allArrived([...burstSent.keys()].reverse(), started + options.timeLimitMs);
    const lastArrival = Math.max(...[...burstSent.keys()].map((id) => arrivedAt.get(id) ?? Number.NaN).filter(Number.isFinite));
    return { burst: { ...summarize(burstSent, arrivedAt), injectMs, drainMs: lastArrival - started }, lone, runtimeErrors };
  } finally {
    await env?.stop();
    await receiver.close();
  }
}

export const LATENCY_TARGETS = { burstP99Ms: 2000, loneP50Ms: 50 } as const;

/** The scenario's section of the report and its summary rows. */
export function describeLatency(r: LatencyResult, burst: number): { text: string; rows: string[][] } {
  const b = r.burst;
  const l = r.lone;
  const burstPass = b.complete && b.p99Ms <= LATENCY_TARGETS.burstP99Ms;
  const lonePass = l.complete && l.p50Ms <= LATENCY_TARGETS.loneP50Ms;
  const text =
    `\n7. Inject → receive latency (local runtime, in memory, one tenant, one subscription: fan-out 1; per event: the receiver's ` +
    `arrival time of its webhook, found by the event id in the body, minus the start of its send call; after a warm-up)\n` +
    `   burst: ${int(b.sent)} events, ten per SendMessageBatch, sent in ${int(b.injectMs)} ms; ${int(b.received)} received, ` +
    `the last ${fixed(b.drainMs / 1000, 2)} s after the first send${b.complete ? "" : " (INCOMPLETE at the time limit)"}\n` +
    `   burst latency p50 ${int(b.p50Ms)} ms, p99 ${int(b.p99Ms)} ms, max ${int(b.maxMs)} ms (target p99 ≤ ${int(LATENCY_TARGETS.burstP99Ms)} ms) → ${verdict(burstPass)}\n` +
    `   lone events: ${l.sent} sent one at a time (SendMessage) with the pipeline idle, ${l.received} received: ` +
    `p50 ${fixed(l.p50Ms)} ms, p99 ${fixed(l.p99Ms)} ms, max ${fixed(l.maxMs)} ms (target p50 ≤ ${LATENCY_TARGETS.loneP50Ms} ms) → ${verdict(lonePass)}` +
    r.runtimeErrors.slice(0, 3).map((error) => `\n   runtime error: ${error}`).join("");
  return {
    text,
    rows: [
      [`burst of ${int(burst)}: p50 inject→receive`, `${int(b.p50Ms)} ms`, "", ""],
      [`burst of ${int(burst)}: p99 inject→receive`, `${int(b.p99Ms)} ms`, `≤ ${int(LATENCY_TARGETS.burstP99Ms)} ms`, verdict(burstPass)],
      ["lone event: p50 inject→receive", `${fixed(l.p50Ms)} ms`, `≤ ${LATENCY_TARGETS.loneP50Ms} ms`, verdict(lonePass)],
    ],
  };
}
