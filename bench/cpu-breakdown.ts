import { readFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";
import type { EnvironmentCpuUsage, LocalRuntime } from "../lib/local-aws/runtime.ts";
import { fixed, table } from "./format.ts";

/** One line of the breakdown: CPU seconds over the window, and where it ran. */
export interface CpuLine {
  readonly component: string;
  readonly thread: string;
  readonly cpuSeconds: number;
}

export interface CpuBreakdown {
  readonly windowSeconds: number;
  readonly processCpuSeconds: number;
  readonly lines: readonly CpuLine[];
  /** Samples of the main thread's profile that were not idle. */
  readonly mainSamples: number;
}

const ROOT = path.resolve(import.meta.dirname, "..");
const SDK = /^@(aws-sdk|smithy|aws-crypto)\//;

/** The packages a package pulls in (node_modules is flat enough here), the AWS SDK left out. */
function closure(root: string): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || SDK.test(name)) return;
    seen.add(name);
    try {
      const manifest = JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
      for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency);
    } catch {
      // Nested or optional: frames of it are attributed to whoever calls it.
    }
  };
  visit(root);
  return seen;
}

function packageOf(url: string): string | undefined {
  const at = url.lastIndexOf("/node_modules/");
  if (at === -1) return undefined;
  const [first, second] = url.slice(at + "/node_modules/".length).split("/");
  return first?.startsWith("@") ? `${first}/${second}` : first;
}

