import { parentPort, workerData } from "node:worker_threads";
import { signedPostLoop, type LoopOptions } from "./baseline.ts";

// Worker entry of the baseline's worker-thread variant: one loop, its result posted back, then the thread ends.
const result = await signedPostLoop(workerData as LoopOptions);
parentPort?.postMessage(result);
