import { execFileSync } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LambdaHost, LambdaInvocationError, type LocalFunction } from "../../lib/local-aws/lambda/lambda-host.ts";
import { eventually } from "../support/eventually.ts";

const fixtures = path.join(import.meta.dirname, "..", "fixtures", "handlers");
const fn = (logicalId: string, file: string, extra: Partial<LocalFunction> = {}): LocalFunction => ({
  logicalId,
  functionName: logicalId,
  functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${logicalId}`,
  handlerFile: path.join(fixtures, file),
  handlerExport: "handler",
  environment: {},
  timeoutSeconds: 2,
  memorySize: 128,
  ...extra,
});

let host: LambdaHost | undefined;
afterEach(async () => host?.close());

describe("the Lambda host", () => {
  it("returns the handler's result as JSON and reuses a warm environment", async () => {
    host = new LambdaHost([fn("A", "behaviours.mjs", { environment: { ONLY_HERE: "a" } })]);
    const first = (await host.invoke("A", { action: "echo", n: 1 })) as Record<string, unknown>;
    expect(first).toMatchObject({ event: { action: "echo", n: 1 }, env: "a", invocations: 1 });
    expect(first["remaining"]).toBeGreaterThan(1000);
    expect(await host.invoke("A", { action: "echo" })).toMatchObject({ invocations: 2 });
    expect(await host.invoke("A", { action: "nothing" })).toBeNull();
  });

  it("keeps each function's environment to itself", async () => {
    host = new LambdaHost([
      fn("A", "behaviours.mjs", { environment: { ONLY_HERE: "a" } }),
      fn("B", "behaviours.mjs", { environment: {} }),
    ]);
    await host.invoke("A", { action: "mutate-env" });
    expect(await host.invoke("A", { action: "echo" })).toMatchObject({ env: "changed" });
    expect(await host.invoke("B", { action: "echo" })).toMatchObject({ env: null });
    expect(process.env["ONLY_HERE"]).toBeUndefined();
  });

  it("reports a thrown error as Lambda does", async () => {
    host = new LambdaHost([fn("A", "behaviours.mjs")]);
    const error = await host.invoke("A", { action: "throw" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LambdaInvocationError);
    expect(error).toMatchObject({ errorType: "TypeError", message: "A failed: TypeError: asked to throw" });
  });

  it("stops an invocation at the timeout and starts a fresh environment afterwards", async () => {
    host = new LambdaHost([fn("A", "behaviours.mjs", { timeoutSeconds: 1 })]);
    await host.invoke("A", { action: "echo" });
    await expect(host.invoke("A", { action: "sleep", ms: 3000 })).rejects.toMatchObject({
      errorType: "Sandbox.Timedout",
    });
    expect(await host.invoke("A", { action: "echo" })).toMatchObject({ invocations: 1 });
  });

  it("survives a handler that exits its process", async () => {
    host = new LambdaHost([fn("A", "behaviours.mjs")]);
    await expect(host.invoke("A", { action: "exit" })).rejects.toMatchObject({ errorType: "Runtime.ExitError" });
    expect(await host.invoke("A", { action: "echo" })).toMatchObject({ invocations: 1 });
  });

  it("reports a bundle that fails to load", async () => {
    host = new LambdaHost([fn("A", "broken.mjs")]);
    await expect(host.invoke("A", {})).rejects.toMatchObject({ errorType: "Runtime.ImportModuleError" });
  });

  it("runs at most maxInstancesPerFunction invocations at once", async () => {
    host = new LambdaHost([fn("A", "behaviours.mjs")], { maxInstancesPerFunction: 2 });
    const started = Date.now();
    await Promise.all([1, 2, 3, 4].map(() => host!.invoke("A", { action: "sleep", ms: 300 })));
    const elapsed = Date.now() - started;
    // Four 300 ms invocations on two environments take two rounds.
    expect(elapsed).toBeGreaterThanOrEqual(600);
  });

  it("gives handlers the stack a Lambda function's main thread has, not a worker thread's larger default", async () => {
    host = new LambdaHost([fn("A", "behaviours.mjs")]);
    const { depth } = (await host.invoke("A", { action: "depth" })) as { depth: number };
    // The same recursion on a fresh main thread of this node, as Lambda runs handlers.
    const script = "let d=0;const f=()=>{d++;f()};try{f()}catch{};console.log(d)";
    const mainThread = Number(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }).trim());
    expect(depth / mainThread).toBeGreaterThan(0.8);
    expect(depth / mainThread).toBeLessThan(1.25);
  });

  it("reports the CPU each live execution environment's thread has used", async () => {
    host = new LambdaHost([fn("A", "behaviours.mjs"), fn("B", "behaviours.mjs")]);
    expect(await host.cpuUsage()).toEqual([]);
    await host.invoke("A", { action: "depth" });
    const [usage, ...others] = await host.cpuUsage();
    expect(others).toEqual([]);
    expect(usage).toMatchObject({ functionId: "A", threadId: expect.any(Number) });
    expect(usage!.userMicros + usage!.systemMicros).toBeGreaterThan(0);
  });

  it("fails an invocation that outgrows the function's memory as Lambda's out-of-memory, and starts a fresh environment afterwards", async () => {
    host = new LambdaHost([fn("A", "behaviours.mjs", { memorySize: 128, timeoutSeconds: 30 })]);
    await host.invoke("A", { action: "echo" });
    const [environment] = await host.memoryUsage();
    // Lambda's Node.js runtime gives the old generation 90 % of the function's memory.
    expect(environment!.heapLimit).toBeLessThan(160 * 2 ** 20);
    const error = await host.invoke("A", { action: "exhaust-memory" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LambdaInvocationError);
    expect(error).toMatchObject({ errorType: "Runtime.OutOfMemory" });
    expect((error as Error).message).toMatch(/more than its 128 MB \(JavaScript heap out of memory\)/);
    expect(await host.invoke("A", { action: "echo" })).toMatchObject({ invocations: 1 });
  });

  it("retires an environment left idle for the idle period; the next invocation cold-starts a fresh one", async () => {
    host = new LambdaHost([fn("A", "behaviours.mjs")], { environmentIdleSeconds: 1 });
    // Busy past the idle period: an environment in use is never retired.
    await host.invoke("A", { action: "sleep", ms: 1500 });
    expect(await host.invoke("A", { action: "echo" })).toMatchObject({ invocations: 2 });
    const live = host;
    await eventually(async () => ((await live.memoryUsage()).length === 0 ? true : undefined));
    expect(await host.invoke("A", { action: "echo" })).toMatchObject({ invocations: 1 });
    expect(await host.memoryUsage()).toHaveLength(1);
  });

  it("keeps idle environments for good with an idle period of 0", async () => {
    host = new LambdaHost([fn("A", "behaviours.mjs")], { environmentIdleSeconds: 0 });
    await host.invoke("A", { action: "echo" });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await host.invoke("A", { action: "echo" })).toMatchObject({ invocations: 2 });
  });

  it("refuses an unknown function", async () => {
    host = new LambdaHost([]);
    await expect(host.invoke("Nope", {})).rejects.toThrow(/No local function Nope/);
  });
});
