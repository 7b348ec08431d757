import { createRequire } from "node:module";
import type { Server } from "node:http";
import { startFauxqs } from "fauxqs";
import { boundPort, closeNow, listen, portError } from "../net.ts";

const require = createRequire(import.meta.url);

export interface RunningEmulator {
  /** Endpoint for the SDK (`AWS_ENDPOINT_URL_*`), e.g. http://127.0.0.1:8000. */
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}
type Dynalite = (options: DynaliteOptions) => Server;

/**
 * DynamoDB via dynalite (pure npm, LevelDB on disk or in memory). Tables become ACTIVE at
 * once, so provisioning never waits.
 */
export async function startDynamoDb(options: { host: string; port: number; dataDir?: string }): Promise<RunningEmulator> {
  const dynalite = require("dynalite") as Dynalite;
  const server = dynalite({
    ...(options.dataDir ? { path: options.dataDir } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await listen(server, options.host, options.port, "DynamoDB emulator");
  const port = boundPort(server);
  return { endpoint: `http://${options.host}:${port}`, port, close: () => closeNow(server) };
}

/** SQS via fauxqs, persisted in SQLite under `dataDir` when given. */
export async function startSqs(options: { host: string; port: number; dataDir?: string }): Promise<RunningEmulator> {
  let server: Awaited<ReturnType<typeof startFauxqs>>;
  try {
    server = await startFauxqs({
      port: options.port,
      logger: false,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    });
  } catch (error) {
    throw portError(error, options.host, options.port, "SQS emulator");
  }
  return {
    endpoint: `http://${options.host}:${server.port}`,
    port: server.port,
    close: () => server.stop(),
  };
}
