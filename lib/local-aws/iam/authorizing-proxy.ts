import { createServer, request as forward, type IncomingMessage, type ServerResponse } from "node:http";
import { boundPort, closeNow, listen } from "../net.ts";
import type { AuthorizedApi, RequestedAccess } from "./requests.ts";

/** A call the proxy refuses: its answer, already in the service's error shape. */
export interface Refusal {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Decides one call: `accessKeyId` from its SigV4 Authorization header (undefined when
 * unsigned), `access` what its operation and body ask for (undefined when the request is not
 * in the JSON protocol). Undefined lets it through.
 */
export type Authorize = (accessKeyId: string | undefined, access: readonly RequestedAccess[] | undefined) => Refusal | undefined;

/** One call the proxy forwarded, as the emulator answered it (refused calls are not reported). */
export interface ProxiedCall {
  /** The `X-Amz-Target` operation; undefined when the request is not in the JSON protocol. */
  readonly operation: string | undefined;
  readonly accessKeyId: string | undefined;
  readonly requestBody: Buffer;
  readonly status: number;
  /** As the emulator sent it (`content-encoding` says whether it is compressed). */
  readonly responseBody: Buffer;
  readonly responseHeaders: Readonly<Record<string, string | string[] | undefined>>;
}

export interface AuthorizingProxy {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of one emulator: reads who calls (the access key id) and what
 * they ask for (the `X-Amz-Target` operation and the JSON body's resources), lets
 * `authorize` answer the refusal, and forwards everything else unchanged, Host header
 * included so the emulator's URLs name the proxy.
 */
export async function startAuthorizingProxy(options: {
  readonly api: AuthorizedApi;
  readonly emulatorEndpoint: string;
  readonly host: string;
  readonly port: number;
  readonly what: string;
  readonly authorize: Authorize;
  /** Asked per call; when it answers a function, that call is reported to it once answered. */
  readonly reporter?: () => ((call: ProxiedCall) => void) | undefined;
}): Promise<AuthorizingProxy> {
  const upstream = new URL(options.emulatorEndpoint);
  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
      response.end(`local authorizing proxy: ${(error as Error).message}`);
    });
  });
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = Buffer.concat(await request.toArray());
    const accessKeyId = accessKeyIdOf(request);
    const refusal = options.authorize(accessKeyId, accessOf(options.api, request, body));
    if (refusal) {
      response.writeHead(refusal.status, refusal.headers).end(refusal.body);
      return;
    }
    const proxied = forward({
      host: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers: request.headers,
    });
    // A caller that gives up (an aborted long poll) ends the emulator's request too.
    response.on("close", () => {
      if (!response.writableFinished) proxied.destroy();
    });
    const report = options.reporter?.();
    proxied.on("response", (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      if (report) {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () =>
          report({
            operation: operationOf(options.api, request),
            accessKeyId,
            requestBody: body,
            status: answer.statusCode ?? 502,
            responseBody: Buffer.concat(chunks),
            responseHeaders: answer.headers,
          }),
        );
      }
      answer.pipe(response);
    });
    proxied.on("error", (error) => {
      if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
      response.end(`local authorizing proxy: ${error.message}`);
    });
    proxied.end(body);
  }
  await listen(server, options.host, options.port, options.what);
  return { endpoint: `http://${options.host}:${boundPort(server)}`, close: () => closeNow(server) };
}

function accessKeyIdOf(request: IncomingMessage): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(request.headers.authorization ?? "")?.[1];
}

function operationOf(api: AuthorizedApi, request: IncomingMessage): string | undefined {
  const target = request.headers["x-amz-target"];
  return typeof target === "string" && target.startsWith(`${api.targetPrefix}.`) ? target.slice(api.targetPrefix.length + 1) : undefined;
}

function accessOf(api: AuthorizedApi, request: IncomingMessage, body: Buffer): RequestedAccess[] | undefined {
  const operation = operationOf(api, request);
  if (operation === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  return api.access(operation, (parsed ?? {}) as Record<string, unknown>);
}
