import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { Worker } from "node:worker_threads";
import { createWebhookSender } from "../lambdas/delivery/sender.ts";
import { newSigningSecret } from "../lambdas/domain/signing.ts";
import { webhookEnvelope, webhookHeaders } from "../lambdas/domain/webhook-message.ts";
import type { IssuedCertificate } from "../lib/dev/certificates.ts";
import { fixed, int } from "./format.ts";
import { BENCH_EVENT_TYPE, fiscalData, runBounded } from "./workload.ts";

/** One sign-and-POST loop: what the baseline runs, on the main thread or in a worker thread. */
export interface LoopOptions {
  readonly url: string;
  readonly caFile: string;
  readonly deliveries: number;
  readonly concurrency: number;
  readonly warmup: number;
  readonly timeLimitMs: number;
}

export interface LoopResult {
  readonly delivered: number;
  readonly failed: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly complete: boolean;
}

/**
 * Builds the webhook body as deliver does (webhookEnvelope), signs it with every delivery header
 * (webhookHeaders: both signatures, event type, attempt) and POSTs it with the product's sender
 * (one keep-alive agent), `concurrency` at a time.
 */
export async function signedPostLoop(options: LoopOptions): Promise<LoopResult> {
  const sender = createWebhookSender({ allowLoopback: true, extraCaFile: options.caFile });
  const secret = newSigningSecret();
  let failed = 0;
  const deliverOne = async (index: number) => {
    const timestamp = new Date();
    const body = webhookEnvelope({ id: `baseline-${index}`, type: BENCH_EVENT_TYPE, createdAt: timestamp.toISOString(), data: fiscalData(index) });
    const headers = webhookHeaders({ secret, webhookId: randomUUID(), eventType: BENCH_EVENT_TYPE, attempt: 1, timestamp, body });
    const response = await sender.send({ url: `${options.url}?baseline=${index % 10}`, body, timeoutMs: 10_000, headers });
    if (!response.ok) failed++;
  };
  try {
    // Warm-up: a TLS handshake per connection of the pool, JIT of the hot path.
    await runBounded(options.warmup, options.concurrency, performance.now() + options.timeLimitMs, (i) => deliverOne(-1 - i));
    failed = 0;
    const started = performance.now();
    const done = await runBounded(options.deliveries, options.concurrency, started + options.timeLimitMs, deliverOne);
    const seconds = (performance.now() - started) / 1000;
    return { delivered: done - failed, failed, seconds, perSecond: (done - failed) / seconds, complete: done === options.deliveries };
  } finally {
    sender.close();
  }
}

function loopInWorker(options: LoopOptions): Promise<LoopResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./baseline-worker.ts", import.meta.url), { workerData: options });
    let result: LoopResult | undefined;
    worker.once("message", (message: LoopResult) => (result = message));
    worker.once("error", reject);
    worker.once("exit", (code) => (result ? resolve(result) : reject(new Error(`baseline worker exited with code ${code}`))));
  });
}

/** The receiver process: its URL, its CPU time so far, and a way to stop it. */
interface ReceiverProcess {
  readonly url: string;
  cpuMicros(): Promise<number>;
  stop(): void;
}

async function forkReceiver(certificate: IssuedCertificate): Promise<ReceiverProcess> {
  const child: ChildProcess = fork(new URL("./baseline-receiver.ts", import.meta.url), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const next = <T>(kind: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: { kind: string } & T) => {
        if (message.kind !== kind) return;
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve(message);
      };
      const onExit = (code: number | null) => reject(new Error(`baseline receiver exited with code ${code}`));
      child.on("message", onMessage);
      child.once("exit", onExit);
    });
  const listening = next<{ port: number }>("listening");
  child.send({ kind: "start", certificate });
  const { port } = await listening;
  return {
    url: `https://127.0.0.1:${port}/webhooks`,
    cpuMicros: async () => {
      const answer = next<{ micros: number }>("cpu");
      child.send({ kind: "cpu" });
      return (await answer).micros;
    },
    stop: () => {
      child.kill();
    },
  };
}

export type SenderVariant = "main thread" | "worker thread";

