import { SendMessageBatchCommand, type SendMessageBatchRequestEntry } from "@aws-sdk/client-sqs";
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { OUTPUTS } from "../lambdas/contract/resources.ts";
import { modulus11 } from "../lambdas/domain/cnpj.ts";
import type { ApiCall, EphemeralProduct } from "../lib/dev/ephemeral-product.ts";
import { answer, type Behaviour, type HttpsReceiver, type ReceivedWebhook, type ReceiverFactory } from "../lib/dev/https-receiver.ts";
import { PRICES } from "./cost-model.ts";
import { RequestTally, type RequestLine } from "./request-cost.ts";
import { BENCH_EVENT_TYPE, fiscalData, runBounded, startBenchProduct } from "./workload.ts";

export interface OrderedOptions {
  readonly receivers: ReceiverFactory;
  readonly documents: number;
  readonly eventsPerDocument: number;
  /** Share of attempts (0..1) the receivers answer 503, decided by a hash of webhook-id and attempt. */
  readonly failureShare: number;
  readonly retrySchedule: readonly number[];
  readonly timeLimitMs: number;
  /** Lambda is billed max(this, measured mean) per invocation, as in the cost model. */
  readonly assumedMsPerBatch: number;
}

/** What one path (ordered or not) did, from the first send to the last successful delivery. */
export interface PathResult {
  readonly events: number;
  /** Distinct webhook-ids answered 2xx. */
  readonly delivered: number;
  /** In the tenant's DLQ (GET /webhooks/dlq). */
  readonly exhausted: number;
  /** Neither delivered nor in the DLQ. */
  readonly lost: number;
  readonly attempts: number;
  /** 2xx answers beyond the first for a webhook-id. */
  readonly repeatedSuccesses: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly complete: boolean;
  readonly cost: PathCost;
}

export interface PathCost {
  /** Every priced line of the phase: SQS and DynamoDB from the requests made, Lambda per invocation. */
  readonly lines: readonly (RequestLine | LambdaLine)[];
  readonly total: number;
  readonly byService: Readonly<Record<"SQS" | "DynamoDB" | "Lambda", number>>;
  readonly emptyReceives: number;
  readonly unbilledErrors: number;
}

export interface LambdaLine {
  readonly service: "Lambda";
  /** Billed per invocation, for a duration line. */
  readonly billedMs?: number;
  readonly component: string;
  readonly calls: number;
  readonly units: number;
  readonly unit: "requests" | "GB-s";
  readonly dollars: number;
}

export interface OrderedResult {
  readonly ordered: PathResult & {
    readonly documents: number;
    /** Attempts of event i+1 of a document that arrived before event i was done (delivered, or its last attempt made). */
    readonly outOfOrder: number;
    /** (document, endpoint) pairs with at least one such attempt. */
    readonly documentsOutOfOrder: number;
  };
  readonly unordered: PathResult;
  readonly runtimeErrors: readonly string[];
}

interface Phase {
  readonly tally: RequestTally;
  /** Durations of the invocations that finished in the phase, by function. */
  readonly invocations: Map<string, number[]>;
}

/**
 * Ordered delivery against the unordered path, on one product on the local runtime: a tenant
 * whose events each carry a documentKey, sent to the ordered (FIFO) events queue, then another
 * tenant with as many events without one through the standard queue, each to its own receiver
 * failing the same share of attempts. Counts what arrived in what order, and prices the SQS and
 * DynamoDB requests each phase made (the runtime's request hook) and its Lambda invocations.
 */
