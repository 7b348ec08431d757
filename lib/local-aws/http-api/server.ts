import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { LambdaInvoker } from "../lambda/lambda-host.ts";
import { boundPort, listen } from "../net.ts";
import type { GatewayRequest } from "./events.ts";
import { handleRequest, type GatewayFailure, type GatewayHandler } from "./handler.ts";
import { gatewayError, type GatewayResponse } from "./responses.ts";
import { compileRoutes, type GatewayRoute, type RouteTable } from "./routes.ts";

/**
 * A local stand-in for an API Gateway HTTP API (v2): Lambda proxy integrations with payload
 * format 2.0 and REQUEST Lambda authorizers with simple responses. The pure modules next to
 * this one (routes, events, authorizer, responses, handler) carry the AWS semantics; the
 * server only moves bytes.
 */

export interface HttpGatewayOptions {
  readonly routes: readonly GatewayRoute[];
  readonly invoker: LambdaInvoker;
  /** Default `"127.0.0.1"`. */
  readonly host?: string;
  /** `0` picks an ephemeral port. */
  readonly port: number;
  readonly apiId: string;
  readonly region: string;
  readonly accountId: string;
  /** Default 10 MiB, API Gateway's payload limit; larger bodies get a 413. */
  readonly maxBodyBytes?: number;
  /** AWS only shows these in its logs; locally they would otherwise be a bare 500. */
  readonly onError?: (failure: GatewayFailure) => void;
}

export interface HttpGateway {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  close(): Promise<void>;
}

/** A gateway that listens before its routes are known; requests wait until {@link serve}. */
export interface OpenHttpGateway extends HttpGateway {
  serve(routes: RouteTable): void;
}

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Percent-decodes the path as HTTP APIs do; undefined for a target AWS would reject with 400. */
export function parseRequestTarget(target: string): { path: string; rawQueryString: string } | undefined {
  const query = target.indexOf("?");
  const rawPath = query === -1 ? target : target.slice(0, query);
  if (!rawPath.startsWith("/")) return undefined;
  try {
    return { path: decodeURIComponent(rawPath), rawQueryString: query === -1 ? "" : target.slice(query + 1) };
  } catch {
    return undefined;
  }
}

/** Same shape as AWS's request ids (`ATfSmjLgPHcESJw=`). */
function newRequestId(): string {
  return randomBytes(11).toString("base64");
}

const TOO_LARGE = Symbol("too large");

/** Buffers the body, giving up (and no longer keeping data) once it exceeds the limit. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | typeof TOO_LARGE> {
  if (Number(req.headers["content-length"]) > limit) return Promise.resolve(TOO_LARGE);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData).off("end", onEnd);
        resolve(TOO_LARGE);
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = () => resolve(Buffer.concat(chunks, size));
    req.on("data", onData).once("end", onEnd).once("error", reject);
  });
}

/** Compiles the routes first, so that a bad route table fails before anything listens. */
export async function startHttpGateway(options: HttpGatewayOptions): Promise<HttpGateway> {
  const routes = compileRoutes(options.routes);
  const gateway = await openHttpGateway(options);
  gateway.serve(routes);
  return gateway;
}

/**
 * Listens at once and serves once given its routes: a stack's routes are resolved against
 * the API's own URL, which exists only once the gateway listens.
 */
export async function openHttpGateway(options: Omit<HttpGatewayOptions, "routes">): Promise<OpenHttpGateway> {
  const host = options.host ?? "127.0.0.1";
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let serve: (routes: RouteTable) => void = () => undefined;
  const gateway = new Promise<GatewayHandler>((resolve) => {
    serve = (routes) =>
      resolve({
        routes,
        invoker: options.invoker,
        api: { apiId: options.apiId, region: options.region, accountId: options.accountId },
        ...(options.onError && { onError: options.onError }),
      });
  });
  let closing = false;

  const server = createServer((req, res) => {
    const requestId = newRequestId();
    const receivedAt = new Date();
    const send = (response: GatewayResponse, closeConnection = false) => {
      const headers = response.headers.flat();
      headers.push("apigw-requestid", requestId);
      // 204 and 304 must not carry a length (RFC 9110 §8.6).
      if (response.status !== 204 && response.status !== 304) {
        headers.push("content-length", String(response.body.length));
      }
      // An unread body, or a gateway shutting down, makes the connection unfit for reuse.
      if (closeConnection || closing) headers.push("connection", "close");
      res.writeHead(response.status, headers).end(response.body);
    };
    void (async () => {
      const body = await readBody(req, maxBodyBytes);
      if (body === TOO_LARGE) return send(gatewayError(413), true);
      const target = parseRequestTarget(req.url ?? "");
      if (!target) return send(gatewayError(400));
      const request: GatewayRequest = {
        requestId,
        receivedAt,
        method: req.method ?? "GET",
        ...target,
        headers: pairs(req.rawHeaders),
        body,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: (req.socket.remoteAddress ?? "").replace(/^::ffff:/, ""),
        localPort: req.socket.localPort ?? options.port,
      };
      send(await handleRequest(request, await gateway));
    })().catch(() => {
      // Mostly a client that hung up mid-body, with nobody left to answer.
      if (res.headersSent || res.destroyed) res.destroy();
      else send(gatewayError(500), true);
    });
  });

  await listen(server, host, options.port, "API");
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${boundPort(server)}`,
    serve,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // server.close() drops idle keep-alive sockets; responses still in flight must close
        // theirs too, or close() waits for them to time out.
        closing = true;
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function pairs(rawHeaders: readonly string[]): [string, string][] {
  const result: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) result.push([rawHeaders[i] ?? "", rawHeaders[i + 1] ?? ""]);
  return result;
}
