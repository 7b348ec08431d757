import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { ENV, OUTPUTS, TABLE_KEYS } from "../lambdas/contract/resources.ts";
import { DeliveryLogStore } from "../lambdas/data/deliveries.ts";
import { documentEventItem } from "../lambdas/data/document-history.ts";
import { keys } from "../lambdas/data/keys.ts";
import type { DocumentDelivery } from "../lambdas/domain/document-history.ts";
import { queueDepth } from "../lib/local-aws/sqs/queue-depth.ts";
import { DEFAULT_MAXIMUM_CONCURRENCY } from "../lib/local-aws/sqs/sqs-poller.ts";
import { verifyBoth, type HttpsReceiver, type ReceiverFactory } from "../lib/dev/https-receiver.ts";
import type { EphemeralProduct } from "../lib/dev/ephemeral-product.ts";
import { dynamoItemBytes, type PayloadSizes } from "./cost-model.ts";
import { startCpuBreakdown, type CpuBreakdown } from "./cpu-breakdown.ts";
import { RequestTally, type RequestLine } from "./request-cost.ts";
import { mean, percentile, recordInvocations, sampleRss, watchLoad, type InvocationLog, type LoadSummary } from "./instrument.ts";
import { memoryBreakdown, type MemoryBreakdown } from "./memory.ts";
import { BENCH_EVENT_TYPE, fiscalData, startBenchProduct } from "./workload.ts";

const PORTAL = "/portal/api/ext/webhook";

export interface PipelineOptions {
  readonly receivers: ReceiverFactory;
  readonly receiver: HttpsReceiver;
  readonly deliveries: number;
  readonly subscriptions: number;
  readonly retrySchedule: readonly number[];
  readonly maxWarmupRounds: number;
  readonly timeLimitMs: number;
  readonly signatureSampleEvery: number;
  /** After the measured run, a second one of the same size with the CPU breakdown on. */
  readonly cpuBreakdown?: boolean;
}