export async function runOrdered(options: OrderedOptions): Promise<OrderedResult> {
  if (10 % options.eventsPerDocument !== 0) throw new RangeError("events per document must divide 10 (a document's events in one SendMessageBatch call)");
  const runtimeErrors: string[] = [];
  let env: EphemeralProduct | undefined;
  const started: HttpsReceiver[] = [];
  const stops: (() => void)[] = [];
  try {
    const failing = failingShare(options.failureShare);
    const orderedHook = await options.receivers.start(failing);
    const plainHook = await options.receivers.start(failing);
    const warmHook = await options.receivers.start(failingShare(0));
    started.push(orderedHook, plainHook, warmHook);
    env = await startBenchProduct(options.receivers, options.retrySchedule, runtimeErrors);
    const { product } = env;
    const runtime = product.runtime;
    const orderedQueueUrl = String(product.outputs[OUTPUTS.orderedEventsQueueUrl]);
    const eventsQueueUrl = String(product.outputs[OUTPUTS.eventsQueueUrl]);

    let phase: Phase | undefined;
    stops.push(runtime.observeRequests((call) => phase?.tally.add(call)));
    stops.push(
      runtime.observeInvocations({
        started: () => undefined,
        finished: (functionId, _event, _outcome, durationMs) => {
          if (!phase) return;
          phase.invocations.set(functionId, [...(phase.invocations.get(functionId) ?? []), durationMs]);
        },
      }),
    );

    const subscribe = async (name: string, hook: HttpsReceiver) => {
      const tenant = await env!.newTenant(name);
      const created = await tenant.call("POST", "/portal/api/ext/webhook", { evento: BENCH_EVENT_TYPE, endpoint: hook.url });
      if (created.status !== 201) throw new Error(`subscription: HTTP ${created.status} ${await created.text()}`);
      return tenant;
    };
    const orderedTenant = await subscribe("bench-ordered", orderedHook);
    const plainTenant = await subscribe("bench-unordered", plainHook);
    const warmTenant = await subscribe("bench-warm-up", warmHook);

    const total = options.documents * options.eventsPerDocument;
    const orderedEvents = (tenantId: string, documents: number, prefix: string, first = 0) =>
      Array.from({ length: documents }, (_, d) => {
        const key = documentKey(first + d);
        return Array.from({ length: options.eventsPerDocument }, (_, s) => ({
          groupId: `${tenantId}:${key}`,
          body: { tenantId, type: BENCH_EVENT_TYPE, id: `${prefix}-${d}-${s + 1}`, documentKey: key, sequence: s + 1, data: fiscalData(d) },
        }));
      }).flat();
    const plainEvents = (tenantId: string, count: number, prefix: string) =>
      Array.from({ length: count }, (_, i) => ({ groupId: undefined, body: { tenantId, type: BENCH_EVENT_TYPE, id: `${prefix}-${i}`, data: fiscalData(i) } }));

    // Warm-up: a few events down each path to a third tenant, cold starts out of the measure.
    const warmCount = 4 * options.eventsPerDocument;
    await send(runtime.sqs, orderedQueueUrl, orderedEvents(warmTenant.tenantId, 4, "warm-ordered", 900_000));
    await send(runtime.sqs, eventsQueueUrl, plainEvents(warmTenant.tenantId, warmCount, "warm-plain"));
    const warmDeadline = Date.now() + 60_000;
    while (distinctSuccesses(warmHook.received).size < 2 * warmCount && Date.now() < warmDeadline) await sleep(100);

    const measure = async (hook: HttpsReceiver, queueUrl: string, events: Sent[], tenant: typeof orderedTenant) => {
      phase = { tally: new RequestTally(), invocations: new Map() };
      const sentAt = Date.now();
      await send(runtime.sqs, queueUrl, events);
      const deadline = sentAt + options.timeLimitMs;
      const last = options.retrySchedule.length;
      const done = () => {
        const successes = distinctSuccesses(hook.received);
        const failedAttempts = new Map<string, number>();
        for (const w of hook.received) if (!successes.has(idOf(w))) failedAttempts.set(idOf(w), (failedAttempts.get(idOf(w)) ?? 0) + 1);
        return successes.size + [...failedAttempts.values()].filter((n) => n >= last).length;
      };
      while (done() < events.length && Date.now() < deadline) await sleep(200);
      // The last writes of the phase (log lines, dead letters) land now.
      await sleep(1500);
      const measured = phase;
      phase = undefined;
      await measured.tally.sizeLater(runtime.dynamodb);
      const received = hook.received;
      const successes = distinctSuccesses(received);
      const lastSuccess = Math.max(...received.filter(succeeded).map((w) => w.receivedAt));
      const seconds = (lastSuccess - sentAt) / 1000;
      const exhausted = await dlqCount(tenant.call, events.length - successes.size);
      return {
        events: events.length,
        delivered: successes.size,
        exhausted,
        lost: events.length - successes.size - exhausted,
        attempts: received.length,
        repeatedSuccesses: received.filter(succeeded).length - successes.size,
        seconds,
        perSecond: successes.size / seconds,
        complete: successes.size + exhausted === events.length,
        cost: priceOf(measured, runtime.functions, options.assumedMsPerBatch),
      };
    };

    const ordered = await measure(orderedHook, orderedQueueUrl, orderedEvents(orderedTenant.tenantId, options.documents, "ord"), orderedTenant);
    const order = outOfOrder(orderedHook.received);
    const unordered = await measure(plainHook, eventsQueueUrl, plainEvents(plainTenant.tenantId, total, "plain"), plainTenant);
    return { ordered: { ...ordered, documents: options.documents, ...order }, unordered, runtimeErrors };
  } finally {
    for (const stop of stops) stop();
    await env?.stop();
    for (const hook of started) await hook.close();
  }
}

