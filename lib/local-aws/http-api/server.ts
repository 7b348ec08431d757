import { randomBytes } from "node:crypto";
import { createServer, validateHeaderName, validateHeaderValue, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type {
  APIGatewayEventRequestContextV2,
  APIGatewayProxyEventV2WithRequestContext,
  APIGatewayRequestAuthorizerEventV2,
} from "aws-lambda";
import type { LambdaInvoker } from "../lambda/lambda-host.ts";

/**
 * A local stand-in for an API Gateway HTTP API (v2): Lambda proxy integrations with payload
 * format 2.0 and REQUEST Lambda authorizers with simple responses. The pure functions below
 * (route matching, event building, response mapping) carry the AWS semantics; the server at
 * the bottom only moves bytes.
 */

export interface GatewayAuthorizer {
  /** Logical id of the authorizer Lambda. */
  readonly functionId: string;
  /** Identity sources, e.g. `["$request.header.Authorization"]`; may be empty. */
  readonly identitySource: readonly string[];
  /** Only simple responses are emulated; `false` is rejected at start. */
  readonly enableSimpleResponses: boolean;
}

export interface GatewayRoute {
  /** `"GET /webhooks/events"`, `"PUT /a/{id}"`, `"ANY /x/{proxy+}"` or `"$default"`. */
  readonly routeKey: string;
  /** Logical id of the integration Lambda. */
  readonly functionId: string;
  readonly authorizer?: GatewayAuthorizer;
}

/** A Lambda call that ended in the gateway's 500: it threw, or returned what AWS would reject. */
export interface GatewayFailure {
  readonly requestId: string;
  readonly routeKey: string;
  readonly functionId: string;
  readonly error: unknown;
}

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

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
const STAGE = "$default";

// ---------------------------------------------------------------------------------------------
// Routes

type Segment =
  | { readonly kind: "literal"; readonly value: string }
  | { readonly kind: "param" | "greedy"; readonly name: string };

interface IdentitySource {
  readonly from: "header" | "querystring";
  readonly name: string;
}

export interface ResolvedAuthorizer {
  readonly functionId: string;
  readonly identitySource: readonly IdentitySource[];
}

export interface ResolvedRoute {
  readonly routeKey: string;
  readonly functionId: string;
  readonly authorizer?: ResolvedAuthorizer;
}

interface PathRoute {
  readonly route: ResolvedRoute;
  readonly method: string;
  readonly segments: readonly Segment[];
  /** Lower sorts first; see `specificity`. */
  readonly rank: readonly number[];
}

export interface RouteTable {
  readonly paths: readonly PathRoute[];
  readonly fallback?: ResolvedRoute;
}

export interface RouteMatch {
  readonly route: ResolvedRoute;
  readonly pathParameters?: Readonly<Record<string, string>>;
}

const ROUTE_KEY = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) (\/\S*)$/;
const VARIABLE = /^\{([^{}+]+)(\+?)\}$/;
const IDENTITY_SOURCE = /^\$request\.(header|querystring)\.(.+)$/;
const SEGMENT_RANK = { literal: 0, param: 1, greedy: 2 } as const;

/** Validates the route table once, so that a bad template fails at start, not per request. */
export function compileRoutes(routes: readonly GatewayRoute[]): RouteTable {
  const paths: PathRoute[] = [];
  let fallback: ResolvedRoute | undefined;
  const seen = new Set<string>();
  for (const route of routes) {
    if (seen.has(route.routeKey)) throw new Error(`Duplicate route key "${route.routeKey}"`);
    seen.add(route.routeKey);
    const resolved: ResolvedRoute = {
      routeKey: route.routeKey,
      functionId: route.functionId,
      ...(route.authorizer && { authorizer: resolveAuthorizer(route.routeKey, route.authorizer) }),
    };
    if (route.routeKey === "$default") {
      fallback = resolved;
      continue;
    }
    const parsed = ROUTE_KEY.exec(route.routeKey);
    if (!parsed) throw new Error(`Unsupported route key "${route.routeKey}"`);
    const [, method = "", path = ""] = parsed;
    const segments = path.slice(1).split("/").map(parseSegment);
    if (segments.some((segment, index) => segment.kind === "greedy" && index !== segments.length - 1)) {
      throw new Error(`Route "${route.routeKey}": a greedy path variable must be the last segment`);
    }
    paths.push({ route: resolved, method, segments, rank: specificity(method, segments) });
  }
  return { paths, ...(fallback && { fallback }) };
}