export interface FunctionStats {
  readonly invocations: number;
  readonly meanRecords: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** Sum of invocation time over (window × the event source's concurrency): 1 means always saturated. */
  readonly busyShare: number;
  readonly maxConcurrent: number;
  /** Last invocation's end, ms after the first event was sent. */
  readonly lastEndMs: number;
}

/**
 * The SQS and DynamoDB requests one measured phase made (the functions', their event sources'
 * and the producer's SendMessageBatch calls; not the bench's own probes), and how often the
 * functions' warm caches had to read.
 */
export interface ObservedCost {
  readonly label: string;
  readonly fanOut: number;
  readonly deliveries: number;
  /** Priced lines for the whole phase (divide by `deliveries` for a per-delivery figure). */
  readonly lines: readonly RequestLine[];
  readonly emptyReceives: number;
  readonly unbilledErrors: number;
  readonly invocations: { readonly dispatch: number; readonly deliver: number };
  readonly meanMs: { readonly dispatch: number; readonly deliver: number };
  /**
   * DynamoDB reads made over those a function keeping nothing across batches would make
   * (per distinct tenant in each batch: dispatch 3, its tenant, subscriptions to the type and
   * config; deliver 1, the secret): the caches' miss rate.
   */
  readonly missRate: { readonly dispatch: number; readonly deliver: number };
}

export interface PipelineResult {
  readonly startupSeconds: number;
  readonly warmup: {
    readonly rounds: number;
    readonly deliveries: number;
    readonly seconds: number;
    /** Concurrent execution environments each function reached during warm-up. */
    readonly concurrency: { readonly dispatch: number; readonly deliver: number };
  };
  readonly delivered: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly complete: boolean;
  readonly injectMs: number;
  readonly firstDeliveryMs: number;
  readonly signatures: { readonly checked: number; readonly valid: number };
  readonly distinctWebhookIds: number;
  readonly retriedAttempts: number;
  readonly extraAfterDone: number;
  readonly eventSourceConcurrency: number;
  readonly dispatch: FunctionStats;
  readonly deliver: FunctionStats;
  readonly queueDepthMax: { readonly events: number; readonly deliveries: number };
  readonly probeMs: { readonly sqsP50: number; readonly dynamoP50: number; readonly sqsMax: number; readonly dynamoMax: number };
  readonly load: LoadSummary;
  /** Whole process (the functions' worker threads and the emulators included). */
  readonly rss: {
    readonly beforeStart: number;
    readonly afterStartup: number;
    /** After the tenant, its subscriptions and secret were made through the API. */
    readonly afterSetup: number;
    readonly afterWarmup: number;
    /** Peak during the measured window. */
    readonly measuredPeak: number;
    /** Peak from start-up to the end of the checks after the measured window. */
    readonly peak: number;
  };
  /** Where the memory was after warm-up and at the end of the measured window. */
  readonly breakdown: { readonly afterWarmup: MemoryBreakdown; readonly measured: MemoryBreakdown };
  readonly sizes: PayloadSizes;
  readonly memoryMb: { readonly dispatch: number; readonly deliver: number };
  readonly runtimeErrors: readonly string[];
  /**
   * The requests counted in the measured run (one tenant, fan-out `subscriptions`) and in a
   * second, conservative one at fan-out 1 (ten tenants, one event of each in every SendMessageBatch).
   */
  readonly observed: readonly ObservedCost[];
  /** The profiled second run, when asked for: its CPU breakdown and its own (profiler-slowed) rate. */
  readonly profiled?: { readonly cpu: CpuBreakdown; readonly perSecond: number; readonly complete: boolean };
}

/**
 * Answers every webhook 200 and resolves each mark's promise with performance.now() when the
 * receiver's total count reaches it, or with undefined at the deadline.
 */
function arrivals(receiver: HttpsReceiver, marks: readonly number[], timeoutMs: number): Promise<number | undefined>[] {
  const pending = marks.map((mark) => {
    let settle: (at: number | undefined) => void = () => undefined;
    const promise = new Promise<number | undefined>((resolve) => (settle = resolve));
    return { mark, settle, promise };
  });
  const timer = setTimeout(() => {
    for (const p of pending) p.settle(undefined);
  }, timeoutMs);
  const check = (count: number) => {
    const at = performance.now();
    for (const p of pending) if (count >= p.mark) p.settle(at);
    if (pending.every((p) => count >= p.mark)) clearTimeout(timer);
  };
  receiver.behave((_webhook, response, count) => {
    response.writeHead(200);
    response.end("OK");
    check(count);
  });
  check(receiver.received.length);
  return pending.map((p) => p.promise);
}

async function quiesce(invocations: InvocationLog, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  // The last deliver batch writes its logs and the poller deletes its messages after the POSTs.
  while (invocations.inFlight() > 0 && performance.now() < deadline) await sleep(20);
  await sleep(200);
}

function statsOf(
  all: readonly { functionId: string; startedAt: number; endedAt: number; records: number }[],
  functionId: string,
  from: number,
  to: number,
  concurrency: number,
  maxConcurrent: number,
): FunctionStats {
  const mine = all.filter((i) => i.functionId === functionId && i.startedAt >= from && i.startedAt <= to);
  const durations = mine.map((i) => i.endedAt - i.startedAt);
  const busy = mine.reduce((sum, i) => sum + Math.max(0, Math.min(i.endedAt, to) - i.startedAt), 0);
  return {
    invocations: mine.length,
    meanRecords: mean(mine.map((i) => i.records)),
    meanMs: mean(durations),
    p50Ms: percentile(durations, 50),
    p95Ms: percentile(durations, 95),
    busyShare: busy / ((to - from) * concurrency),
    maxConcurrent,
    lastEndMs: Math.max(0, ...mine.map((i) => i.endedAt - from)),
  };
}

/**
 * The product on the local runtime, in memory: one tenant with `subscriptions` Portal
 * subscriptions to one event type, all on the same receiver (distinct query strings);
 * events go in through SendMessageBatch, 10 per call, so that `deliveries` webhooks arrive.
 */
export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const { receiver } = options;
  if (options.deliveries % options.subscriptions !== 0) throw new Error("deliveries must be a multiple of subscriptions");
  const rss = sampleRss();
  const beforeStart = process.memoryUsage.rss();
  const runtimeErrors: string[] = [];
  const startup = performance.now();
  let env: EphemeralProduct | undefined;
  let stopRecording: (() => void) | undefined;
  let stopCounting: (() => void) | undefined;
  try {
    env = await startBenchProduct(options.receivers, options.retrySchedule, runtimeErrors);
    const { product } = env;
    const invocations = recordInvocations(product.runtime);
    stopRecording = invocations.stop;
    const startupSeconds = (performance.now() - startup) / 1000;
    const afterStartup = process.memoryUsage.rss();
    const sqs = product.runtime.sqs;
    const documents = DynamoDBDocumentClient.from(product.runtime.dynamodb);
    const tableName = String(product.outputs[OUTPUTS.tableName]);
    const eventsQueueUrl = String(product.outputs[OUTPUTS.eventsQueueUrl]);
    // Dispatch is what the events queue feeds; deliver is what the queue dispatch sends to feeds.
    const dispatchSource = product.runtime.eventSources.find((s) => s.queueUrl === eventsQueueUrl);
    const deliveriesQueueUrl = product.runtime.functions.find((f) => f.logicalId === dispatchSource?.functionId)?.environment[
      ENV.deliveriesQueueUrl
    ];
    const deliverySource = product.runtime.eventSources.find((s) => s.queueUrl === deliveriesQueueUrl);
    if (!deliverySource || !dispatchSource) throw new Error("no event sources on the events and deliveries queues");
    const ids = { dispatch: dispatchSource.functionId, deliver: deliverySource.functionId };
    const eventSourceConcurrency = Math.min(
      deliverySource.maximumConcurrency ?? DEFAULT_MAXIMUM_CONCURRENCY,
      dispatchSource.maximumConcurrency ?? DEFAULT_MAXIMUM_CONCURRENCY,
    );
    const memoryOf = (functionId: string) => product.runtime.functions.find((f) => f.logicalId === functionId)?.memorySize ?? Number.NaN;

    const counting = countRequests(product.runtime, ids);
    stopCounting = counting.stop;

    const tenant = await env.newTenant("bench");
    for (let i = 0; i < options.subscriptions; i++) {
      const created = await tenant.call("POST", PORTAL, { evento: BENCH_EVENT_TYPE, endpoint: `${receiver.url}?subscriber=${i}` });
      if (created.status !== 201) throw new Error(`subscription ${i}: HTTP ${created.status} ${await created.text()}`);
    }
    const regenerated = await tenant.call("POST", "/webhooks/secret/regenerate");
    if (!regenerated.ok) throw new Error(`secret: HTTP ${regenerated.status}`);
    const { webhookSecret: secret } = (await regenerated.json()) as { webhookSecret: string };

    const afterSetup = process.memoryUsage.rss();
    const runTag = randomBytes(4).toString("hex");
    let eventCounter = 0;
    const eventBodies: string[] = [];
    const sendEvents = async (count: number, concurrent: boolean) => {
      const calls: (() => Promise<void>)[] = [];
      for (let start = 0; start < count; start += 10) {
        const entries = Array.from({ length: Math.min(10, count - start) }, (_, i) => {
          const index = eventCounter++;
          const body = JSON.stringify({ tenantId: tenant.tenantId, type: BENCH_EVENT_TYPE, id: `bench-${runTag}-${index}`, data: fiscalData(index) });
          eventBodies.push(body);
          return { Id: String(i), MessageBody: body };
        });
        calls.push(async () => {
          const { Failed = [] } = await sqs.send(new SendMessageBatchCommand({ QueueUrl: eventsQueueUrl, Entries: entries }));
          if (Failed.length > 0) throw new Error(`SendMessageBatch refused ${Failed.length} entries`);
        });
      }
      if (concurrent) await Promise.all(calls.map((call) => call()));
      else for (const call of calls) await call();
    };

    // Warm-up: two events batches at once, so that both functions run as many concurrent
    // execution environments as the event source allows; their cold starts stay out of the timing.
    const warmupStarted = performance.now();
    let rounds = 0;
    let warmupDeliveries = 0;
    invocations.resetPeaks();
    const peak = (functionId: string) => invocations.maxConcurrent.get(functionId) ?? 0;
    const warmed = () => peak(ids.dispatch) >= eventSourceConcurrency && peak(ids.deliver) >= eventSourceConcurrency;
    while (rounds < options.maxWarmupRounds && (rounds === 0 || !warmed())) {
      rounds++;
      const events = 10 * eventSourceConcurrency;
      const target = receiver.received.length + events * options.subscriptions;
      const [reached] = arrivals(receiver, [target], 30_000);
      await sendEvents(events, true);
      if ((await reached!) === undefined) throw new Error(`warm-up round ${rounds}: deliveries did not arrive within 30 s`);
      warmupDeliveries += events * options.subscriptions;
      await quiesce(invocations, 10_000);
    }
    const warmupSeconds = (performance.now() - warmupStarted) / 1000;
    const warmupConcurrency = { dispatch: peak(ids.dispatch), deliver: peak(ids.deliver) };
    const afterWarmup = process.memoryUsage.rss();
    const warmBreakdown = await memoryBreakdown(product.runtime);

    // The measured run.
    const baseline = receiver.received.length;
    const target = baseline + options.deliveries;
    const events = options.deliveries / options.subscriptions;
    invocations.resetPeaks();
    const load = watchLoad();
    const measuredRss = sampleRss();
    const probes = { sqs: [] as number[], dynamo: [] as number[], events: 0, deliveries: 0 };
    let probing = true;
    const probeLoop = (async () => {
      const depth = (queueUrl: string) => queueDepth(sqs, queueUrl);
      while (probing) {
        try {
          let at = performance.now();
          const eventsDepth = await depth(eventsQueueUrl);
          probes.sqs.push(performance.now() - at);
          const deliveriesDepth = await depth(deliverySource.queueUrl);
          probes.events = Math.max(probes.events, eventsDepth);
          probes.deliveries = Math.max(probes.deliveries, deliveriesDepth);
          at = performance.now();
          await documents.send(new GetCommand({ TableName: tableName, Key: keys.tenant(tenant.tenantId), ConsistentRead: true }));
          probes.dynamo.push(performance.now() - at);
        } catch {
          // A probe is only a probe.
        }
        await sleep(250);
      }
    })();

    const [firstReached, doneReached] = arrivals(receiver, [baseline + 1, target], options.timeLimitMs);
    counting.start(`1 tenant, fan-out ${options.subscriptions}`, options.subscriptions);
    const started = performance.now();
    await sendEvents(events, false);
    const injectMs = performance.now() - started;
    const doneAt = await doneReached!;
    const firstAt = await firstReached!;
    const ended = doneAt ?? performance.now();
    const loadSummary = load.stop();
    const measuredPeak = measuredRss.stop();
    probing = false;
    await probeLoop;
    const measuredBreakdown = await memoryBreakdown(product.runtime);

    const delivered = Math.min(options.deliveries, receiver.received.length - baseline);
    const seconds = (ended - started) / 1000;
    await quiesce(invocations, 10_000);
    await sleep(300);
    const extraAfterDone = Math.max(0, receiver.received.length - target);
    const observed = [await counting.finish(delivered, product.runtime.dynamodb)];
    const measured = receiver.received.slice(baseline, target);

    let checked = 0;
    let valid = 0;
    for (let i = 0; i < measured.length; i += options.signatureSampleEvery) {
      const { snippet, standard } = verifyBoth(measured[i]!, secret);
      checked++;
      if (snippet && standard) valid++;
    }
    const distinctWebhookIds = new Set(measured.map((w) => String(w.headers["webhook-id"]))).size;
    const retriedAttempts = measured.filter((w) => w.headers["x-webhook-attempt"] !== "1").length;

    // The conservative case at fan-out 1, counted: ten tenants with one subscription each, every
    // SendMessageBatch carrying one event of each, producer ids sent. Set up one after another:
    // ten at once would start more execution environments of the API's functions than the
    // measured phases ever use, and the bench's peak RSS would be the set-up's, not the load's.
    const spread: string[] = [];
    for (let i = 0; i < 10; i++) {
      const each = await env!.newTenant(`bench-spread-${i}`);
      const created = await each.call("POST", PORTAL, { evento: BENCH_EVENT_TYPE, endpoint: `${receiver.url}?tenant=${i}` });
      if (created.status !== 201) throw new Error(`spread tenant ${i}: HTTP ${created.status}`);
      spread.push(each.tenantId);
    }
    {
      const [reached] = arrivals(receiver, [receiver.received.length + options.deliveries], options.timeLimitMs);
      counting.start("10 tenants per batch, fan-out 1", 1);
      for (let start = 0; start < options.deliveries; start += 10) {
        const entries = spread.map((tenantId, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify({ tenantId, type: BENCH_EVENT_TYPE, id: `bench-${runTag}-spread-${start + i}`, data: fiscalData(start + i) }),
        }));
        const { Failed = [] } = await sqs.send(new SendMessageBatchCommand({ QueueUrl: eventsQueueUrl, Entries: entries }));
        if (Failed.length > 0) throw new Error(`SendMessageBatch refused ${Failed.length} entries`);
      }
      const at = await reached!;
      await quiesce(invocations, 10_000);
      observed.push(await counting.finish(at === undefined ? Number.NaN : options.deliveries, product.runtime.dynamodb));
    }

