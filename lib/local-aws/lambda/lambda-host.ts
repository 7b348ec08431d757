import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { Worker } from "node:worker_threads";

/** How the gateway and the SQS pollers call a function (the host, or a stand-in in their own tests). */
export interface LambdaInvoker {
  /** Resolves to the handler's return value; rejects if the handler throws or times out. */
  invoke(functionId: string, event: unknown): Promise<unknown>;
}

/** A function as the local host runs it: its bundle, handler, environment and limits. */
export interface LocalFunction {
  readonly logicalId: string;
  readonly functionName: string;
  readonly functionArn: string;
  /** Absolute path of the bundle file (e.g. cdk.out/asset.<hash>/index.mjs). */
  readonly handlerFile: string;
  readonly handlerExport: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
}

export interface LambdaHostOptions {
  /** Concurrent execution environments per function (Lambda's concurrency, scaled down). */
  readonly maxInstancesPerFunction?: number;
  /** Receives each line a function logs; undefined discards them. */
  readonly output?: (functionId: string, line: string) => void;
  /** Failures to inject, by function logical id: what AWS does to invocations now and then. */
  readonly faults?: Readonly<Record<string, InjectedFaults>>;
  /**
   * An execution environment left unused this long is retired, as Lambda reclaims idle ones:
   * the function's next invocation cold-starts a fresh one. Default 60 s; 0 keeps them for good.
   */
  readonly environmentIdleSeconds?: number;
}

const DEFAULT_ENVIRONMENT_IDLE_SECONDS = 60;

/**
 * The first `crashes` invocations of the function fail as an environment that dies in its
 * init phase would; the `timeouts` after them are cut off at the function's timeout. The
 * handler runs in neither: the batch comes back to its queue untouched, as after a throttle.
 */
export interface InjectedFaults {
  readonly crashes?: number;
  readonly timeouts?: number;
}

/** How an invocation ended: the handler's JSON result, or why it failed. */
export type InvocationOutcome = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: unknown };

/**
 * Watches the host's invocations (benchmarks, tests, tracing). `durationMs` runs from
 * `started` to the outcome, the wait for a free execution environment included.
 */
export interface InvocationObserver {
  readonly started?: (functionId: string, event: unknown) => void;
  readonly finished?: (functionId: string, event: unknown, outcome: InvocationOutcome, durationMs: number) => void;
}

/** CPU time one execution environment's thread has used since it started. */
export interface EnvironmentCpuUsage {
  readonly functionId: string;
  /** The worker thread's id, stable for the environment's life. */
  readonly threadId: number;
  readonly userMicros: number;
  readonly systemMicros: number;
}

/** What one execution environment's V8 isolate holds now (its thread's share of the process's memory). */
export interface EnvironmentMemoryUsage {
  readonly functionId: string;
  readonly threadId: number;
  /** The isolate's heap as reserved from the system, and the part of it in use. */
  readonly heapTotal: number;
  readonly heapUsed: number;
  /** Memory outside the heap that the isolate knows of: buffers' backing stores, and V8's own mallocs. */
  readonly external: number;
  readonly malloced: number;
  /** The heap's limit (from the function's memory size). */
  readonly heapLimit: number;
}

/** An invocation that failed the way Lambda reports it: errorType + errorMessage. */
export class LambdaInvocationError extends Error {
  constructor(
    readonly functionId: string,
    readonly errorType: string,
    errorMessage: string,
    readonly remoteStack?: string,
  ) {
    super(`${functionId} failed: ${errorType}: ${errorMessage}`);
    this.name = "LambdaInvocationError";
  }
}

const WORKER_FILE = new URL("./lambda-worker.mjs", import.meta.url);
/**
 * Lambda runs a handler on a process's main thread, whose JavaScript stack is V8's default
 * 984 KiB. A worker thread's default is 4 MiB, which would let code that overflows in AWS
 * (deep recursion over nested input) pass here; node keeps 192 KiB of a worker's stack for
 * itself, so this gives handlers the same usable stack as Lambda's.
 */
const LAMBDA_STACK_MB = (984 + 192) / 1024;

/**
 * Lambda's Node.js runtime sizes V8's heap from the function's memory: a tenth for the young
 * generation (two semi-spaces of a twentieth each), the rest for the old one; so does the host,
 * and a function that outgrows its old generation fails as out-of-memory. Lambda's limit is the
 * whole environment's; here it is the heap's (buffers and the thread itself are not counted).
 *
 * One difference: V8 keeps a young generation committed at its largest once allocation has
 * grown it, and this process holds up to four environments per function where Lambda has one
 * per process, so each young generation is capped at LOCAL_YOUNG_GENERATION_MB. In a
 * throughput benchmark with eleven environments up this took their heaps from 579 to 348 MB at
 * the same throughput; the cost is more frequent minor collections.
 */
const LOCAL_YOUNG_GENERATION_MB = 12;

