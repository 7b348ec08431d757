// One Lambda execution environment: a worker thread with its own process.env that loads
// one function bundle once and runs one invocation at a time, as a Lambda sandbox does.
// Plain JavaScript on purpose: it runs the same under tsx, vitest and plain node.
import { parentPort, workerData } from "node:worker_threads";
import { pathToFileURL } from "node:url";

process.setSourceMapsEnabled(true);

/** @type {((event: unknown, context: object) => Promise<unknown>) | undefined} */
let handler;
/** @type {unknown} */
let initError;
try {
  const module = await import(pathToFileURL(workerData.handlerFile).href);
  handler = module[workerData.handlerExport];
  if (typeof handler !== "function") {
    throw new Error(`${workerData.handlerFile} exports no function named ${workerData.handlerExport}`);
  }
} catch (error) {
  initError = error;
}

function describe(error) {
  const e = error instanceof Error ? error : new Error(String(error));
  return { errorType: e.name, errorMessage: e.message, stack: e.stack };
}

parentPort.on("message", async (message) => {
  if (initError !== undefined) {
    parentPort.postMessage({ id: message.id, ok: false, error: { ...describe(initError), errorType: "Runtime.ImportModuleError" } });
    return;
  }
  const context = {
    ...message.context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
  };
  try {
    const value = await handler(message.event, context);
    // Lambda returns the result as JSON; so does the local host (undefined becomes null).
    parentPort.postMessage({ id: message.id, ok: true, value: JSON.parse(JSON.stringify(value ?? null)) });
  } catch (error) {
    parentPort.postMessage({ id: message.id, ok: false, error: describe(error) });
  }
});