    // The CPU breakdown in a pass of its own: its profiler would slow the measured run.
    let profiled: PipelineResult["profiled"];
    if (options.cpuBreakdown) {
      const breakdown = await startCpuBreakdown(product.runtime);
      const [reached] = arrivals(receiver, [receiver.received.length + options.deliveries], options.timeLimitMs);
      const from = performance.now();
      await sendEvents(events, false);
      const at = await reached!;
      const cpu = await breakdown.stop();
      profiled = { cpu, perSecond: at === undefined ? Number.NaN : options.deliveries / ((at - from) / 1000), complete: at !== undefined };
      await quiesce(invocations, 10_000);
    }

    // Sizes of what the pipeline actually stored and queued, for the cost model.
    const get = async (key: Record<string, string>) =>
      (await documents.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
    const subscriptionItems =
      (
        await documents.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: TABLE_KEYS.gsi1.indexName,
            KeyConditionExpression: "gsi1pk = :pk",
            ExpressionAttributeValues: { ":pk": keys.subscriptionsForEvent(tenant.tenantId, BENCH_EVENT_TYPE) },
          }),
        )
      ).Items ?? [];
    const latest = (await new DeliveryLogStore(documents, tableName).list(tenant.tenantId, 1)).entries[0];
    const logItem = latest && (await get(keys.deliveryLog(tenant.tenantId, latest.createdAt, latest.deliveryId)));
    const sizeOf = (item: Record<string, unknown> | undefined) => (item ? dynamoItemBytes(item) : 0);
    const sample = measured[0] ?? receiver.received[receiver.received.length - 1];
    const deliveryMessage = JSON.stringify({
      deliveryId: String(sample?.headers["webhook-id"] ?? "00000000-0000-8000-8000-000000000000"),
      tenantId: tenant.tenantId,
      eventId: `bench-${runTag}-${eventCounter - 1}`,
      eventType: BENCH_EVENT_TYPE,
      url: `${receiver.url}?subscriber=${options.subscriptions - 1}`,
      body: sample?.body ?? "",
      createdAt: new Date().toISOString(),
      attemptsBefore: 0,
    });
    // The bench's events carry no documentKey; a history item is sized as the store builds it,
    // for one of its events and its deliveries (an NF-e access key, a CC-e's sequence).
    const now = new Date();
    const filed = (deliveries: DocumentDelivery[]) =>
      dynamoItemBytes(
        documentEventItem(
          {
            tenantId: tenant.tenantId,
            documentKey: "35261112345678000195550010000000011000000017",
            eventId: `bench-${runTag}-${eventCounter - 1}`,
            type: BENCH_EVENT_TYPE,
            sequence: 1,
            createdAt: now.toISOString(),
            acceptedAt: now.toISOString(),
            deliveries,
          },
          now,
        ),
      );
    const documentDelivery = {
      deliveryId: String(sample?.headers["webhook-id"] ?? "00000000-0000-8000-8000-000000000000"),
      url: `${receiver.url}?subscriber=${options.subscriptions - 1}`,
      createdAt: now.toISOString(),
    };
    const sizes: PayloadSizes = {
      eventMessage: Math.ceil(mean(eventBodies.map((b) => Buffer.byteLength(b)))),
      deliveryMessage: Buffer.byteLength(deliveryMessage),
      tenantItem: sizeOf(await get(keys.tenant(tenant.tenantId))),
      configItem: sizeOf(await get(keys.webhookConfig(tenant.tenantId))),
      secretItem: sizeOf(await get(keys.signingSecret(tenant.tenantId))),
      subscriptionItem: Math.ceil(mean(subscriptionItems.map((item) => dynamoItemBytes(item)))),
      logItem: sizeOf(logItem),
      dispatchedMarkerItem: sizeOf(await get(keys.dispatchedEvent(tenant.tenantId, `bench-${runTag}-0`))),
      documentEventItem: filed([]),
      documentDeliveryEntry: filed([documentDelivery]) - filed([]),
    };

    return {
      startupSeconds,
      warmup: { rounds, deliveries: warmupDeliveries, seconds: warmupSeconds, concurrency: warmupConcurrency },
      delivered,
      seconds,
      perSecond: delivered / seconds,
      complete: doneAt !== undefined,
      injectMs,
      firstDeliveryMs: firstAt === undefined ? Number.NaN : firstAt - started,
      signatures: { checked, valid },
      distinctWebhookIds,
      retriedAttempts,
      extraAfterDone,
      eventSourceConcurrency,
      dispatch: statsOf(invocations.invocations, ids.dispatch, started, ended, eventSourceConcurrency, peak(ids.dispatch)),
      deliver: statsOf(invocations.invocations, ids.deliver, started, ended, eventSourceConcurrency, peak(ids.deliver)),
      queueDepthMax: { events: probes.events, deliveries: probes.deliveries },
      probeMs: {
        sqsP50: percentile(probes.sqs, 50),
        sqsMax: Math.max(0, ...probes.sqs),
        dynamoP50: percentile(probes.dynamo, 50),
        dynamoMax: Math.max(0, ...probes.dynamo),
      },
      load: loadSummary,
      rss: { beforeStart, afterStartup, afterSetup, afterWarmup, measuredPeak, peak: Math.max(rss.peak(), measuredPeak) },
      breakdown: { afterWarmup: warmBreakdown, measured: measuredBreakdown },
      sizes,
      memoryMb: { dispatch: memoryOf(ids.dispatch), deliver: memoryOf(ids.deliver) },
      runtimeErrors,
      observed,
      ...(profiled ? { profiled } : {}),
    };
  } finally {
    stopCounting?.();
    stopRecording?.();
    await env?.stop();
    rss.stop();
  }
}

