/**
 * `npm run bench`: throughput of the local pipeline against the strongest sign-and-POST
 * baseline (receiver in its own process, tuned in-flight count) with a per-component CPU
 * breakdown, the AWS list-price cost per million deliveries derived from the code's requests, a
 * burst to an endpoint with a rate limit, ordered delivery per fiscal document against the
 * unordered path, inject → receive latency, one tenant's hottest partition keys, a fan-out to
 * 1,000 endpoints, retry-all of 10,000 dead letters, and the functions' bundle sizes and cold imports.
 * `npm run bench -- --only <scenario>` runs one. A report, not a test: it exits 0 whatever the verdicts,
 * non-zero only if something broke.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { receiverFactory, type HttpsReceiver } from "../lib/dev/https-receiver.ts";
import { describeBaseline, runBaseline } from "./baseline.ts";
import { documentHistoryLines, estimateCostPerMillionDeliveries, PRICES, rateLimitLines, type CostEstimate, type CostScenario } from "./cost-model.ts";
import { count, dollars, fixed, int, markdownTable, mb, table, verdict } from "./format.ts";
import { describeCpuBreakdown } from "./cpu-breakdown.ts";
import { footprintScenario } from "./footprint.ts";
import { sampleRss } from "./instrument.ts";
import { describeBreakdown, measureIdleProduct } from "./memory.ts";
import { describeLatency, runLatency } from "./latency.ts";
import { runPipeline, type ObservedCost } from "./pipeline.ts";
import { runOrdered } from "./ordered.ts";
import { runFanOut } from "./fan-out.ts";
import { runRetryAll } from "./retry-all.ts";
import { simulateKeyDistribution } from "./key-distribution.ts";
import { runRateLimited } from "./rate-limit.ts";

function bounded(name: string, fallback: number, min: number, max: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer in ${min}..${max}`);
  return value;
}

const SCENARIOS = ["footprint", "idle", "throughput", "rate", "ordered", "latency", "keys", "fanout", "retryall"] as const;
type Scenario = (typeof SCENARIOS)[number];

function selectedScenarios(args: readonly string[]): readonly Scenario[] {
  const at = args.indexOf("--only");
  if (at === -1) return SCENARIOS;
  const name = args[at + 1];
  if (!SCENARIOS.includes(name as Scenario)) throw new RangeError(`--only takes one of ${SCENARIOS.join(", ")}`);
  return [name as Scenario];
}
const scenarios = selectedScenarios(process.argv.slice(2));

const CONFIG = {
  deliveries: bounded("BENCH_DELIVERIES", 2000, 100, 20_000),
  subscriptions: bounded("BENCH_SUBSCRIPTIONS", 10, 1, 50),
  /** The baseline: a sign-and-POST loop to a receiver in its own process, each sender variant at each in-flight count. */
  baseline: { deliveries: bounded("BENCH_BASELINE_DELIVERIES", 3000, 100, 50_000), warmup: 200, inFlight: [8, 16, 32, 64] },
  retrySchedule: [0, 1, 1],
  maxWarmupRounds: 3,
  signatureSampleEvery: 50,
  /** Each measured phase stops there and reports what it got. */
  phaseTimeLimitMs: 45_000,
  /** The whole run is killed (exit 1) past this. */
  watchdogMs: 400_000,
  targets: { pipelineOverBare: 0.3, dollarsPerMillion: 1, dollarsPerMillionFanOut10: 0.7 },
  /** The local runtime's memory: RSS of a product on its own after start, and peak RSS of the bench's process under the pipeline. */
  memory: { idleRssMb: 500, benchPeakRssMb: 800, environmentIdleSeconds: 5 },
  /** The brief's conservative Lambda duration per full batch; the model uses the larger of it and the measured mean. */
  assumedMsPerBatch: 150,
  /** One event to this many endpoints (the subscription cap's default). */
  fanOut: { endpoints: bounded("BENCH_FAN_OUT", 1000, 10, 1000), timeLimitMs: 120_000 },
  /** One tenant's dead letters, seeded through the store, retried with one `POST /webhooks/dlq/retry-all`. */
  retryAll: { deadLetters: bounded("BENCH_DEAD_LETTERS", 10_000, 100, 50_000), seedConcurrency: 32, warmupLetters: 200, timeLimitMs: 600_000, flatRssGrowthMb: 150 },
  /** One tenant's writes by partition key over a simulated day (the per-key ceiling is DynamoDB's). */
  keyDistribution: { deliveriesPerSecond: 10_000, fanOut: 1, failingShare: 0.05, documentShare: 0.5, sampledSeconds: 48, perKeyLimit: 1000 },
  /** A burst of this many events to one endpoint limited to `limit` deliveries a second. */
  rateLimit: { events: bounded("BENCH_RATE_EVENTS", 500, 50, 5000), limit: 10, batch: 10, timeLimitMs: 150_000 },
  /** Documents of 5 events each to the ordered queue, as many events without a documentKey to the standard one; receivers fail 30 % of attempts. */
  ordered: {
    documents: bounded("BENCH_ORDERED_DOCUMENTS", 1000, 10, 5000),
    eventsPerDocument: 5,
    failureShare: 0.3,
    retrySchedule: [0, 1, 1, 1, 1, 1, 1, 1],
    timeLimitMs: 300_000,
  },
  /** A burst of events at fan-out 1 and lone events one at a time: inject → receive latency. */
  latency: { burst: bounded("BENCH_BURST_EVENTS", 3000, 100, 20_000), lone: 20, warmupEvents: 200, timeLimitMs: 120_000 },
} as const;