function parseSegment(text: string): Segment {
  const variable = VARIABLE.exec(text);
  if (!variable) return { kind: "literal", value: text };
  const [, name = "", greedy] = variable;
  return { kind: greedy ? "greedy" : "param", name };
}

function resolveAuthorizer(routeKey: string, authorizer: GatewayAuthorizer): ResolvedAuthorizer {
  if (!authorizer.enableSimpleResponses) {
    throw new Error(
      `Route "${routeKey}": authorizer ${authorizer.functionId} uses IAM policy responses, which are unsupported; enable simple responses`,
    );
  }
  const identitySource = authorizer.identitySource.map((expression): IdentitySource => {
    const parsed = IDENTITY_SOURCE.exec(expression);
    if (!parsed) throw new Error(`Route "${routeKey}": identity source "${expression}" is unsupported`);
    const [, from, name = ""] = parsed;
    // Header names are case-insensitive and the event's are lower-cased; query names are not.
    return from === "header" ? { from, name: name.toLowerCase() } : { from: "querystring", name };
  });
  return { functionId: authorizer.functionId, identitySource };
}

/**
 * API Gateway prefers a full match over one through a greedy variable; among those, a literal
 * segment over a variable, comparing left to right; and last, an explicit method over ANY.
 */
function specificity(method: string, segments: readonly Segment[]): number[] {
  const greedy = segments.some((segment) => segment.kind === "greedy");
  return [greedy ? 1 : 0, ...segments.map((segment) => SEGMENT_RANK[segment.kind]), method === "ANY" ? 1 : 0];
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  // Two matching routes always differ before the shorter rank ends: a greedy segment sits
  // where the other route has a literal or a variable.
  return 0;
}

/** Selects the route for a request; `path` is already percent-decoded, as AWS matches it. */
export function matchRoute(table: RouteTable, method: string, path: string): RouteMatch | undefined {
  const parts = path.slice(1).split("/");
  let best: { readonly candidate: PathRoute; readonly pathParameters: Record<string, string> } | undefined;
  for (const candidate of table.paths) {
    if (candidate.method !== method && candidate.method !== "ANY") continue;
    const pathParameters = matchSegments(candidate.segments, parts);
    if (pathParameters && (!best || compareRanks(candidate.rank, best.candidate.rank) < 0)) {
      best = { candidate, pathParameters };
    }
  }
  if (best) {
    const hasParameters = Object.keys(best.pathParameters).length > 0;
    return { route: best.candidate.route, ...(hasParameters && { pathParameters: best.pathParameters }) };
  }
  return table.fallback && { route: table.fallback };
}

function matchSegments(segments: readonly Segment[], parts: readonly string[]): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    if (segment.kind === "greedy") {
      const rest = parts.slice(index).join("/");
      if (rest === "") return undefined;
      parameters[segment.name] = rest;
      return parameters;
    }
    const part = parts[index];
    if (part === undefined) return undefined;
    if (segment.kind === "literal") {
      if (part !== segment.value) return undefined;
    } else {
      if (part === "") return undefined;
      parameters[segment.name] = part;
    }
  }
  // Unequal lengths also keep "/a/" apart from "/a", as AWS does.
  return parts.length === segments.length ? parameters : undefined;
}

// ---------------------------------------------------------------------------------------------
// Events