const READS = new Set(["GetItem", "Query", "BatchGetItem", "Scan"]);

/** Counts requests and batches in phases: `start` one, `finish` it once its deliveries are done. */
function countRequests(runtime: EphemeralProduct["product"]["runtime"], ids: { readonly dispatch: string; readonly deliver: string }) {
  interface Phase {
    readonly label: string;
    readonly fanOut: number;
    readonly tally: RequestTally;
    readonly reads: Record<"dispatch" | "deliver", number>;
    /** Reads a function keeping nothing across batches would make. */
    readonly uncached: Record<"dispatch" | "deliver", number>;
    readonly durations: Record<"dispatch" | "deliver", number[]>;
  }
  let phase: Phase | undefined;
  const role = (functionId: string | undefined) => (functionId === ids.dispatch ? "dispatch" : functionId === ids.deliver ? "deliver" : undefined);
  const stopRequests = runtime.observeRequests((call) => {
    // The functions' calls and their event sources', and the producer's sends (the bench's
    // only SendMessageBatch); not the bench's probes.
    if (!phase || (call.functionId === undefined && call.operation !== "SendMessageBatch")) return;
    phase.tally.add(call);
    const fn = role(call.functionId);
    if (fn && call.service === "dynamodb" && READS.has(call.operation ?? "") && call.status === 200) phase.reads[fn]++;
  });
  const stopInvocations = runtime.observeInvocations({
    finished: (functionId, event, _outcome, durationMs) => {
      const fn = role(functionId);
      if (!phase || !fn) return;
      const records = ((event as { Records?: { body: string }[] } | null)?.Records ?? []).map((record) => record.body);
      const tenants = new Set(records.map((body) => (JSON.parse(body) as { tenantId?: string }).tenantId)).size;
      phase.uncached[fn] += (fn === "dispatch" ? 3 : 1) * tenants;
      phase.durations[fn].push(durationMs);
    },
  });
  return {
    start(label: string, fanOut: number) {
      phase = { label, fanOut, tally: new RequestTally(), reads: { dispatch: 0, deliver: 0 }, uncached: { dispatch: 0, deliver: 0 }, durations: { dispatch: [], deliver: [] } };
    },
    async finish(deliveries: number, dynamodb: EphemeralProduct["product"]["runtime"]["dynamodb"]): Promise<ObservedCost> {
      const done = phase!;
      phase = undefined;
      await done.tally.sizeLater(dynamodb);
      return {
        label: done.label,
        fanOut: done.fanOut,
        deliveries,
        lines: done.tally.result(),
        emptyReceives: done.tally.emptyReceives,
        unbilledErrors: done.tally.unbilledErrors,
        invocations: { dispatch: done.durations.dispatch.length, deliver: done.durations.deliver.length },
        meanMs: { dispatch: mean(done.durations.dispatch), deliver: mean(done.durations.deliver) },
        missRate: { dispatch: done.reads.dispatch / Math.max(1, done.uncached.dispatch), deliver: done.reads.deliver / Math.max(1, done.uncached.deliver) },
      };
    },
    stop() {
      stopRequests();
      stopInvocations();
    },
  };
}
