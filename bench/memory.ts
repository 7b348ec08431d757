import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import type { LocalRuntime } from "../lib/local-aws/runtime.ts";
import { mb } from "./format.ts";

const run = promisify(execFile);

/** Where the process's memory is at one moment: the functions' environments, the main thread, the emulators' data, the rest. */
export interface MemoryBreakdown {
  readonly rss: number;
  /** Per function: its live execution environments and their V8 heaps (reserved, plus V8's own mallocs). */
  readonly functions: readonly { readonly functionId: string; readonly environments: number; readonly heap: number }[];
  /** The main thread's V8 heap (emulators, gateway, pollers, the bench itself), reserved and in use. */
  readonly mainHeapTotal: number;
  readonly mainHeapUsed: number;
  /** The data the emulators hold, as its size on the wire (their in-memory form takes more, inside the main heap). */
  readonly emulatorData: { readonly items: number; readonly itemBytes: number; readonly messages: number };
  /** RSS less every heap above: buffers, code, thread stacks, the allocator's free lists. */
  readonly other: number;
}

/** Samples where the memory goes; the table scan and queue look-ups are the engine's own (unchecked) calls. */
export async function memoryBreakdown(runtime: LocalRuntime): Promise<MemoryBreakdown> {
  const environments = await runtime.environmentMemoryUsage();
  const byFunction = new Map<string, { environments: number; heap: number }>();
  for (const e of environments) {
    const entry = byFunction.get(e.functionId) ?? { environments: 0, heap: 0 };
    entry.environments++;
    entry.heap += e.heapTotal + e.malloced;
    byFunction.set(e.functionId, entry);
  }
  const emulatorData = await emulatorDataSize(runtime);
  const { rss, heapTotal, heapUsed } = process.memoryUsage();
  const functions = [...byFunction].map(([functionId, entry]) => ({ functionId, ...entry })).sort((a, b) => b.heap - a.heap);
  const functionsHeap = functions.reduce((sum, f) => sum + f.heap, 0);
  return { rss, functions, mainHeapTotal: heapTotal, mainHeapUsed: heapUsed, emulatorData, other: rss - heapTotal - functionsHeap };
}

async function emulatorDataSize(runtime: LocalRuntime): Promise<MemoryBreakdown["emulatorData"]> {
  let items = 0;
  let itemBytes = 0;
  for (const table of runtime.tables) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await runtime.dynamodb.send(new ScanCommand({ TableName: table.tableName, ...(start ? { ExclusiveStartKey: start as never } : {}) }));
      for (const item of page.Items ?? []) itemBytes += JSON.stringify(item).length;
      items += page.Items?.length ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
  }
  const counts = await Promise.all(
    runtime.queues.map(async (queue) => {
      const { Attributes = {} } = await runtime.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queue.url,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
        }),
      );
      return Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
    }),
  );
  return { items, itemBytes, messages: counts.reduce((sum, n) => sum + n, 0) };
}

/** One line per breakdown, for the report. */
export function describeBreakdown(label: string, b: MemoryBreakdown): string {
  const environments = b.functions.reduce((sum, f) => sum + f.environments, 0);
  const functionsHeap = b.functions.reduce((sum, f) => sum + f.heap, 0);
  const shortName = (id: string) => id.replace(/[0-9A-F]{8}$/, "").replace(/Function$/, "");
  return (
    `   ${label}: RSS ${mb(b.rss)} = ${environments} execution environments' heaps ${mb(functionsHeap)} ` +
    `(${b.functions.map((f) => `${shortName(f.functionId)} ${f.environments}× ${mb(f.heap)}`).join(", ") || "none"}) ` +
    `+ main thread's heap ${mb(b.mainHeapTotal)} (${mb(b.mainHeapUsed)} in use; emulators' data: ${b.emulatorData.items.toLocaleString("en-US")} items, ` +
    `${mb(b.emulatorData.itemBytes)} as JSON, ${b.emulatorData.messages.toLocaleString("en-US")} messages queued) + other ${mb(b.other)}`
  );
}

export interface IdleProductMemory {
  readonly afterStart: number;
  /** The main thread's V8 heap (emulators, gateway, pollers) after start and after the idle period. */
  readonly mainHeapAfterStart: number;
  readonly mainHeapAfterIdle: number;
  /** After a few API calls, and how many execution environments they started. */
  readonly afterCalls: number;
  readonly environments: number;
  /** Once those environments were retired, `idleSeconds` unused, and the process was quiet a while. */
  readonly afterIdle: number;
  readonly retired: boolean;
  readonly idleSeconds: number;
}

/** The product on its own in a fresh process (bench/idle-product.ts), as `npm start -- --in-memory` runs it. */
export async function measureIdleProduct(idleSeconds: number): Promise<IdleProductMemory> {
  const script = path.join(import.meta.dirname, "idle-product.ts");
  const { stdout } = await run(process.execPath, ["--import", "tsx", script, String(idleSeconds)], {
    cwd: path.dirname(import.meta.dirname),
    maxBuffer: 16 * 2 ** 20,
  });
  const last = stdout.trim().split("\n").at(-1) ?? "";
  return { ...(JSON.parse(last) as Omit<IdleProductMemory, "idleSeconds">), idleSeconds };
}