const OWNERS: readonly [RegExp, string][] = [
  [/\/lib\/local-aws\/iam\//, "IAM proxies (in front of both emulators)"],
  [/\/lib\/local-aws\/http-api\//, "HTTP gateway"],
  [/\/lib\/local-aws\/sqs\//, "SQS event-source pollers"],
  [/\/lib\/local-aws\/lambda\//, "Lambda host (main-thread side)"],
  [/\/lib\/dev\/https-receiver\.ts/, "webhook receiver"],
  [/\/bench\//, "bench (event sender, probes)"],
];

/** Names the component a main-thread frame belongs to, or undefined to ask its caller. */
function classifier(): (url: string, functionName: string) => string | undefined {
  const dynalite = closure("dynalite");
  const fauxqs = closure("fauxqs");
  return (url, functionName) => {
    if (functionName === "(garbage collector)") return "garbage collection (main thread)";
    if (functionName === "(program)") return "V8/node outside JavaScript (main thread)";
    const name = packageOf(url);
    if (name !== undefined) {
      if (dynalite.has(name)) return "DynamoDB emulator (dynalite)";
      if (fauxqs.has(name)) return "SQS emulator (fauxqs)";
      return undefined;
    }
    for (const [pattern, component] of OWNERS) if (pattern.test(url)) return component;
    return undefined;
  };
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}

/** Main-thread samples per component: each sample goes to the nearest frame, leaf first, whose owner is known. */
function attribute(profile: { nodes: readonly ProfileNode[]; samples?: readonly number[] }): Map<string, number> {
  const classify = classifier();
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  // Memoized walks up the stack: the nearest known owner, and whether an SDK frame is on it.
  const owner = new Map<number, string | null>();
  const ownedBy = (id: number): string | null => {
    const known = owner.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const up = parent.get(id);
    const found = classify(node.callFrame.url, node.callFrame.functionName) ?? (up === undefined ? null : ownedBy(up));
    owner.set(id, found);
    return found;
  };
  const sdk = new Map<number, boolean>();
  const sdkOnStack = (id: number): boolean => {
    const known = sdk.get(id);
    if (known !== undefined) return known;
    const up = parent.get(id);
    const found = SDK.test(packageOf(byId.get(id)!.callFrame.url) ?? "") || (up !== undefined && sdkOnStack(up));
    sdk.set(id, found);
    return found;
  };
  const samples = new Map<string, number>();
  for (const id of profile.samples ?? []) {
    if (byId.get(id)!.callFrame.functionName === "(idle)") continue;
    const component =
      ownedBy(id) ?? (sdkOnStack(id) ? "AWS SDK clients (pollers, bench)" : "node internals, no owner on the stack (sockets, TLS, HTTP parsing)");
    samples.set(component, (samples.get(component) ?? 0) + 1);
  }
  return samples;
}

/**
 * Where the process's CPU goes over a window: the main thread (emulators, IAM proxies, gateway,
 * pollers, receiver, bench) split by a CPU profile of it, each function's execution environments
 * from their threads' CPU time, and the rest of the process's threads (libuv pool, GC helpers,
 * the profiler) as the remainder. The profile costs some CPU itself: run it outside a measured window.
 */
export async function startCpuBreakdown(runtime: LocalRuntime): Promise<{ stop(): Promise<CpuBreakdown> }> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 1000 });
  const environmentsBefore = await runtime.environmentCpuUsage();
  const processBefore = process.cpuUsage();
  const mainBefore = process.threadCpuUsage();
  const started = performance.now();
  await session.post("Profiler.start");
  return {
    stop: async () => {
      const { profile } = await session.post("Profiler.stop");
      const mainUsed = process.threadCpuUsage(mainBefore);
      const processUsed = process.cpuUsage(processBefore);
      const windowSeconds = (performance.now() - started) / 1000;
      const environmentsAfter = await runtime.environmentCpuUsage();
      await session.post("Profiler.disable");
      session.disconnect();

      const micros = (u: { user: number; system: number }) => u.user + u.system;
      const mainSeconds = micros(mainUsed) / 1e6;
      const processSeconds = micros(processUsed) / 1e6;
      const samples = attribute(profile as unknown as { nodes: ProfileNode[]; samples?: number[] });
      const mainSamples = [...samples.values()].reduce((sum, n) => sum + n, 0);
      const lines: CpuLine[] = [...samples.entries()].map(([component, n]) => ({
        component,
        thread: "main",
        cpuSeconds: mainSamples === 0 ? 0 : (mainSeconds * n) / mainSamples,
      }));
      const before = new Map(environmentsBefore.map((e: EnvironmentCpuUsage) => [e.threadId, e.userMicros + e.systemMicros]));
      const perFunction = new Map<string, { seconds: number; threads: number }>();
      for (const e of environmentsAfter) {
        const used = (e.userMicros + e.systemMicros - (before.get(e.threadId) ?? 0)) / 1e6;
        const sum = perFunction.get(e.functionId) ?? { seconds: 0, threads: 0 };
        perFunction.set(e.functionId, { seconds: sum.seconds + used, threads: sum.threads + 1 });
      }
      for (const [functionId, { seconds, threads }] of perFunction) {
        if (seconds > 0.0005) lines.push({ component: `function ${functionId}`, thread: `${threads} worker${threads === 1 ? "" : "s"}`, cpuSeconds: seconds });
      }
      const accounted = lines.reduce((sum, line) => sum + line.cpuSeconds, 0);
      lines.push({ component: "other threads (libuv pool, GC helpers, compiler, profiler)", thread: "other", cpuSeconds: Math.max(0, processSeconds - accounted) });
      lines.sort((a, b) => b.cpuSeconds - a.cpuSeconds);
      return { windowSeconds, processCpuSeconds: processSeconds, lines, mainSamples };
    },
  };
}

export function describeCpuBreakdown(b: CpuBreakdown): string {
  return table(
    ["component (profiled pass)", "thread", "CPU s", "cores", "share"],
    b.lines.map((line) => [
      line.component,
      line.thread,
      fixed(line.cpuSeconds, 2),
      fixed(line.cpuSeconds / b.windowSeconds, 2),
      `${fixed((100 * line.cpuSeconds) / Math.max(1e-9, b.processCpuSeconds), 1)}%`,
    ]),
  );
}
