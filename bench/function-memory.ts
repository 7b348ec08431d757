/**
 * `npx tsx bench/function-memory.ts`: the memory one execution environment of dispatch and of
 * deliver needs at full batches of the largest payload (10 records of a 128 KiB event; deliver:
 * 10 deliveries whose webhook body is that event's envelope, POSTed to a receiver that answers 200).
 * Each function's synthesized bundle runs in a process of its own — what a Lambda sandbox is —
 * with the function's environment on the local runtime (its role, the emulators), so its peak
 * RSS is the whole environment's. Reported, not asserted: what lib/stack.ts's MemorySize rests on.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ENV, OUTPUTS } from "../lambdas/contract/resources.ts";
import { deliveryIdFor } from "../lambdas/domain/fiscal-event.ts";
import { deliveryMessage, type Delivery } from "../lambdas/domain/delivery.ts";
import { receiverFactory } from "../lib/dev/https-receiver.ts";
import type { LocalFunction } from "../lib/local-aws/lambda/lambda-host.ts";
import { BENCH_EVENT_TYPE, startBenchProduct } from "./workload.ts";

const BATCHES = 8;
const EVENT_BYTES = 128 * 1024;

/** Runs in the sandbox process: imports the bundle, invokes it BATCHES times, prints what memory it took. */
const SANDBOX = `
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const [handlerFile, handlerExport, eventFile, batches] = process.argv.slice(2);
const mb = () => ({ rss: process.memoryUsage.rss() / 2 ** 20, heap: process.memoryUsage().heapUsed / 2 ** 20, peak: process.resourceUsage().maxRSS / 1024 });
const before = mb();
const handler = (await import(pathToFileURL(handlerFile).href))[handlerExport];
const imported = mb();
const event = JSON.parse(readFileSync(eventFile, "utf8"));
const after = [];
let failures = 0;
for (let i = 0; i < Number(batches); i++) {
  const context = { awsRequestId: "m" + i, functionName: "memory", functionVersion: "$LATEST", invokedFunctionArn: "arn", memoryLimitInMB: "128",
    logGroupName: "/aws/lambda/memory", logStreamName: "local", getRemainingTimeInMillis: () => 30000 };
  const result = await handler(event, context);
  failures += result?.batchItemFailures?.length ?? 0;
  after.push(mb());
}
const peakRss = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ before, imported, after, peakRss, failures }));
`;

function record(body: string, i: number) {
  return {
    messageId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    receiptHandle: `handle-${i}`,
    body,
    attributes: { ApproximateReceiveCount: "1", SentTimestamp: String(Date.now()), SenderId: "bench", ApproximateFirstReceiveTimestamp: String(Date.now()) },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:bench",
    awsRegion: "us-east-1",
  };
}

async function inSandbox(fn: LocalFunction, event: unknown, dir: string) {
  const eventFile = path.join(dir, `${fn.logicalId}.json`);
  writeFileSync(eventFile, JSON.stringify(event));
  const script = path.join(dir, "sandbox.mjs");
  writeFileSync(script, SANDBOX);
  const child = spawn(process.execPath, [script, fn.handlerFile, fn.handlerExport, eventFile, String(BATCHES)], { env: { ...fn.environment }, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  const last = out.trim().split("\n").at(-1) ?? "";
  if (code !== 0 || !last.startsWith("{")) throw new Error(`${fn.logicalId} sandbox exited ${code}: ${out.slice(-500)}`);
  return JSON.parse(last) as { before: Mb; imported: Mb; after: Mb[]; peakRss: number; failures: number };
}
type Mb = { rss: number; heap: number; peak: number };

const dir = mkdtempSync(path.join(tmpdir(), "fw-function-memory-"));
const receivers = await receiverFactory(dir);
const receiver = await receivers.start();
const errors: string[] = [];
const env = await startBenchProduct(receivers, [0, 1, 1], errors);
try {
  const { runtime, outputs } = env.product;
  const tenant = await env.newTenant("memory");
  const created = await tenant.call("POST", "/portal/api/ext/webhook", { evento: BENCH_EVENT_TYPE, endpoint: receiver.url });
  if (created.status !== 201) throw new Error(`subscription: HTTP ${created.status}`);
  const eventsQueueUrl = String(outputs[OUTPUTS.eventsQueueUrl]);
  const dispatch = runtime.functions.find((f) => f.logicalId === runtime.eventSources.find((s) => s.queueUrl === eventsQueueUrl)?.functionId)!;
  const deliver = runtime.functions.find((f) => f.logicalId === runtime.eventSources.find((s) => s.queueUrl === dispatch.environment[ENV.deliveriesQueueUrl])?.functionId)!;

  // The largest event the contract takes: 128 KiB of JSON, most of it one string in `data`.
  const eventOf = (i: number) => {
    const shell = JSON.stringify({ tenantId: tenant.tenantId, type: BENCH_EVENT_TYPE, data: { blob: "", i } });
    return JSON.stringify({ tenantId: tenant.tenantId, type: BENCH_EVENT_TYPE, data: { blob: "x".repeat(EVENT_BYTES - Buffer.byteLength(shell)), i } });
  };
  const dispatchEvent = { Records: Array.from({ length: 10 }, (_, i) => record(eventOf(i), i)) };
  const now = new Date().toISOString();
  const deliverEvent = {
    Records: Array.from({ length: 10 }, (_, i) => {
      const delivery: Delivery = {
        deliveryId: deliveryIdFor(tenant.tenantId, `memory-d-${i}`, receiver.url),
        tenantId: tenant.tenantId,
        eventId: `memory-d-${i}`,
        eventType: BENCH_EVENT_TYPE,
        url: receiver.url,
        body: JSON.stringify({ id: `memory-d-${i}`, type: BENCH_EVENT_TYPE, createdAt: now, data: JSON.parse(eventOf(i)).data }),
        createdAt: now,
        attemptsBefore: 0,
        step: 1,
        acceptedAt: now,
      };
      return record(deliveryMessage(delivery).body, i);
    }),
  };
  const results = [
    { fn: dispatch, ...(await inSandbox(dispatch, dispatchEvent, dir)) },
    { fn: deliver, ...(await inSandbox(deliver, deliverEvent, dir)) },
  ];
  console.log(
    `Memory of one execution environment (its own process, node ${process.version}), ${BATCHES} batches of 10 records of ${EVENT_BYTES / 1024} KiB events; ` +
      `MB, RSS / V8 heap used\n`,
  );
  for (const r of results) {
    const rss = r.after.map((m) => m.rss);
    console.log(
      `${r.fn.logicalId} (MemorySize ${r.fn.memorySize}): start ${r.before.rss.toFixed(0)} / ${r.before.heap.toFixed(0)}, after import ${r.imported.rss.toFixed(0)} / ${r.imported.heap.toFixed(0)}, ` +
        `after each batch RSS ${rss.map((v) => v.toFixed(0)).join(", ")}, heap ${r.after.map((m) => m.heap.toFixed(0)).join(", ")}, ` +
        `peak RSS so far ${r.after.map((m) => m.peak.toFixed(0)).join(", ")}; peak RSS ${r.peakRss.toFixed(0)}; failed records ${r.failures}`,
    );
  }
  console.log(`receiver got ${receiver.received.length} webhooks (deliver's ${BATCHES * 10}, plus what the runtime's deliver made of dispatch's ${BATCHES * 10}); runtime errors ${errors.length}`);
} finally {
  await receiver.close();
  await env.stop();
  rmSync(dir, { recursive: true, force: true });
}
