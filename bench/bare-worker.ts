import { parentPort, workerData } from "node:worker_threads";
import { runBareLoop, type BareLoopOptions } from "./bare-loop.ts";

// Worker entry of runBareLoopInWorker: one run, its result posted back, then the thread ends.
const result = await runBareLoop(workerData as BareLoopOptions);
parentPort?.postMessage(result);