type Sent = { readonly groupId: string | undefined; readonly body: { readonly id: string } & Record<string, unknown> };

/** SendMessageBatch, ten a call, eight calls in flight. */
async function send(sqs: EphemeralProduct["product"]["runtime"]["sqs"], queueUrl: string, events: readonly Sent[]): Promise<void> {
  const calls = Math.ceil(events.length / 10);
  // Calls in flight at once never hold the same document: events per document divide ten, so
  // each call holds whole documents and a group's order is the order of its entries.
  await runBounded(calls, 8, Number.POSITIVE_INFINITY, async (c) => {
    const entries: SendMessageBatchRequestEntry[] = events.slice(c * 10, c * 10 + 10).map(({ groupId, body }, i) => ({
      Id: String(i),
      MessageBody: JSON.stringify(body),
      ...(groupId === undefined ? {} : { MessageGroupId: groupId, MessageDeduplicationId: body.id }),
    }));
    const { Failed = [] } = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    if (Failed.length > 0) throw new Error(`SendMessageBatch refused ${Failed.length} entries: ${Failed[0]?.Message}`);
  });
}

/** A chave de acesso of an NF-e (SP, 11/2026, model 55, fits invoice.*) numbered `n`, with its modulus-11 check digit. */
export function documentKey(n: number): string {
  const body = `352611${"11222333000181"}55001${String(n).padStart(9, "0")}1${"12345678"}`;
  return body + String(modulus11(body));
}

/** 503 for `share` of attempts, 200 otherwise, decided by webhook-id and attempt number alone (reproducible). */
export function failingShare(share: number): Behaviour {
  return (webhook, response, count) => answer(fails(webhook, share) ? 503 : 200, "ok")(webhook, response, count);
}
const failureShares = new WeakMap<ReceivedWebhook, boolean>();
function fails(webhook: ReceivedWebhook, share: number): boolean {
  const digest = createHash("sha256").update(`${String(webhook.headers["webhook-id"])}:${String(webhook.headers["x-webhook-attempt"])}`).digest();
  const failed = digest.readUInt32BE(0) / 2 ** 32 < share;
  failureShares.set(webhook, failed);
  return failed;
}
const succeeded = (webhook: ReceivedWebhook) => failureShares.get(webhook) === false;
const idOf = (webhook: ReceivedWebhook) => String(webhook.headers["webhook-id"]);
const distinctSuccesses = (received: readonly ReceivedWebhook[]) => new Set(received.filter(succeeded).map(idOf));

