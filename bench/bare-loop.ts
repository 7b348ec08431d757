import { randomUUID } from "node:crypto";
import { Worker } from "node:worker_threads";
import { createWebhookSender } from "../lambdas/delivery/sender.ts";
import { newSigningSecret, signDelivery } from "../lambdas/domain/signing.ts";
import { BENCH_EVENT_TYPE, fiscalData, runBounded } from "./workload.ts";

export interface BareLoopOptions {
  readonly url: string;
  readonly caFile: string;
  readonly deliveries: number;
  readonly concurrency: number;
  readonly warmup: number;
  readonly timeLimitMs: number;
}

export interface BareLoopResult {
  readonly delivered: number;
  readonly failed: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly complete: boolean;
}

/**
 * The floor the pipeline is measured against: build the webhook body, sign it and POST
 * it with the product's own sender (one keep-alive agent), `concurrency` at a time.
 */
export async function runBareLoop(options: BareLoopOptions): Promise<BareLoopResult> {
  const sender = createWebhookSender({ allowLoopback: true, extraCaFile: options.caFile });
  const secret = newSigningSecret();
  let failed = 0;
  const deliverOne = async (index: number) => {
    const body = JSON.stringify({ id: `bare-${index}`, type: BENCH_EVENT_TYPE, createdAt: new Date().toISOString(), data: fiscalData(index) });
    const response = await sender.send({
      url: `${options.url}?bare=${index % 10}`,
      body,
      timeoutMs: 10_000,
      headers: {
        ...signDelivery({ secret, webhookId: randomUUID(), timestamp: new Date(), body }),
        "x-webhook-event": BENCH_EVENT_TYPE,
        "x-webhook-attempt": "1",
      },
    });
    if (!response.ok) failed++;
  };
  try {
    // Warm-up: TLS handshakes for the pool, JIT of the hot path.
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

/**
 * The same loop with the sender in its own worker thread, as the deliver function's
 * sender runs in its execution environment: the receiver keeps the main thread to itself.
 */
export function runBareLoopInWorker(options: BareLoopOptions): Promise<BareLoopResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./bare-worker.ts", import.meta.url), { workerData: options });
    let result: BareLoopResult | undefined;
    worker.once("message", (message: BareLoopResult) => (result = message));
    worker.once("error", reject);
    worker.once("exit", (code) => (result ? resolve(result) : reject(new Error(`bare-loop worker exited with code ${code}`))));
  });
}