function heapLimits(memorySizeMb: number): { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } {
  const newSpace = Math.floor(memorySizeMb / 10);
  // V8's young generation is three semi-spaces: the two Lambda sizes plus the new large-object space.
  const lambdaYoungGeneration = 3 * Math.floor(newSpace / 2);
  return { maxOldGenerationSizeMb: memorySizeMb - newSpace, maxYoungGenerationSizeMb: Math.min(lambdaYoungGeneration, LOCAL_YOUNG_GENERATION_MB) };
}

interface Outcome {
  readonly id: string;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: { errorType: string; errorMessage: string; stack?: string };
}

/** One execution environment: a worker thread that runs one invocation at a time. */
class Instance {
  readonly worker: Worker;
  private current: { id: string; settle: (outcome: Outcome) => void } | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  dead = false;

  constructor(
    fn: LocalFunction,
    output: LambdaHostOptions["output"],
    private readonly onDeath: (instance: Instance) => void,
  ) {
    this.worker = new Worker(WORKER_FILE, {
      // Each environment gets its own copy of the variables: functions never see each other's.
      env: { ...fn.environment },
      workerData: { handlerFile: fn.handlerFile, handlerExport: fn.handlerExport },
      stdout: true,
      stderr: true,
      resourceLimits: { stackSizeMb: LAMBDA_STACK_MB, ...heapLimits(fn.memorySize) },
    });
    for (const stream of [this.worker.stdout, this.worker.stderr]) {
      if (output) createInterface({ input: stream }).on("line", (line) => output(fn.logicalId, line));
      else stream.resume();
    }
    this.worker.on("message", (outcome: Outcome) => {
      if (this.current?.id === outcome.id) this.current.settle(outcome);
    });
    this.worker.on("error", (error) =>
      (error as NodeJS.ErrnoException).code === "ERR_WORKER_OUT_OF_MEMORY"
        ? this.retire(
            `Runtime exited: the function used more than its ${fn.memorySize} MB (JavaScript heap out of memory)`,
            "Runtime.OutOfMemory",
          )
        : this.retire(`execution environment crashed: ${error.message}`),
    );
    this.worker.on("exit", (code) => this.retire(`execution environment exited with code ${code}`));
  }

  /** Takes the environment out of service at once (before its thread has even stopped). */
  retire(reason: string, errorType = "Runtime.ExitError"): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.idleTimer);
    this.current?.settle({ id: this.current.id, ok: false, error: { errorType, errorMessage: reason } });
    this.onDeath(this);
    void this.worker.terminate();
  }

  /** Out of service after `seconds` unless taken again before (`busy`). */
  idle(seconds: number, expire: () => void): void {
    if (seconds > 0) this.idleTimer = setTimeout(expire, seconds * 1000).unref();
  }

  busy(): void {
    clearTimeout(this.idleTimer);
  }

  run(fn: LocalFunction, event: unknown): Promise<Outcome> {
    const id = randomUUID();
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        const errorMessage = `Task timed out after ${fn.timeoutSeconds} seconds`;
        settle({ id, ok: false, error: { errorType: "Sandbox.Timedout", errorMessage } });
        // Lambda discards a timed-out sandbox; so does the host.
        this.retire(errorMessage);
      }, fn.timeoutSeconds * 1000);
      const settle = (outcome: Outcome) => {
        clearTimeout(timer);
        this.current = undefined;
        resolve(outcome);
      };
      this.current = { id, settle };
      this.worker.postMessage({
        id,
        event,
        deadline,
        context: {
          awsRequestId: id,
          functionName: fn.functionName,
          functionVersion: "$LATEST",
          invokedFunctionArn: fn.functionArn,
          memoryLimitInMB: String(fn.memorySize),
          logGroupName: `/aws/lambda/${fn.functionName}`,
          logStreamName: "local",
        },
      });
    });
  }
}

/** The pool of execution environments of one function. */
class FunctionPool {
  private readonly idle: Instance[] = [];
  private readonly all = new Set<Instance>();
  private readonly waiting: ((instance: Instance) => void)[] = [];
  private closed = false;

  private invocations = 0;

  constructor(
    readonly fn: LocalFunction,
    private readonly maxInstances: number,
    private readonly idleSeconds: number,
    private readonly output: LambdaHostOptions["output"],
    private readonly faults: InjectedFaults = {},
  ) {}

  async invoke(event: unknown): Promise<unknown> {
    const invocation = ++this.invocations;
    const crashes = this.faults.crashes ?? 0;
    if (invocation <= crashes) {
      throw new LambdaInvocationError(this.fn.logicalId, "Runtime.ExitError", `injected crash ${invocation} of ${crashes}: the environment died during init`);
    }
    if (invocation <= crashes + (this.faults.timeouts ?? 0)) {
      await new Promise((resolve) => setTimeout(resolve, this.fn.timeoutSeconds * 1000));
      throw new LambdaInvocationError(this.fn.logicalId, "Sandbox.Timedout", `injected timeout: task timed out after ${this.fn.timeoutSeconds}.00 seconds`);
    }
    const instance = await this.acquire();
    const outcome = await instance.run(this.fn, event);
    this.release(instance);
    if (outcome.ok) return outcome.value;
    const error = outcome.error ?? { errorType: "Error", errorMessage: "unknown failure" };
    throw new LambdaInvocationError(this.fn.logicalId, error.errorType, error.errorMessage, error.stack);
  }

