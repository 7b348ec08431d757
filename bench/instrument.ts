import { monitorEventLoopDelay } from "node:perf_hooks";
import { availableParallelism } from "node:os";
import type { LocalRuntime } from "../lib/local-aws/runtime.ts";

/** One invocation of a local function, as the bench saw it from the host. */
export interface Invocation {
  readonly functionId: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly records: number;
  readonly ok: boolean;
}

export interface InvocationLog {
  readonly invocations: Invocation[];
  /** Highest number of concurrent invocations seen per function since the last reset. */
  readonly maxConcurrent: Map<string, number>;
  inFlight(): number;
  resetPeaks(): void;
  stop(): void;
}

/**
 * Times every invocation of the runtime's functions through its invocation hook. The time
 * covers the handler's run in its worker thread plus a message hop each way (and any wait for
 * a free execution environment); a cold start shows as a long first call.
 */
export function recordInvocations(runtime: LocalRuntime): InvocationLog {
  const invocations: Invocation[] = [];
  const current = new Map<string, number>();
  const maxConcurrent = new Map<string, number>();
  const stop = runtime.observeInvocations({
    started: (functionId) => {
      const now = (current.get(functionId) ?? 0) + 1;
      current.set(functionId, now);
      maxConcurrent.set(functionId, Math.max(now, maxConcurrent.get(functionId) ?? 0));
    },
    finished: (functionId, event, outcome, durationMs) => {
      current.set(functionId, (current.get(functionId) ?? 1) - 1);
      const endedAt = performance.now();
      const records = (event as { Records?: unknown } | null)?.Records;
      invocations.push({
        functionId,
        startedAt: endedAt - durationMs,
        endedAt,
        records: Array.isArray(records) ? records.length : 0,
        ok: outcome.ok,
      });
    },
  });
  return {
    invocations,
    maxConcurrent,
    inFlight: () => [...current.values()].reduce((sum, n) => sum + n, 0),
    resetPeaks: () => maxConcurrent.clear(),
    stop,
  };
}

/** Samples RSS every `everyMs` until stopped; `peak` is the highest sample (and the current one). */
export function sampleRss(everyMs = 50): { peak(): number; stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, everyMs);
  return {
    peak: () => Math.max(peak, process.memoryUsage.rss()),
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

export interface LoadSummary {
  /** Process CPU time (all threads) over wall time × cores, 0..1. */
  readonly cpuShare: number;
  /** Main thread's event-loop delay, ms. */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
}

/** CPU share of the whole process and the main event loop's delay over a window. */
export function watchLoad(): { stop(): LoadSummary } {
  const cores = availableParallelism();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  return {
    stop: () => {
      delay.disable();
      const used = process.cpuUsage(cpu);
      const wallMicros = (performance.now() - started) * 1000;
      return {
        cpuShare: (used.user + used.system) / (wallMicros * cores),
        loopDelayP99Ms: delay.percentile(99) / 1e6,
        loopDelayMaxMs: delay.max / 1e6,
      };
    },
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const mean = (values: readonly number[]): number =>
  values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