// The ordered scenario's two phases may each take up to their time limit.
const watchdogMs =
  CONFIG.watchdogMs + (scenarios.includes("ordered") ? 2 * CONFIG.ordered.timeLimitMs : 0) + (scenarios.includes("latency") ? 2 * CONFIG.latency.timeLimitMs : 0) +
  // Subscribing 1,000 endpoints through the API takes about as long as delivering to them may.
  (scenarios.includes("fanout") ? 2 * CONFIG.fanOut.timeLimitMs : 0) +
  // Seeding the letters may take about as long as retrying them may.
  (scenarios.includes("retryall") ? 2 * CONFIG.retryAll.timeLimitMs : 0);
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${watchdogMs / 1000} s, giving up`);
  process.exit(1);
}, watchdogMs);
watchdog.unref();

async function main(): Promise<void> {
  const wall = performance.now();
  const cores = availableParallelism();
  console.log(
    `Fiscal Webhooks bench: node ${process.version}, ${cores} cores; scenarios: ${scenarios.join(", ")}; ` +
      `${int(CONFIG.deliveries)} deliveries per phase, pipeline fan-out ${CONFIG.subscriptions}`,
  );
  const dir = mkdtempSync(path.join(tmpdir(), "fw-bench-"));
  const processRss = sampleRss();
  let receiver: HttpsReceiver | undefined;
  try {
    // First, while nothing else runs: cold imports are timed in fresh processes.
    const footprintRows = [
      ...(scenarios.includes("footprint") ? await footprintScenario() : []),
      ...(scenarios.includes("idle") ? await idleScenario() : []),
    ];
    const receivers = await receiverFactory(dir);
    if (!scenarios.includes("throughput")) {
      const rows = [
        ...footprintRows,
        ...(scenarios.includes("keys") ? keyDistributionScenario() : []),
        ...(scenarios.includes("fanout") ? await fanOutScenario(receivers) : []),
        ...(scenarios.includes("retryall") ? await retryAllScenario(receivers) : []),
        ...(scenarios.includes("rate") ? await rateLimitScenario(receivers) : []),
        ...(scenarios.includes("ordered") ? await orderedScenario(receivers) : []),
        ...(scenarios.includes("latency") ? await latencyScenario(receivers) : []),
      ];
      printSummary(wall, rows);
      return;
    }
    receiver = await receivers.start();

    // 1. The baseline, before the product starts, so nothing else competes for the cores.
    const baseline = await runBaseline({ certificate: receivers.certificate, caFile: receivers.caFile, ...CONFIG.baseline, timeLimitMs: CONFIG.phaseTimeLimitMs });
    const bare = baseline.best;
    console.log(describeBaseline(baseline, CONFIG.baseline.deliveries));

    // 2. The pipeline on the local runtime.
    const pipe = await runPipeline({
      receivers,
      receiver,
      deliveries: CONFIG.deliveries,
      subscriptions: CONFIG.subscriptions,
      retrySchedule: CONFIG.retrySchedule,
      maxWarmupRounds: CONFIG.maxWarmupRounds,
      timeLimitMs: CONFIG.phaseTimeLimitMs,
      signatureSampleEvery: CONFIG.signatureSampleEvery,
      cpuBreakdown: true,
    });
    const events = CONFIG.deliveries / CONFIG.subscriptions;
    const fn = (name: string, s: typeof pipe.deliver) => [
      name,
      int(s.invocations),
      fixed(s.meanRecords),
      int(s.meanMs),
      int(s.p50Ms),
      int(s.p95Ms),
      `${s.maxConcurrent}/${pipe.eventSourceConcurrency}`,
      `${int(s.busyShare * 100)}%`,
      fixed(s.lastEndMs / 1000, 2),
    ];
    console.log(
      `\n2. Local pipeline (in memory, retrySchedule [${CONFIG.retrySchedule.join(", ")}], 1 tenant × ${CONFIG.subscriptions} subscriptions, ` +
        `${int(events)} events with producer ids in ${Math.ceil(events / 10)} SendMessageBatch calls)\n` +
        `   start-up ${fixed(pipe.startupSeconds)} s; warm-up ${pipe.warmup.rounds} round(s), ${int(pipe.warmup.deliveries)} deliveries in ` +
        `${fixed(pipe.warmup.seconds)} s (cold starts excluded; environments warmed: dispatch ${pipe.warmup.concurrency.dispatch}, ` +
        `deliver ${pipe.warmup.concurrency.deliver} of ${pipe.eventSourceConcurrency})\n` +
        `   ${int(pipe.delivered)} delivered in ${fixed(pipe.seconds, 2)} s from the first SendMessageBatch to the last webhook ` +
        `→ ${int(pipe.perSecond)} deliveries/s${pipe.complete ? "" : " (INCOMPLETE at the time limit)"}\n` +
        `   injection took ${int(pipe.injectMs)} ms; first webhook after ${int(pipe.firstDeliveryMs)} ms\n` +
        `   signatures: ${pipe.signatures.valid}/${pipe.signatures.checked} sampled (every ${CONFIG.signatureSampleEvery}th) valid both ways; ` +
        `${int(pipe.distinctWebhookIds)} distinct webhook-ids; ${pipe.retriedAttempts} retried attempts; ` +
        `${pipe.extraAfterDone} extra webhooks after the last; ${pipe.runtimeErrors.length} runtime errors\n`,
    );
    console.log(
      table(["function (measured window)", "calls", "records", "mean ms", "p50", "p95", "conc.", "busy", "done at s"], [
        fn("Dispatch", pipe.dispatch),
        fn("Deliver", pipe.deliver),
      ]),
    );
    console.log(
      `   max queue depth (visible, in flight or delayed): events ${int(pipe.queueDepthMax.events)}, deliveries ${int(pipe.queueDepthMax.deliveries)}; ` +
        `emulator probe p50/max: SQS ${fixed(pipe.probeMs.sqsP50)}/${fixed(pipe.probeMs.sqsMax)} ms, ` +
        `DynamoDB ${fixed(pipe.probeMs.dynamoP50)}/${fixed(pipe.probeMs.dynamoMax)} ms\n` +
        `   process CPU ${int(pipe.load.cpuShare * 100)}% of ${cores} cores; main event-loop delay p99 ${fixed(pipe.load.loopDelayP99Ms)} ms, ` +
        `max ${fixed(pipe.load.loopDelayMaxMs)} ms\n` +
        `   RSS (whole process, functions' worker threads included): ${mb(pipe.rss.beforeStart)} before start-up, ` +
        `${mb(pipe.rss.afterStartup)} after, ${mb(pipe.rss.afterSetup)} after tenant set-up through the API, ${mb(pipe.rss.afterWarmup)} after warm-up, peak ${mb(pipe.rss.measuredPeak)} while measured\n` +
        `${describeBreakdown("after warm-up", pipe.breakdown.afterWarmup)}\n${describeBreakdown("end of the measured window", pipe.breakdown.measured)}`,
    );
    for (const error of pipe.runtimeErrors.slice(0, 3)) console.log(`   runtime error: ${error}`);
    if (pipe.profiled) {
      const p = pipe.profiled;
      console.log(
        `\n   CPU by component: a second pass of the same ${int(CONFIG.deliveries)} deliveries with the main thread profiled ` +
          `(${int(p.perSecond)} deliveries/s${p.complete ? "" : ", INCOMPLETE"}; ${fixed(p.cpu.windowSeconds, 2)} s, process CPU ${fixed(p.cpu.processCpuSeconds, 2)} s ` +
          `= ${fixed(p.cpu.processCpuSeconds / p.cpu.windowSeconds, 2)} of ${cores} cores; main-thread lines split by ${int(p.cpu.mainSamples)} profile samples)\n`,
      );
      console.log(describeCpuBreakdown(p.cpu));
    }

    // 3. Ratio.
    const ratio = pipe.perSecond / bare.perSecond;
    const other = baseline.bestOf[bare.variant === "main thread" ? "worker thread" : "main thread"];
    // A fast pipeline only counts when what it delivered is right.
    const pipeCorrect =
      pipe.complete && pipe.signatures.valid === pipe.signatures.checked && pipe.distinctWebhookIds === pipe.delivered && bare.failed === 0;
    const ratioPass = pipeCorrect && ratio >= CONFIG.targets.pipelineOverBare;
    console.log(
      `\n3. Ratio local pipeline / best baseline (measured in this run): ${fixed(ratio, 2)} (target ≥ ${CONFIG.targets.pipelineOverBare}) ` +
        `→ ${verdict(ratioPass)}${pipeCorrect ? "" : " (incomplete or incorrect deliveries, see above)"}; against the other variant's best ${fixed(pipe.perSecond / other.perSecond, 2)}`,
    );

    // 4. Cost.
    const dispatchMs = Math.max(CONFIG.assumedMsPerBatch, Number.isFinite(pipe.dispatch.meanMs) ? pipe.dispatch.meanMs : 0);
    const deliverMs = Math.max(CONFIG.assumedMsPerBatch, Number.isFinite(pipe.deliver.meanMs) ? pipe.deliver.meanMs : 0);
    // The caches' miss rate each case is priced with, measured in the phase closest to it.
    const conservativePhase = pipe.observed.find((phase) => phase.fanOut === 1)!;
    const oneTenantPhase = pipe.observed[0]!;
    const scenario = (fanOut: number, conservative: boolean): CostScenario => ({
      cacheMissRate: (conservative ? conservativePhase : oneTenantPhase).missRate,
      fanOut,
      producerIds: conservative,
      tenantsPerEventsBatch: conservative ? 10 : 1,
      tenantsPerDeliveriesBatch: conservative ? 10 : 1,
      dispatchMsPerBatch: dispatchMs,
      deliverMsPerBatch: deliverMs,
      dispatchMemoryMb: pipe.memoryMb.dispatch,
      deliverMemoryMb: pipe.memoryMb.deliver,
      sizes: pipe.sizes,
    });
    const costs: [number, CostEstimate, CostEstimate][] = [1, 10].map((fanOut) => [
      fanOut,
      estimateCostPerMillionDeliveries(scenario(fanOut, true)),
      estimateCostPerMillionDeliveries(scenario(fanOut, false)),
    ]);
    const [, one] = costs[0]!;
    const [, ten] = costs[1]!;
    const s = pipe.sizes;
    console.log(
      `\n4. Cost per 1M deliveries at us-east-1 list price (Lambda arm64 $${PRICES.lambdaArmPerGbSecond}/GB-s + $0.20/1M requests; ` +
        `SQS $0.40/1M requests; DynamoDB on-demand $0.625/1M WRU, $0.125/1M RRU)\n` +
        `   Lambda: ${pipe.memoryMb.dispatch} MB dispatch, ${pipe.memoryMb.deliver} MB deliver (from the synthesized template), ` +
        `billed ${int(dispatchMs)} / ${int(deliverMs)} ms per batch = max(${CONFIG.assumedMsPerBatch} ms assumed, measured local mean ` +
        `${int(pipe.dispatch.meanMs)} / ${int(pipe.deliver.meanMs)} ms)\n` +
        `   sizes measured in this run (bytes): event msg ${s.eventMessage}, delivery msg ${s.deliveryMessage}, tenant ${s.tenantItem}, ` +
        `config ${s.configItem || "absent"}, secret ${s.secretItem}, subscription ${s.subscriptionItem}, log ${s.logItem}, marker ${s.dispatchedMarkerItem}\n` +
        `   conservative case: producer ids sent, full batches of 10, every record of a batch from a different tenant; ` +
        `reads × the warm caches' miss rate measured in the counted phase below (dispatch ${fixed(conservativePhase.missRate.dispatch * 100, 1)} %, ` +
        `deliver ${fixed(conservativePhase.missRate.deliver * 100, 1)} %; one tenant: ${fixed(oneTenantPhase.missRate.dispatch * 100, 1)} %, ` +
        `${fixed(oneTenantPhase.missRate.deliver * 100, 1)} %)\n`,
    );
    console.log(
      table(
        ["component", "unit", "fan-out 1", "$", "fan-out 10", "$"],
        one.lines.map((line, i) => {
          const other = ten.lines[i]!;
          return [`${line.service} ${line.component}`, line.unit, count(line.units), dollars(line.dollars), count(other.units), dollars(other.dollars)];
        }),
      ),
    );
    const totalRow = (label: string, pick: (c: [number, CostEstimate, CostEstimate]) => CostEstimate) =>
      [label, ...costs.map((c) => `$${pick(c).total.toFixed(3)} (SQS ${pick(c).byService.SQS.toFixed(2)}, λ ${pick(c).byService.Lambda.toFixed(2)}, DDB ${pick(c).byService.DynamoDB.toFixed(2)})`)];
    console.log(
      table(["total per 1M deliveries", "fan-out 1", "fan-out 10"], [
        totalRow("conservative (verdict)", (c) => c[1]),
        totalRow("1 tenant per batch, no producer id", (c) => c[2]),
      ]),
    );
    // Per million deliveries, as the table: every event with a documentKey (the table's events have none).
    const history = [1, 10].map((fanOut) => ({ fanOut, line: documentHistoryLines(1e6 / fanOut, fanOut, s)[0]! }));
    console.log(
      `   document history, every event with a documentKey: ${history
        .map(({ fanOut, line }) => `+$${line.dollars.toFixed(3)} per 1M deliveries at fan-out ${fanOut} (${fixed(line.units / (1e6 / fanOut))} WRU per event)`)
        .join(", ")}; ` +
        `item ${s.documentEventItem} bytes + ${s.documentDeliveryEntry} per delivery it names, in dispatch's one BatchWriteItem per batch; ` +
        "events without a documentKey: none (the same line, zero, in the table)",
    );
    console.log(
      "   not included: idle event-source polling (fixed, not per delivery), CloudWatch Logs of REPORT lines, data transfer out " +
        "to receivers, DynamoDB storage/PITR, retries and failure records (a success path model)",
    );
    const observed = pipe.observed.map((phase) => ({ phase, ...observedCost(phase, pipe.memoryMb) }));
    console.log(
      `\n   Counted: every SQS and DynamoDB request the functions, their event sources and the producer made in two measured phases ` +
        `(the local runtime's observeRequests hook, priced as above, items sized from the calls), per 1M deliveries; Lambda priced ` +
        `from the phase's invocations and max(${CONFIG.assumedMsPerBatch} ms, its measured mean)\n`,
    );
    const components = [...new Set(observed.flatMap(({ phase }) => phase.lines.map((l) => `${l.service} ${l.component}`)))];
    console.log(
      table(
        ["component (counted)", "unit", ...observed.flatMap(({ phase }) => [phase.label, "$"])],
        components.map((component) => {
          const unit = observed.flatMap(({ phase }) => phase.lines).find((l) => `${l.service} ${l.component}` === component)!.unit;
          return [
            component,
            unit,
            ...observed.flatMap(({ phase, perMillion }) => {
              const line = phase.lines.find((l) => `${l.service} ${l.component}` === component);
              return line ? [count(line.units * perMillion), dollars(line.dollars * perMillion)] : ["-", "-"];
            }),
          ];
        }),
      ),
    );
    console.log(
      table(
        ["total per 1M deliveries (counted)", ...observed.map(({ phase }) => phase.label)],
        [
          ["total", ...observed.map((o) => `$${o.total.toFixed(3)} (SQS ${o.byService.SQS.toFixed(2)}, λ ${o.byService.Lambda.toFixed(2)}, DDB ${o.byService.DynamoDB.toFixed(2)})`)],
          ["deliveries counted", ...observed.map(({ phase }) => int(phase.deliveries))],
          ["invocations dispatch / deliver", ...observed.map(({ phase }) => `${int(phase.invocations.dispatch)} / ${int(phase.invocations.deliver)}`)],
          ["cache miss rate dispatch / deliver", ...observed.map(({ phase }) => `${fixed(phase.missRate.dispatch * 100, 1)} % / ${fixed(phase.missRate.deliver * 100, 1)} %`)],
          ["not priced: empty receives, unbilled errors", ...observed.map(({ phase }) => `${int(phase.emptyReceives)}, ${phase.unbilledErrors}`)],
        ],
      ),
    );
    const counted = (fanOut: number) => observed.find(({ phase }) => phase.fanOut === fanOut)?.total ?? Number.NaN;
    // A verdict holds only if both the model's conservative case and the counted run meet it.
    const costVerdicts = [
      { fanOut: 1, model: one.total, counted: counted(1), target: CONFIG.targets.dollarsPerMillion },
      { fanOut: 10, model: ten.total, counted: counted(CONFIG.subscriptions), target: CONFIG.targets.dollarsPerMillionFanOut10 },
    ];

    const keyRows = scenarios.includes("keys") ? keyDistributionScenario() : [];
    const fanOutRows = scenarios.includes("fanout") ? await fanOutScenario(receivers) : [];
    const retryAllRows = scenarios.includes("retryall") ? await retryAllScenario(receivers) : [];
    const rateRows = scenarios.includes("rate") ? await rateLimitScenario(receivers) : [];
    const orderedRows = scenarios.includes("ordered") ? await orderedScenario(receivers) : [];
    const latencyRows = scenarios.includes("latency") ? await latencyScenario(receivers) : [];

    // Summary.
    const rssPeak = Math.max(processRss.stop(), pipe.rss.peak);
    printSummary(wall, [
        ...(["main thread", "worker thread"] as const).map((variant) => [
          `baseline, sender on the ${variant}`,
          `${int(baseline.bestOf[variant].perSecond)} deliveries/s (${baseline.bestOf[variant].inFlight} in flight)`,
          "",
          "",
        ]),
        ["local pipeline", `${int(pipe.perSecond)} deliveries/s`, "", ""],
        ["pipeline / best baseline", fixed(ratio, 2), `≥ ${CONFIG.targets.pipelineOverBare}`, verdict(ratioPass)],
        ...costVerdicts.map(({ fanOut, model, counted, target }) => [
          `cost, fan-out ${fanOut} (model conservative; counted)`,
          `$${model.toFixed(3)}; $${counted.toFixed(3)} / 1M`,
          `≤ $${target.toFixed(2)}`,
          verdict(model <= target && counted <= target),
        ]),
        ["peak RSS, pipeline measured window", mb(pipe.rss.measuredPeak), "", ""],
        ["peak RSS under the bench (pipeline phase)", mb(pipe.rss.peak), `≤ ${CONFIG.memory.benchPeakRssMb} MB`, verdict(pipe.rss.peak <= CONFIG.memory.benchPeakRssMb * 2 ** 20)],
        ["peak RSS, whole run", mb(rssPeak), "", ""],
        ...footprintRows,
        ...keyRows,
        ...fanOutRows,
        ...retryAllRows,
        ...rateRows,
        ...orderedRows,
        ...latencyRows,
    ]);
  } finally {
    processRss.stop();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The run's figures with their verdicts, as a plain table and then as Markdown headed by the machine
 * and the command, so the README's Performance table is this output pasted, not retyped.
 */
function printSummary(wall: number, rows: readonly (readonly string[])[]): void {
  const header = ["metric", "value", "target", "verdict"];
  const seconds = fixed((performance.now() - wall) / 1000);
  console.log(`\nSummary (whole run ${seconds} s)`);
  console.log(table(header, rows));
  const command = `npm run bench${process.argv.includes("--only") ? ` -- ${process.argv.slice(process.argv.indexOf("--only")).join(" ")}` : ""}`;
  console.log(
    `\nThe same as Markdown (\`${command}\`, ${seconds} s; ${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${availableParallelism()} cores, ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}):\n`,
  );
  console.log(markdownTable(header, rows));
}

/** The product on its own in a fresh process: RSS after start, with a few environments up, and once they were retired. Returns its summary rows. */
async function idleScenario(): Promise<string[][]> {
  const { idleRssMb, environmentIdleSeconds } = CONFIG.memory;
  const r = await measureIdleProduct(environmentIdleSeconds);
  console.log(
    `\nIdle memory: the product on the local runtime, in memory, alone in a fresh process (bench/idle-product.ts; environments retired after ${environmentIdleSeconds} s unused)\n` +
      `   RSS ${mb(r.afterStart)} after start (main thread's heap ${mb(r.mainHeapAfterStart)}); ${mb(r.afterCalls)} after 30 API calls started ` +
      `${r.environments} execution environments; ${mb(r.afterIdle)} once ${r.retired ? "all were" : "NOT all were"} retired and the process was quiet 10 s ` +
      `(main thread's heap ${mb(r.mainHeapAfterIdle)})`,
  );
  return [
    ["RSS idle after start, product on its own", mb(r.afterStart), `≤ ${idleRssMb} MB`, verdict(r.afterStart <= idleRssMb * 2 ** 20)],
    [`RSS with ${r.environments} environments up / once retired`, `${mb(r.afterCalls)} / ${mb(r.afterIdle)}`, "", ""],
  ];
}

/** Partition keys of one tenant at 10,000 deliveries a second, over a simulated day. Returns its summary rows. */
function keyDistributionScenario(): string[][] {
  const { deliveriesPerSecond, fanOut, failingShare, documentShare, sampledSeconds, perKeyLimit } = CONFIG.keyDistribution;
  const started = performance.now();
  const d = simulateKeyDistribution({ deliveriesPerSecond, fanOut, failingShare, documentShare, sampledSeconds });
  const hottest = d.hottest[0];
  const pass = hottest !== undefined && hottest.peakPerSecond <= perKeyLimit;
  console.log(
    `\nKey distribution: one tenant at ${int(deliveriesPerSecond)} deliveries/s (fan-out ${fanOut}, producer ids, ${fixed(failingShare * 100, 0)} % of attempts failing, ` +
      `${fixed(documentShare * 100, 0)} % of events with a documentKey), ${sampledSeconds} seconds spread over a simulated day, every write's partition key from ` +
      `lambdas/data/keys.ts (${fixed((performance.now() - started) / 1000, 1)} s): up to ${int(d.writesPerSecond)} writes/s over ${int(d.distinctKeysPerSecond)} keys\n`,
  );
  console.log(table(["hottest partition keys", "written by", "peak writes/s"], d.hottest.slice(0, 8).map((k) => [k.key, k.kind, int(k.peakPerSecond)])));
  console.log(`   hottest key ${int(hottest?.peakPerSecond ?? 0)} writes/s (DynamoDB's per-key ceiling about ${int(perKeyLimit)}) → ${verdict(pass)}`);
  return [["hottest partition key, 1 tenant at 10,000 deliveries/s", `${int(hottest?.peakPerSecond ?? 0)} writes/s`, `≤ ${int(perKeyLimit)}`, verdict(pass)]];
}

/** One event fanned out to 1,000 endpoints: time and memory. Returns its summary rows. */
async function fanOutScenario(receivers: Awaited<ReturnType<typeof receiverFactory>>): Promise<string[][]> {
  const { endpoints, timeLimitMs } = CONFIG.fanOut;
  const r = await runFanOut({ receivers, endpoints, retrySchedule: CONFIG.retrySchedule, timeLimitMs });
  const pass = r.complete && r.signaturesValid >= r.delivered;
  console.log(
    `\nFan-out: one event to ${int(endpoints)} Portal subscriptions of one tenant (each its own endpoint; local runtime, in memory)\n` +
      `   subscribed through the API in ${fixed(r.subscribeSeconds)} s (8 at a time); ${int(r.delivered)} of ${int(endpoints)} delivered ` +
      `(${int(r.signaturesValid)} arrivals verified), the last ${fixed(r.seconds, 2)} s after the event was sent${r.complete ? "" : " (INCOMPLETE at the time limit)"}\n` +
      `   RSS (whole process) ${mb(r.rssBefore)} before the event, peak ${mb(r.rssPeak)} until delivered` +
      `${r.runtimeErrors.length ? `; ${r.runtimeErrors.length} runtime errors` : ""}\n` +
      `${describeBreakdown("before the event", r.breakdown.before)}\n${describeBreakdown("delivered", r.breakdown.delivered)}`,
  );
  for (const error of r.runtimeErrors.slice(0, 3)) console.log(`   runtime error: ${error}`);
  return [
    [`fan-out to ${int(endpoints)} endpoints`, `${int(r.delivered)} in ${fixed(r.seconds, 2)} s`, `all ${int(endpoints)}`, verdict(pass)],
    ["fan-out: RSS growth while delivering", mb(r.rssPeak - r.rssBefore), "", ""],
  ];
}

/** One tenant's dead letters retried with one API call: time, letters left, memory. Returns its summary rows. */
async function retryAllScenario(receivers: Awaited<ReturnType<typeof receiverFactory>>): Promise<string[][]> {
  const { deadLetters, seedConcurrency, warmupLetters, timeLimitMs, flatRssGrowthMb } = CONFIG.retryAll;
  const r = await runRetryAll({ receivers, deadLetters, seedConcurrency, warmupLetters, retrySchedule: CONFIG.retrySchedule, timeLimitMs });
  const pass = r.complete && r.lettersLeft === 0;
  const growth = r.rssPeak - r.rssBefore;
  console.log(
    `\nRetry-all: ${int(deadLetters)} dead letters of one tenant (one Portal subscription, receiver answering 200; local runtime, in memory, ` +
      `retrySchedule [${CONFIG.retrySchedule.join(", ")}], after a warm-up of ${warmupLetters} letters retried the same way and one empty DLQ job)\n` +
      `   seeded ${int(r.seeded)} through DeadLetterStore.put (${seedConcurrency} at a time) in ${fixed(r.seedSeconds)} s; ` +
      `POST /webhooks/dlq/retry-all answered ${r.apiStatus} ${r.apiBody} after ${fixed(r.apiSeconds)} s\n` +
      `   ${int(r.delivered)} of ${int(deadLetters)} distinct webhook-ids delivered (${int(r.arrivals)} arrivals, ${int(r.carriedOnAttempts)} with ` +
      `X-Webhook-Attempt carried on), the last ${fixed(r.seconds)} s after the call${r.complete ? "" : " (INCOMPLETE at the time limit)"}; ` +
      `${int(r.lettersLeft)} letters left in GET /webhooks/dlq; ${int(r.jobInvocations)} DLQ-job invocations (${r.jobFailures} failed)\n` +
      `   RSS (whole process) ${mb(r.rssBefore)} before the call, peak ${mb(r.rssPeak)} until delivered (+${mb(growth)}); ` +
      `at ${r.rssAt.map((s) => `${int(s.share * 100)} % (${fixed(s.seconds)} s) ${mb(s.rss)}`).join(", ")}\n` +
      `   main thread's heap in use (emulators, gateway, pollers; not the functions' threads) ${mb(r.mainHeapBefore)} before the call, ` +
      `${r.rssAt.map((s) => `${mb(s.mainHeap)} at ${int(s.share * 100)} %`).join(", ")}` +
      `${r.runtimeErrors.length ? `; ${r.runtimeErrors.length} runtime errors` : ""}\n` +
      describeBreakdown("before the call", r.breakdown.before) +
      "\n" +
      describeBreakdown("all delivered", r.breakdown.delivered),
  );
  for (const error of r.runtimeErrors.slice(0, 3)) console.log(`   runtime error: ${error}`);
  for (const error of r.jobErrors.slice(0, 3)) console.log(`   DLQ job failed: ${error}`);
  return [
    [`retry-all of ${int(deadLetters)} dead letters`, `${int(r.delivered)} in ${fixed(r.seconds)} s, ${int(r.lettersLeft)} left`, `all, 0 left`, verdict(pass)],
    ["retry-all: RSS growth while retrying (peak − before)", mb(growth), `≤ ${flatRssGrowthMb} MB`, verdict(r.complete && growth <= flatRssGrowthMb * 2 ** 20)],
  ];
}

/** 5. A burst to one endpoint with a rate limit: what reaches it, second by second. Returns its summary rows. */
async function rateLimitScenario(receivers: Awaited<ReturnType<typeof receiverFactory>>): Promise<string[][]> {
  const { events, limit, batch, timeLimitMs } = CONFIG.rateLimit;
  const r = await runRateLimited({ receivers, events, limit, retrySchedule: CONFIG.retrySchedule, timeLimitMs });
  const ceiling = limit + batch;
  const pass = r.complete && r.lost === 0 && r.peakPerSecond <= ceiling;
  // Two updates per reservation, as when the schedule has a backlog (one when it has none).
  const traffic = { updatesPerDelivery: (2 * r.reservations) / Math.max(1, r.delivered), heldPerDelivery: r.heldBack / Math.max(1, r.delivered) };
  const added = rateLimitLines(1e6, traffic);
  const addedTotal = added.reduce((sum, line) => sum + line.dollars, 0);
  console.log(
    `\n5. Rate limit: ${int(events)} events at once (SendMessageBatch, 10 per call) to one subscription with maxPorSegundo ${limit} ` +
      `(local runtime, in memory)\n` +
      `   ${int(r.delivered)} of ${int(events)} delivered (${r.lost} lost, ${r.copies} copies with a repeated webhook-id, ${r.laterAttempts} on a later attempt) ` +
      `in ${fixed(r.drainSeconds)} s from the first send to the last arrival (${fixed(events / limit)} s at exactly the limit)${r.complete ? "" : " (INCOMPLETE at the time limit)"}\n` +
      `   arrivals per second (receiver's clock): ${r.perSecond.join(" ")}\n` +
      `   peak ${r.peakPerSecond}/s (target ≤ ${limit} + one batch of ${batch} = ${ceiling}) → ${verdict(pass)}\n` +
      `   ${int(r.heldBack)} deliveries held back and queued again (each once at most: it comes back holding its slot); ` +
      `${int(r.deliverInvocations)} deliver invocations, ${int(r.reservations)} of them reserving slots (one update, two with a backlog)` +
      `${r.runtimeErrors.length ? `; ${r.runtimeErrors.length} runtime errors` : ""}\n` +
      `   added cost per 1M deliveries to limited endpoints, at this backlog: $${addedTotal.toFixed(3)} ` +
      `(${added.map((line) => `${line.service} ${line.component} ${dollars(line.dollars)}`).join("; ")}); deliveries without a limit: none (the same lines, zero, in the cost table)`,
  );
  for (const error of r.runtimeErrors.slice(0, 3)) console.log(`   runtime error: ${error}`);
  return [
    ["rate limit: peak arrivals/s", `${r.peakPerSecond}/s (limit ${limit})`, `≤ ${ceiling}`, verdict(r.complete && r.peakPerSecond <= ceiling)],
    ["rate limit: events lost", String(r.lost), "0", verdict(r.complete && r.lost === 0)],
    ["rate limit: time to drain", `${fixed(r.drainSeconds)} s for ${int(events)}`, `≈ ${fixed(events / limit)} s`, ""],
  ];
}

/** 6. Ordered delivery per fiscal document against the unordered path, in one product. Returns its summary rows. */
async function orderedScenario(receivers: Awaited<ReturnType<typeof receiverFactory>>): Promise<string[][]> {
  const o = CONFIG.ordered;
  const r = await runOrdered({ receivers, ...o, assumedMsPerBatch: CONFIG.assumedMsPerBatch });
  const { ordered, unordered } = r;
  const events = o.documents * o.eventsPerDocument;
  const path = (p: typeof unordered) =>
    `${int(p.delivered)} of ${int(p.events)} delivered, ${p.exhausted} exhausted (in the DLQ), ${p.lost} lost; ${int(p.attempts)} attempts, ` +
    `${p.repeatedSuccesses} repeated 2xx; ${fixed(p.seconds, 1)} s from the first send to the last success → ${int(p.perSecond)} deliveries/s` +
    `${p.complete ? "" : " (INCOMPLETE at the time limit)"}`;
  const ratio = ordered.perSecond / unordered.perSecond;
  const orderPass = ordered.complete && ordered.outOfOrder === 0;
  const lostPass = ordered.lost === 0 && unordered.lost === 0;
  console.log(
    `\n6. Ordered delivery per fiscal document: ${int(o.documents)} documents × ${o.eventsPerDocument} events (sequence 1..${o.eventsPerDocument}) ` +
      `to the ordered (FIFO) events queue, group tenant:documentKey, SendMessageBatch of 10; one tenant, one Portal subscription; ` +
      `receivers fail ${int(o.failureShare * 100)} % of attempts (503, by a hash of webhook-id and attempt); retrySchedule [${o.retrySchedule.join(", ")}]; ` +
      `local runtime, in memory, after a warm-up\n` +
      `   ordered:   ${path(ordered)}\n` +
      `   out of order (an attempt of event i+1 before event i's success, or its last attempt): ${ordered.outOfOrder} in ` +
      `${ordered.documentsOutOfOrder} of ${int(o.documents)} (document, endpoint) pairs (target 0) → ${verdict(orderPass)}\n` +
      `   unordered: ${path(unordered)} (${int(events)} events without a documentKey through the standard queue, second tenant and receiver, same failures)\n` +
      `   events lost on either path: ${ordered.lost + unordered.lost} (target 0) → ${verdict(lostPass)}\n` +
      `   ratio ordered / unordered throughput: ${fixed(ratio, 2)} (reported, no target)`,
  );
  for (const error of r.runtimeErrors.slice(0, 3)) console.log(`   runtime error: ${error}`);

  // Cost: every SQS and DynamoDB request each phase made, as the local runtime's request hook saw it, per million deliveries.
  const perMillion = (p: typeof unordered) => 1e6 / Math.max(1, p.delivered);
  const key = (line: { service: string; component: string }) => `${line.service} ${line.component}`;
  const components = [...new Set([...ordered.cost.lines, ...unordered.cost.lines].map(key))];
  const cell = (p: typeof unordered, component: string) => {
    const line = p.cost.lines.find((l) => key(l) === component);
    return line ? [count(line.units * perMillion(p)), dollars(line.dollars * perMillion(p))] : ["-", "-"];
  };
  const unitOf = (component: string) => [...ordered.cost.lines, ...unordered.cost.lines].find((l) => key(l) === component)!.unit;
  console.log(
    `\n   Cost per 1M deliveries from the requests each phase made (SQS FIFO $0.50, standard $${(PRICES.sqsPerRequest * 1e6).toFixed(2)} per 1M requests, ` +
      `per 64 KiB chunk; DynamoDB $0.625/1M WRU, $0.125/1M RRU, sized from the items in the calls; Lambda billed max(${CONFIG.assumedMsPerBatch} ms, measured mean) ` +
      `per invocation at the template's memory), retries and dead letters included\n`,
  );
  console.log(
    table(
      ["component", "unit", "ordered", "$", "unordered", "$"],
      components.map((component) => [component, unitOf(component), ...cell(ordered, component), ...cell(unordered, component)]),
    ),
  );
  const total = (p: typeof unordered) =>
    `$${(p.cost.total * perMillion(p)).toFixed(3)} (SQS ${(p.cost.byService.SQS * perMillion(p)).toFixed(2)}, ` +
    `λ ${(p.cost.byService.Lambda * perMillion(p)).toFixed(2)}, DDB ${(p.cost.byService.DynamoDB * perMillion(p)).toFixed(2)})`;
  const billed = (p: typeof unordered) =>
    p.cost.lines.flatMap((l) => ("billedMs" in l && l.billedMs !== undefined ? [`${l.component.replace(/ duration.*/, "")} ${l.billedMs} ms`] : [])).join(", ");
  const batch = (p: typeof unordered, fn: string) => {
    const line = p.cost.lines.find((l) => l.service === "Lambda" && l.component.startsWith(fn) && l.unit === "requests");
    return line ? fixed(p.attempts / line.calls, 1) : "n/a";
  };
  console.log(
    `   Lambda billed per invocation: ordered ${billed(ordered)}; unordered ${billed(unordered)}; ` +
      `attempts per deliver invocation: ordered ${batch(ordered, "Deliver")}, unordered ${batch(unordered, "Deliver")}\n` +
      `   total per 1M deliveries: ordered ${total(ordered)}, unordered ${total(unordered)}; ordered / unordered ` +
      `${fixed((ordered.cost.total * perMillion(ordered)) / (unordered.cost.total * perMillion(unordered)), 2)}\n` +
      `   not priced: empty ReceiveMessage polls (ordered phase ${int(ordered.cost.emptyReceives)}, unordered ${int(unordered.cost.emptyReceives)}: ` +
      `the local pollers' idle long polls of every queue, a fixed cost in AWS, not per delivery), errors AWS does not bill ` +
      `(${ordered.cost.unbilledErrors + unordered.cost.unbilledErrors}), DynamoDB index writes, CloudWatch, data transfer`,
  );
  const orderedCost = ordered.cost.total * perMillion(ordered);
  return [
    ["ordered: out-of-order attempts", `${ordered.outOfOrder} (${ordered.documentsOutOfOrder} documents)`, "0", verdict(orderPass)],
    ["ordered + unordered: events lost", String(ordered.lost + unordered.lost), "0", verdict(lostPass)],
    ["ordered delivery", `${int(ordered.perSecond)} deliveries/s`, "", ""],
    ["unordered, same run", `${int(unordered.perSecond)} deliveries/s`, "", ""],
    ["ordered / unordered throughput", fixed(ratio, 2), "", ""],
    ["cost, ordered (30 % failing)", `$${orderedCost.toFixed(3)} / 1M`, `≤ $${CONFIG.targets.dollarsPerMillion}`, verdict(orderedCost <= CONFIG.targets.dollarsPerMillion)],
    ["cost, unordered (30 % failing)", `$${(unordered.cost.total * perMillion(unordered)).toFixed(3)} / 1M`, "", ""],
  ];
}

/** 7. Inject → receive latency: a burst at fan-out 1, then lone events. Returns its summary rows. */
async function latencyScenario(receivers: Awaited<ReturnType<typeof receiverFactory>>): Promise<string[][]> {
  const r = await runLatency({ receivers, ...CONFIG.latency, retrySchedule: CONFIG.retrySchedule });
  const { text, rows } = describeLatency(r, CONFIG.latency.burst);
  console.log(text);
  return rows;
}

main().then(
  () => {
    clearTimeout(watchdog);
    // Everything is closed; exit now rather than wait for SDK sockets' idle timers.
    process.exit(0);
  },
  (error: unknown) => {
    console.error("bench failed:", error);
    process.exit(1);
  },
);

/** A counted phase per million deliveries: its SQS and DynamoDB lines as counted, plus Lambda from its invocations. */
function observedCost(phase: ObservedCost, memoryMb: { readonly dispatch: number; readonly deliver: number }) {
  const perMillion = 1e6 / phase.deliveries;
  const lambda = (["dispatch", "deliver"] as const).reduce((sum, fn) => {
    const ms = Math.max(CONFIG.assumedMsPerBatch, Number.isFinite(phase.meanMs[fn]) ? phase.meanMs[fn] : 0);
    return sum + phase.invocations[fn] * (PRICES.lambdaPerRequest + (Math.ceil(ms) / 1000) * (memoryMb[fn] / 1024) * PRICES.lambdaArmPerGbSecond);
  }, 0);
  const byService = {
    SQS: phase.lines.filter((l) => l.service === "SQS").reduce((sum, l) => sum + l.dollars, 0) * perMillion,
    Lambda: lambda * perMillion,
    DynamoDB: phase.lines.filter((l) => l.service === "DynamoDB").reduce((sum, l) => sum + l.dollars, 0) * perMillion,
  };
  return { perMillion, byService, total: byService.SQS + byService.Lambda + byService.DynamoDB };
}