  private acquire(): Promise<Instance> {
    // The most recently used environment first: the others' idle periods run on.
    const ready = this.idle.pop();
    if (ready) {
      ready.busy();
      return Promise.resolve(ready);
    }
    if (this.all.size < this.maxInstances) {
      const instance = new Instance(this.fn, this.output, (dead) => this.forget(dead));
      this.all.add(instance);
      return Promise.resolve(instance);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(instance: Instance): void {
    if (instance.dead) return;
    const next = this.waiting.shift();
    if (next) next(instance);
    else {
      this.idle.push(instance);
      instance.idle(this.idleSeconds, () => instance.retire(`idle for ${this.idleSeconds} s`));
    }
  }

  private forget(instance: Instance): void {
    this.all.delete(instance);
    const at = this.idle.indexOf(instance);
    if (at >= 0) this.idle.splice(at, 1);
    // A waiter blocked on a full pool gets a fresh environment in the dead one's place.
    const next = this.closed ? undefined : this.waiting.shift();
    if (next) {
      const fresh = new Instance(this.fn, this.output, (dead) => this.forget(dead));
      this.all.add(fresh);
      next(fresh);
    }
  }

  /** The environments alive now. */
  live(): readonly Instance[] {
    return [...this.all].filter((instance) => !instance.dead);
  }

  async close(): Promise<void> {
    this.closed = true;
    const instances = [...this.all];
    await Promise.all(
      instances.map((instance) => {
        instance.retire("the local runtime is stopping");
        return instance.worker.terminate();
      }),
    );
  }
}

/**
 * Runs the synthesized function bundles locally, each in isolated worker-thread
 * execution environments, honouring the template's timeout.
 */
export class LambdaHost implements LambdaInvoker {
  private readonly pools = new Map<string, FunctionPool>();
  private readonly observers = new Set<InvocationObserver>();

  constructor(functions: readonly LocalFunction[], options: LambdaHostOptions = {}) {
    for (const fn of functions) {
      const pool = new FunctionPool(
        fn,
        options.maxInstancesPerFunction ?? 4,
        options.environmentIdleSeconds ?? DEFAULT_ENVIRONMENT_IDLE_SECONDS,
        options.output,
        options.faults?.[fn.logicalId],
      );
      this.pools.set(fn.logicalId, pool);
    }
  }

  invoke(functionId: string, event: unknown): Promise<unknown> {
    const pool = this.pools.get(functionId);
    if (!pool) return Promise.reject(new Error(`No local function ${functionId}`));
    return this.observers.size === 0 ? pool.invoke(event) : this.invokeObserved(pool, functionId, event);
  }

  /** Reports every invocation from now on to `observer`; the returned function stops it. */
  observe(observer: InvocationObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /**
   * CPU time of every live execution environment's thread since it started (benchmarks: sample
   * twice and subtract by threadId). An environment retired in between is missing from the later sample.
   */
  async cpuUsage(): Promise<EnvironmentCpuUsage[]> {
    const samples = [...this.pools.entries()].flatMap(([functionId, pool]) =>
      pool.live().map(async (instance) => {
        try {
          const { user, system } = await instance.worker.cpuUsage();
          return [{ functionId, threadId: instance.worker.threadId, userMicros: user, systemMicros: system }];
        } catch {
          // The thread stopped meanwhile.
          return [];
        }
      }),
    );
    return (await Promise.all(samples)).flat();
  }

  /** The V8 heap of every live execution environment (benchmarks: where the process's memory goes). */
  async memoryUsage(): Promise<EnvironmentMemoryUsage[]> {
    const samples = [...this.pools.entries()].flatMap(([functionId, pool]) =>
      pool.live().map(async (instance) => {
        try {
          const heap = await instance.worker.getHeapStatistics();
          return [
            {
              functionId,
              threadId: instance.worker.threadId,
              heapTotal: heap.total_heap_size,
              heapUsed: heap.used_heap_size,
              external: heap.external_memory,
              malloced: heap.malloced_memory,
              heapLimit: heap.heap_size_limit,
            },
          ];
        } catch {
          // The thread stopped meanwhile.
          return [];
        }
      }),
    );
    return (await Promise.all(samples)).flat();
  }

  private async invokeObserved(pool: FunctionPool, functionId: string, event: unknown): Promise<unknown> {
    // Those watching when the invocation starts see it end, even if they stop watching meanwhile.
    const observers = [...this.observers];
    const startedAt = performance.now();
    for (const observer of observers) observer.started?.(functionId, event);
    let outcome: InvocationOutcome;
    try {
      outcome = { ok: true, result: await pool.invoke(event) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const durationMs = performance.now() - startedAt;
    for (const observer of observers) observer.finished?.(functionId, event, outcome, durationMs);
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }
}