/**
 * From the receiver's arrival order: for each document, every attempt of its event i+1 that
 * arrived before event i was done (its successful delivery; its last attempt if it never
 * succeeded; never, if it never arrived).
 */
export function outOfOrder(received: readonly ReceivedWebhook[]): { outOfOrder: number; documentsOutOfOrder: number } {
  const byDocument = new Map<string, { sequence: number; ok: boolean; at: number }[]>();
  received.forEach((webhook, at) => {
    const body = JSON.parse(webhook.body) as { documentKey?: string; sequence?: number; id: string };
    const [, document, sequence] = /^ord-(\d+)-(\d+)$/.exec(body.id) ?? [];
    if (document === undefined) return;
    byDocument.set(document, [...(byDocument.get(document) ?? []), { sequence: Number(sequence), ok: succeeded(webhook), at }]);
  });
  let violations = 0;
  let documents = 0;
  for (const arrivals of byDocument.values()) {
    const doneAt = new Map<number, number>();
    for (const sequence of new Set(arrivals.map((a) => a.sequence))) {
      const mine = arrivals.filter((a) => a.sequence === sequence);
      doneAt.set(sequence, mine.find((a) => a.ok)?.at ?? mine.at(-1)!.at);
    }
    const late = arrivals.filter((a) => a.sequence > 1 && a.at < (doneAt.get(a.sequence - 1) ?? Number.POSITIVE_INFINITY)).length;
    violations += late;
    if (late > 0) documents++;
  }
  return { outOfOrder: violations, documentsOutOfOrder: documents };
}

/** Every dead letter of the tenant, through the API (the index is written moments after the letter; waits for `expected` up to 10 s). */
async function dlqCount(call: ApiCall, expected: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    let count = 0;
    let cursor: string | null = null;
    do {
      const response = await call("GET", `/webhooks/dlq?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      if (response.status !== 200) throw new Error(`GET /webhooks/dlq: HTTP ${response.status} ${await response.text()}`);
      count += ((await response.json()) as unknown[]).length;
      cursor = response.headers.get("x-next-cursor");
    } while (cursor);
    if (count >= expected || Date.now() > deadline) return count;
    await sleep(500);
  }
}

/** SQS and DynamoDB as the requests came, Lambda per invocation at max(assumed, measured mean) ms and the template's memory. */
function priceOf(phase: Phase, functions: readonly { logicalId: string; memorySize: number }[], assumedMs: number): PathCost {
  const lambda: LambdaLine[] = [...phase.invocations].flatMap(([functionId, durations]) => {
    const mean = durations.reduce((sum, d) => sum + d, 0) / durations.length;
    const billedMs = Math.ceil(Math.max(assumedMs, mean));
    const memory = functions.find((f) => f.logicalId === functionId)?.memorySize ?? 128;
    const gbSeconds = durations.length * (billedMs / 1000) * (memory / 1024);
    const name = functionId.replace(/[0-9A-F]{8}$/, "");
    return [
      { service: "Lambda" as const, component: `${name} invocations`, calls: durations.length, units: durations.length, unit: "requests" as const, dollars: durations.length * PRICES.lambdaPerRequest },
      { service: "Lambda" as const, component: `${name} duration (${memory} MB)`, calls: 0, units: gbSeconds, unit: "GB-s" as const, billedMs, dollars: gbSeconds * PRICES.lambdaArmPerGbSecond },
    ];
  });
  const lines = [...phase.tally.result(), ...lambda];
  const byService = { SQS: 0, DynamoDB: 0, Lambda: 0 };
  for (const line of lines) byService[line.service] += line.dollars;
  return { lines, total: lines.reduce((sum, line) => sum + line.dollars, 0), byService, emptyReceives: phase.tally.emptyReceives, unbilledErrors: phase.tally.unbilledErrors };
}