export interface BaselineRun extends LoopResult {
  readonly variant: SenderVariant;
  readonly inFlight: number;
  /** CPU of the bench process (the sender) and of the receiver process over the run, in cores (1 = one core busy). */
  readonly senderCores: number;
  readonly receiverCores: number;
}

export interface BaselineOptions {
  readonly certificate: IssuedCertificate;
  readonly caFile: string;
  readonly deliveries: number;
  readonly warmup: number;
  /** In-flight counts tried for each variant; the best is kept. */
  readonly inFlight: readonly number[];
  readonly timeLimitMs: number;
}

export interface BaselineResult {
  readonly runs: readonly BaselineRun[];
  /** The fastest run of each variant. */
  readonly bestOf: Readonly<Record<SenderVariant, BaselineRun>>;
  /** The fastest run of all: what the pipeline is measured against. */
  readonly best: BaselineRun;
}

/**
 * The strongest sign-and-POST loop this machine allows, for the pipeline to be measured
 * against: the receiver in its own process, keep-alive connections, the sender on the main
 * thread or in a worker thread, each at every in-flight count of `inFlight`.
 */
export async function runBaseline(options: BaselineOptions): Promise<BaselineResult> {
  const receiver = await forkReceiver(options.certificate);
  const runs: BaselineRun[] = [];
  try {
    for (const variant of ["main thread", "worker thread"] as const) {
      for (const inFlight of options.inFlight) {
        const loop: LoopOptions = {
          url: receiver.url,
          caFile: options.caFile,
          deliveries: options.deliveries,
          concurrency: inFlight,
          warmup: Math.max(options.warmup, inFlight),
          timeLimitMs: options.timeLimitMs,
        };
        // CPU over the whole loop, warm-up included, so the shares are an approximation of the measured part.
        const senderBefore = process.cpuUsage();
        const receiverBefore = await receiver.cpuMicros();
        const wallBefore = performance.now();
        const result = variant === "main thread" ? await signedPostLoop(loop) : await loopInWorker(loop);
        const wallMicros = (performance.now() - wallBefore) * 1000;
        const sender = process.cpuUsage(senderBefore);
        const receiverMicros = (await receiver.cpuMicros()) - receiverBefore;
        runs.push({ ...result, variant, inFlight, senderCores: (sender.user + sender.system) / wallMicros, receiverCores: receiverMicros / wallMicros });
      }
    }
  } finally {
    receiver.stop();
  }
  const fastest = (candidates: readonly BaselineRun[]) =>
    candidates.reduce((best, run) => (run.failed === 0 && run.perSecond > best.perSecond ? run : best));
  const bestOf = {
    "main thread": fastest(runs.filter((r) => r.variant === "main thread")),
    "worker thread": fastest(runs.filter((r) => r.variant === "worker thread")),
  };
  return { runs, bestOf, best: fastest([bestOf["main thread"], bestOf["worker thread"]]) };
}

/** The baseline's section of the report. */
export function describeBaseline(b: BaselineResult, deliveries: number): string {
  const cell = (r: BaselineRun) =>
    `${int(r.perSecond)}/s${r.failed ? ` (${r.failed} FAILED)` : ""}${r.complete ? "" : " (time limit)"} [${fixed(r.senderCores, 2)}+${fixed(r.receiverCores, 2)} cores]`;
  const inFlight = [...new Set(b.runs.map((r) => r.inFlight))];
  const row = (variant: SenderVariant) =>
    `   sender on the ${variant.padEnd(13)}: ` +
    inFlight.map((n) => `${n} → ${cell(b.runs.find((r) => r.variant === variant && r.inFlight === n)!)}`).join(", ") +
    `; best ${int(b.bestOf[variant].perSecond)}/s at ${b.bestOf[variant].inFlight}`;
  return (
    `\n1. Baseline: sign-and-POST loop, receiver in its own process (node:https, keep-alive), ` +
    `webhookEnvelope + webhookHeaders (both signatures) + createWebhookSender, ${int(deliveries)} deliveries per run after a warm-up; ` +
    `in flight ${inFlight.join(", ")} tried per variant [CPU: bench process + receiver process, in cores, warm-up included]\n` +
    `${row("main thread")}\n${row("worker thread")}\n` +
    `   best: ${int(b.best.perSecond)} deliveries/s (sender on the ${b.best.variant}, ${b.best.inFlight} in flight)`
  );
}
