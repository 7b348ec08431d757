import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { setTimeout as sleep } from "node:timers/promises";
import { OUTPUTS } from "../lambdas/contract/resources.ts";
import { DeadLetterStore } from "../lambdas/data/dead-letters.ts";
import { deliveryIdFor } from "../lambdas/domain/fiscal-event.ts";
import { webhookEnvelope } from "../lambdas/domain/webhook-message.ts";
import type { ApiCall, EphemeralProduct } from "../lib/dev/ephemeral-product.ts";
import { answer, startHttpsReceiver, type HttpsReceiver, type ReceiverFactory } from "../lib/dev/https-receiver.ts";
import { sampleRss } from "./instrument.ts";
import { memoryBreakdown, type MemoryBreakdown } from "./memory.ts";
import { BENCH_EVENT_TYPE, fiscalData, runBounded, startBenchProduct } from "./workload.ts";

export interface RetryAllOptions {
  readonly receivers: ReceiverFactory;
  /** Dead letters seeded for the one tenant before `POST /webhooks/dlq/retry-all`. */
  readonly deadLetters: number;
  readonly retrySchedule: readonly number[];
  /** Concurrent `DeadLetterStore.put` calls while seeding. */
  readonly seedConcurrency: number;
  /** Letters retried first, unmeasured, to warm the functions up. */
  readonly warmupLetters: number;
  readonly timeLimitMs: number;
}

export interface RetryAllResult {
  readonly deadLetters: number;
  /** Seeding the letters through the store, and how many it wrote. */
  readonly seedSeconds: number;
  readonly seeded: number;
  /** The API's answer to `POST /webhooks/dlq/retry-all` and how long it took. */
  readonly apiStatus: number;
  readonly apiBody: string;
  readonly apiSeconds: number;
  /** Distinct webhook-ids of the seeded letters that reached the receiver, and every arrival (repeats included). */
  readonly delivered: number;
  readonly arrivals: number;
  /** Arrivals whose `X-Webhook-Attempt` carried on from the letter's attempts. */
  readonly carriedOnAttempts: number;
  /** From the API call to the last distinct webhook-id's arrival. */
  readonly seconds: number;
  readonly complete: boolean;
  /** Letters `GET /webhooks/dlq` still lists once all were delivered (or at the time limit). */
  readonly lettersLeft: number;
  /** DLQ-jobs function invocations from the API call until the end, and how many of them failed. */
  readonly jobInvocations: number;
  readonly jobFailures: number;
  /** Why the failed ones failed (Lambda's errorType: message). */
  readonly jobErrors: readonly string[];
  /** Whole process (functions' worker threads included): before the call, the peak until delivered, and at 25/50/75/100 % delivered. */
  readonly rssBefore: number;
  readonly rssPeak: number;
  readonly rssAt: readonly { readonly share: number; readonly rss: number; readonly mainHeap: number; readonly seconds: number }[];
  /** The main thread's V8 heap in use (the emulators, the gateway, the pollers; not the functions' worker threads) before the call. */
  readonly mainHeapBefore: number;
  /** Where the memory was before the call and once all were delivered. */
  readonly breakdown: { readonly before: MemoryBreakdown; readonly delivered: MemoryBreakdown };
  readonly runtimeErrors: readonly string[];
}

const LETTER_ATTEMPTS = 3;

/**
 * One tenant's dead letters, seeded through the store, retried with one API call: the time
 * until each reached the receiver, the letters left, the process's memory along the way.
 */