/** What the server read off the wire, in one immutable snapshot. */
export interface GatewayRequest {
  readonly requestId: string;
  readonly receivedAt: Date;
  readonly method: string;
  /** Percent-decoded, as HTTP APIs deliver `rawPath`. */
  readonly path: string;
  /** As sent, still percent-encoded. */
  readonly rawQueryString: string;
  /** Name/value pairs as sent, repeats included. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  readonly protocol: string;
  readonly sourceIp: string;
  readonly localPort: number;
}

export interface ApiIdentity {
  readonly apiId: string;
  readonly region: string;
  readonly accountId: string;
}

export type IntegrationEvent = APIGatewayProxyEventV2WithRequestContext<
  APIGatewayEventRequestContextV2 & { authorizer?: { lambda: unknown } }
>;

/** Like the published type, except that `cookies` is absent without cookies, as in the proxy event. */
export type AuthorizerEvent = Omit<APIGatewayRequestAuthorizerEventV2, "cookies"> & { cookies?: string[] };

/** The parts both the authorizer and the integration event share. */
export interface RequestDescription {
  readonly routeKey: string;
  readonly rawPath: string;
  readonly rawQueryString: string;
  readonly cookies?: string[];
  readonly headers: Record<string, string>;
  readonly queryStringParameters?: Record<string, string>;
  readonly requestContext: APIGatewayEventRequestContextV2;
  readonly pathParameters?: Record<string, string>;
}

// Connection-scoped headers end at the gateway's front door; AWS does not forward them.
const HOP_BY_HOP = new Set(["connection", "keep-alive"]);
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export function describeRequest(request: GatewayRequest, match: RouteMatch, api: ApiIdentity): RequestDescription {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [rawName, value] of request.headers) {
    const name = rawName.toLowerCase();
    if (name === "cookie") {
      cookies.push(...value.split(";").map((cookie) => cookie.trim()).filter((cookie) => cookie !== ""));
    } else if (!HOP_BY_HOP.has(name)) {
      const previous = headers[name];
      headers[name] = previous === undefined ? value : `${previous},${value}`;
    }
  }
  // The headers AWS's own front end adds, as seen in real events.
  const forwardedFor = headers["x-forwarded-for"];
  headers["x-forwarded-for"] = forwardedFor ? `${forwardedFor}, ${request.sourceIp}` : request.sourceIp;
  headers["x-forwarded-port"] = String(request.localPort);
  headers["x-forwarded-proto"] = "http";

  const queryStringParameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(request.rawQueryString)) {
    const previous = queryStringParameters[name];
    queryStringParameters[name] = previous === undefined ? value : `${previous},${value}`;
  }

  const domainName = headers["host"] ?? "";
  return {
    routeKey: match.route.routeKey,
    rawPath: request.path,
    rawQueryString: request.rawQueryString,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(Object.keys(queryStringParameters).length > 0 && { queryStringParameters }),
    requestContext: {
      accountId: api.accountId,
      apiId: api.apiId,
      domainName,
      domainPrefix: domainName.replace(/:\d+$/, "").split(".")[0] ?? "",
      http: {
        method: request.method,
        path: request.path,
        protocol: request.protocol,
        sourceIp: request.sourceIp,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: request.requestId,
      routeKey: match.route.routeKey,
      stage: STAGE,
      time: formatRequestTime(request.receivedAt),
      timeEpoch: request.receivedAt.getTime(),
    },
    ...(match.pathParameters && { pathParameters: { ...match.pathParameters } }),
  };
}

