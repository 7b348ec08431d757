import type { Server as HttpServer } from "node:http";
import { createServer, type Server } from "node:net";

/**
 * Listens on host:port, turning EADDRINUSE into an error that names what wanted the port
 * (`DynamoDB emulator port 127.0.0.1:8000 is busy: …`) instead of a bare errno.
 */
export async function listen(server: Server, host: string, port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: unknown) => reject(portError(error, host, port, what));
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

export function portError(error: unknown, host: string, port: number, what: string): Error {
  const code = (error as { code?: string } | undefined)?.code;
  if (code === "EADDRINUSE") {
    return new Error(`${what} port ${host}:${port} is busy: another process is listening there (choose another port)`, {
      cause: error,
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** The port `server` listens on (after {@link listen}). */
export function boundPort(server: Server): number {
  return (server.address() as { port: number }).port;
}

/** Stops accepting and drops open connections, idle or not: for servers nobody waits on. */
export function closeNow(server: HttpServer): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A port nothing listens on right now (for a process that takes its port as a number). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = createServer();
  await listen(server, host, 0, "probe");
  const port = boundPort(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