export async function runRetryAll(options: RetryAllOptions): Promise<RetryAllResult> {
  const runtimeErrors: string[] = [];
  let env: EphemeralProduct | undefined;
  let receiver: HttpsReceiver | undefined;
  let stopObserving: (() => void) | undefined;
  try {
    // The receiver keeps no webhook (10,000 of them would count in the RSS measured): it
    // records each seeded webhook-id once, and the RSS when 25, 50, 75 and 100 % have arrived.
    const ids = new Set<string>();
    const seen = new Set<string>();
    const warmIds = new Set<string>();
    const warmSeen = new Set<string>();
    const shares = [0.25, 0.5, 0.75, 1];
    const rssAt: { share: number; rss: number; mainHeap: number; seconds: number }[] = [];
    let calledAt = 0;
    let lastAt = 0;
    let arrivals = 0;
    let carriedOnAttempts = 0;
    const ok = answer(200, "OK");
    receiver = await startHttpsReceiver({
      certificate: options.receivers.certificate,
      keep: 0,
      behaviour: (webhook, response, count) => {
        ok(webhook, response, count);
        const id = String(webhook.headers["webhook-id"]);
        if (warmIds.has(id)) warmSeen.add(id);
        if (!ids.has(id)) return;
        arrivals++;
        if (webhook.headers["x-webhook-attempt"] === String(LETTER_ATTEMPTS + 1)) carriedOnAttempts++;
        if (seen.has(id)) return;
        seen.add(id);
        lastAt = Date.now();
        const next = shares[rssAt.length];
        if (next !== undefined && seen.size >= Math.ceil(next * options.deadLetters)) {
          const { rss, heapUsed } = process.memoryUsage();
          rssAt.push({ share: next, rss, mainHeap: heapUsed, seconds: (lastAt - calledAt) / 1000 });
        }
      },
    });
    env = await startBenchProduct(options.receivers, options.retrySchedule, runtimeErrors);
    const { product } = env;
    const tenant = await env.newTenant("bench-retry-all");
    // A retry checks that the letter's endpoint still takes its event type.
    const created = await tenant.call("POST", "/portal/api/ext/webhook", { evento: BENCH_EVENT_TYPE, endpoint: receiver.url });
    if (created.status !== 201) throw new Error(`subscription: HTTP ${created.status} ${await created.text()}`);
    await tenant.call("POST", "/webhooks/secret/regenerate");

    // Seeding: the letters the indexer would have filed after the last of LETTER_ATTEMPTS attempts.
    const store = new DeadLetterStore(env.documents, String(product.outputs[OUTPUTS.tableName]));
    const createdAt = new Date(Date.now() - 60_000).toISOString();
    const seed = (count: number, prefix: string, into: Set<string>) =>
      runBounded(count, options.seedConcurrency, Number.POSITIVE_INFINITY, async (i) => {
        const eventId = `${prefix}-${i}`;
        const deliveryId = deliveryIdFor(tenant.tenantId, eventId, receiver!.url);
        into.add(deliveryId);
        await store.put({
          delivery: {
            deliveryId,
            tenantId: tenant.tenantId,
            eventId,
            eventType: BENCH_EVENT_TYPE,
            url: receiver!.url,
            body: webhookEnvelope({ id: eventId, type: BENCH_EVENT_TYPE, createdAt, data: fiscalData(i) }),
            createdAt,
            attemptsBefore: 0,
            step: LETTER_ATTEMPTS,
            acceptedAt: createdAt,
          },
          attempts: LETTER_ATTEMPTS,
          lastError: "HTTP 500 Internal Server Error",
          failedAt: new Date().toISOString(),
        });
      });

    // A warm-up: a few letters retried the same way and an empty job, so that the API's,
    // deliver's and the jobs function's execution environments are up before the measured call.
    await seed(options.warmupLetters, "retry-all-warm-up", warmIds);
    const warming = await tenant.call("POST", "/webhooks/dlq/retry-all");
    if (warming.status !== 200) throw new Error(`warm-up retry-all: HTTP ${warming.status} ${await warming.text()}`);
    await product.runtime.sqs.send(
      new SendMessageCommand({ QueueUrl: product.queue("deadLetterJobsQueue").url, MessageBody: JSON.stringify({ operation: "retry-all", tenantId: tenant.tenantId }) }),
    );
    const warmDeadline = Date.now() + options.timeLimitMs;
    while (warmSeen.size < warmIds.size && Date.now() < warmDeadline) await sleep(50);

    const seeding = performance.now();
    const seeded = await seed(options.deadLetters, "retry-all", ids);
    const seedSeconds = (performance.now() - seeding) / 1000;

    const jobsQueueUrl = product.queue("deadLetterJobsQueue").url;
    const jobsFunction = product.runtime.eventSources.find((s) => s.queueUrl === jobsQueueUrl)?.functionId;
    if (jobsFunction === undefined) throw new Error("no function consumes the DLQ jobs queue");
    const jobs = { invocations: 0, failures: 0, errors: [] as string[] };
    stopObserving = product.runtime.observeInvocations({
      started: () => undefined,
      finished: (functionId, _event, outcome) => {
        if (functionId !== jobsFunction) return;
        jobs.invocations++;
        if (outcome.ok) return;
        jobs.failures++;
        jobs.errors.push(outcome.error instanceof Error ? outcome.error.message : String(outcome.error));
      },
    });

    // Settle, then measure from the call.
    await sleep(2000);
    const before = await memoryBreakdown(product.runtime);
    const rss = sampleRss();
    const { rss: rssBefore, heapUsed: mainHeapBefore } = process.memoryUsage();
    calledAt = Date.now();
    const response = await tenant.call("POST", "/webhooks/dlq/retry-all");
    const apiBody = await response.text();
    const apiSeconds = (Date.now() - calledAt) / 1000;
    const deadline = calledAt + options.timeLimitMs;
    while (seen.size < options.deadLetters && Date.now() < deadline) await sleep(50);
    const rssPeak = rss.stop();
    const delivered = await memoryBreakdown(product.runtime);
    const complete = seen.size === options.deadLetters;
    // A letter is removed just after its delivery is queued: give the last removals (and any job still running) a moment.
    const quiet = Date.now() + 10_000;
    while ((await dlqPage(tenant.call, "?limit=1")).letters.length > 0 && Date.now() < quiet) await sleep(500);
    const lettersLeft = await countLetters(tenant.call);
    return {
      deadLetters: options.deadLetters,
      seedSeconds,
      seeded,
      apiStatus: response.status,
      apiBody,
      apiSeconds,
      delivered: seen.size,
      arrivals,
      carriedOnAttempts,
      seconds: ((complete ? lastAt : Date.now()) - calledAt) / 1000,
      complete,
      lettersLeft,
      jobInvocations: jobs.invocations,
      jobFailures: jobs.failures,
      jobErrors: jobs.errors,
      rssBefore,
      mainHeapBefore,
      breakdown: { before, delivered },
      rssPeak,
      rssAt,
      runtimeErrors,
    };
  } finally {
    stopObserving?.();
    await env?.stop();
    await receiver?.close();
  }
}

async function dlqPage(call: ApiCall, query: string): Promise<{ letters: unknown[]; cursor: string | null }> {
  const response = await call("GET", `/webhooks/dlq${query}`);
  if (response.status !== 200) throw new Error(`GET /webhooks/dlq: HTTP ${response.status} ${await response.text()}`);
  return { letters: (await response.json()) as unknown[], cursor: response.headers.get("x-next-cursor") };
}

/** Every letter `GET /webhooks/dlq` lists, page by page. */
async function countLetters(call: ApiCall): Promise<number> {
  let count = 0;
  let query = "?limit=100";
  for (;;) {
    const page = await dlqPage(call, query);
    count += page.letters.length;
    if (!page.cursor) return count;
    query = `?limit=100&cursor=${encodeURIComponent(page.cursor)}`;
  }
}