/** `24/Nov/2026:12:00:00 +0000`, the CLF-style time of `requestContext.time`. */
export function formatRequestTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const day = `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}`;
  return `${day}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** HTTP APIs pass these bodies as UTF-8 text and base64-encode all others. */
export function isTextContentType(contentType: string | undefined): boolean {
  const mediaType = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return (
    mediaType === "" ||
    mediaType.startsWith("text/") ||
    mediaType === "application/json" ||
    mediaType === "application/xml" ||
    mediaType === "application/x-www-form-urlencoded" ||
    /^application\/[^/]+\+json$/.test(mediaType)
  );
}

export function integrationEvent(
  description: RequestDescription,
  body: Buffer,
  authorizerContext?: unknown,
): IntegrationEvent {
  const text = isTextContentType(description.headers["content-type"]);
  const { pathParameters, requestContext, ...request } = description;
  return {
    version: "2.0",
    ...request,
    requestContext: {
      ...requestContext,
      ...(authorizerContext !== undefined && { authorizer: { lambda: authorizerContext } }),
    },
    ...(body.length > 0 && { body: body.toString(text ? "utf8" : "base64") }),
    ...(pathParameters && { pathParameters }),
    isBase64Encoded: body.length > 0 && !text,
  };
}

/**
 * The identity source values, or undefined when one is missing or empty: API Gateway then
 * answers 401 without calling the authorizer.
 */
export function identityValues(
  description: RequestDescription,
  sources: readonly IdentitySource[],
): string[] | undefined {
  const values: string[] = [];
  for (const source of sources) {
    const value =
      source.from === "header" ? description.headers[source.name] : description.queryStringParameters?.[source.name];
    if (!value) return undefined;
    values.push(value);
  }
  return values;
}

export function authorizerEvent(
  description: RequestDescription,
  identitySource: string[],
  api: ApiIdentity,
): AuthorizerEvent {
  const { method, path } = description.requestContext.http;
  const { routeKey, rawPath, rawQueryString, cookies, headers, queryStringParameters, requestContext, pathParameters } =
    description;
  return {
    version: "2.0",
    type: "REQUEST",
    routeArn: `arn:aws:execute-api:${api.region}:${api.accountId}:${api.apiId}/${STAGE}/${method}${path}`,
    identitySource,
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies && { cookies }),
    headers,
    ...(queryStringParameters && { queryStringParameters }),
    requestContext,
    ...(pathParameters && { pathParameters }),
  };
}

// ---------------------------------------------------------------------------------------------
// Responses

export interface GatewayResponse {
  readonly status: number;
  /** Name/value pairs; a name may repeat (`set-cookie`). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
}

const GATEWAY_MESSAGES = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  413: "Request Entity Too Large",
  500: "Internal Server Error",
} as const;

/** The gateway's own answers, with the bodies AWS sends. */
export function gatewayError(status: keyof typeof GATEWAY_MESSAGES): GatewayResponse {
  return jsonResponse(status, JSON.stringify({ message: GATEWAY_MESSAGES[status] }));
}

function jsonResponse(status: number, body: string): GatewayResponse {
  return { status, headers: [["content-type", "application/json"]], body: Buffer.from(body) };
}

// The server frames the body itself; a Lambda's idea of the framing would corrupt the stream.
const FRAMING_HEADERS = new Set(["content-length", "transfer-encoding", "connection"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Maps a payload 2.0 integration result as AWS does. Throws on a result AWS would reject, for
 * which the gateway answers 500.
 */
export function integrationResponse(result: unknown): GatewayResponse {
  // Without a statusCode, AWS infers a 200 JSON response from whatever the function returned.
  if (!isRecord(result) || result["statusCode"] === undefined) {
    return jsonResponse(200, typeof result === "string" ? result : JSON.stringify(result ?? null));
  }
  const { statusCode, headers = {}, cookies = [], body = "", isBase64Encoded = false } = result;
  if (typeof statusCode !== "number" || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new Error(`Malformed integration response: statusCode ${JSON.stringify(statusCode)}`);
  }
  if (!isRecord(headers)) throw new Error("Malformed integration response: headers is not an object");
  if (!Array.isArray(cookies) || !cookies.every((cookie) => typeof cookie === "string")) {
    throw new Error("Malformed integration response: cookies is not an array of strings");
  }
  if (typeof body !== "string") throw new Error("Malformed integration response: body is not a string");
  if (typeof isBase64Encoded !== "boolean") {
    throw new Error("Malformed integration response: isBase64Encoded is not a boolean");
  }
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (FRAMING_HEADERS.has(name.toLowerCase())) continue;
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw new Error(`Malformed integration response: header ${name} is not a string, number or boolean`);
    }
    pairs.push([name, String(value)]);
  }
  // The cookies array comes first, then any Set-Cookie the function put in its headers.
  const setCookies: [string, string][] = cookies.map((cookie: string) => ["set-cookie", cookie]);
  const all = [...setCookies, ...pairs];
  for (const [name, value] of all) {
    validateHeaderName(name);
    validateHeaderValue(name, value);
  }
  return { status: statusCode, headers: all, body: Buffer.from(body, isBase64Encoded ? "base64" : "utf8") };
}

/** A simple authorizer response, or a throw for anything else (the gateway answers 500). */
export function simpleAuthorizerResponse(result: unknown): { isAuthorized: boolean; context: unknown } {
  if (!isRecord(result) || typeof result["isAuthorized"] !== "boolean") {
    throw new Error(`Malformed authorizer response: ${JSON.stringify(result)}`);
  }
  const context = result["context"] ?? null;
  if (context !== null && !isRecord(context)) {
    throw new Error("Malformed authorizer response: context is not an object");
  }
  return { isAuthorized: result["isAuthorized"], context };
}

// ---------------------------------------------------------------------------------------------
// Request handling

export interface GatewayHandler {
  readonly routes: RouteTable;
  readonly invoker: LambdaInvoker;
  readonly api: ApiIdentity;
  readonly onError?: (failure: GatewayFailure) => void;
}

/** Routes, authorizes and invokes: everything between reading the request and writing the response. */
export async function handleRequest(request: GatewayRequest, gateway: GatewayHandler): Promise<GatewayResponse> {
  const match = matchRoute(gateway.routes, request.method, request.path);
  if (!match) return gatewayError(404);
  const description = describeRequest(request, match, gateway.api);
  const fail = (functionId: string, error: unknown) => {
    gateway.onError?.({ requestId: request.requestId, routeKey: match.route.routeKey, functionId, error });
    return gatewayError(500);
  };

  let authorizerContext: unknown;
  const { authorizer } = match.route;
  if (authorizer) {
    const identity = identityValues(description, authorizer.identitySource);
    if (!identity) return gatewayError(401);
    try {
      const event = authorizerEvent(description, identity, gateway.api);
      const verdict = simpleAuthorizerResponse(await gateway.invoker.invoke(authorizer.functionId, event));
      if (!verdict.isAuthorized) return gatewayError(403);
      authorizerContext = verdict.context;
    } catch (error) {
      return fail(authorizer.functionId, error);
    }
  }

  const { functionId } = match.route;
  try {
    const event = integrationEvent(description, request.body, authorizerContext);
    return integrationResponse(await gateway.invoker.invoke(functionId, event));
  } catch (error) {
    return fail(functionId, error);
  }
}

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

// ---------------------------------------------------------------------------------------------
// Server

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

export async function startHttpGateway(options: HttpGatewayOptions): Promise<HttpGateway> {
  const host = options.host ?? "127.0.0.1";
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const gateway: GatewayHandler = {
    routes: compileRoutes(options.routes),
    invoker: options.invoker,
    api: { apiId: options.apiId, region: options.region, accountId: options.accountId },
    ...(options.onError && { onError: options.onError }),
  };
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
      send(await handleRequest(request, gateway));
    })().catch(() => {
      // Mostly a client that hung up mid-body, with nobody left to answer.
      if (res.headersSent || res.destroyed) res.destroy();
      else send(gatewayError(500), true);
    });
  });

  await listen(server, host, options.port);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
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

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE" ? new Error(`API port ${host}:${port} is busy: ${error.message}`, { cause: error }) : error,
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
