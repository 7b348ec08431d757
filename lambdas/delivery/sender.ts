import { lookup as dnsLookup } from "node:dns";
import { readFileSync } from "node:fs";
import { STATUS_CODES, type ClientRequest, type IncomingMessage } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import { isIP, type LookupFunction, type Socket } from "node:net";
import { createSecureContext, rootCertificates } from "node:tls";
import { refusalReason, type AddressPolicy } from "../domain/addresses.ts";

/** One webhook POST. `body` is sent byte for byte, as it was signed. */
export interface WebhookRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
}

export interface WebhookResponse {
  /** A 2xx answer, headers and (bounded) body, within the timeout. */
  readonly ok: boolean;
  readonly statusCode?: number;
  /** The receiver's answer, cut at the sender's bound. */
  readonly body: string;
  readonly durationMs: number;
  /** Why the delivery failed, in words for the delivery log, when !ok. */
  readonly failure?: string;
  /** The receiver's Retry-After, in seconds from now, when it sent a valid one. */
  readonly retryAfterSeconds?: number;
}

export interface SenderOptions extends AddressPolicy {
  /** A PEM bundle trusted in addition to node's root certificates (the local runtime's NODE_EXTRA_CA_CERTS). */
  readonly extraCaFile?: string;
  readonly maxResponseBytes?: number;
  readonly userAgent?: string;
}

export interface WebhookSender {
  send(request: WebhookRequest): Promise<WebhookResponse>;
  /** Closes the pooled connections. */
  close(): void;
}

const DEFAULT_MAX_RESPONSE_BYTES = 4096;
const DEFAULT_USER_AGENT = "fiscal-webhooks";

/** The SSRF guard's refusal, carried through node's socket error paths to the failure text. */
class BlockedAddressError extends Error {
  readonly code = "ERR_BLOCKED_ADDRESS";
}

/**
 * Resolves like dns.lookup but hands the socket only the address it vetted, so what is
 * checked is what is connected to: no second resolution, no DNS-rebinding window. Node
 * asks with `all: true` when it may race address families (autoSelectFamily); it gets
 * the one vetted address then too.
 */
function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const chosen = addresses[0];
      if (!chosen) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), []);
      const refusal = refusalReason(chosen.address, policy);
      if (refusal) return callback(new BlockedAddressError(refusal), []);
      if (options.all) callback(null, [chosen]);
      else callback(null, chosen.address, chosen.family);
    });
  };
}

/** Second line of the guard: whatever the path to it, refuse a socket connected to a refused address. */
function guardSocket(socket: Socket, policy: AddressPolicy): void {
  const check = () => {
    const refusal = socket.remoteAddress === undefined ? undefined : refusalReason(socket.remoteAddress, policy);
    if (refusal) socket.destroy(new BlockedAddressError(refusal));
  };
  if (socket.connecting) socket.once("connect", check);
  else check();
}

/** The URL to post to, or why not: only https, and IP literals (which skip lookup) vetted here. */
function target(url: string, policy: AddressPolicy): URL | string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "invalid URL";
  }
  if (parsed.protocol !== "https:") return `only https URLs are delivered to, not ${parsed.protocol.replace(":", "")}`;
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const refusal = isIP(host) === 0 ? undefined : refusalReason(host, policy);
  return refusal ?? parsed;
}

/**
 * Retry-After (RFC 9110 §10.2.3) in whole seconds from `now`: delta-seconds or an
 * HTTP-date (all its forms start with the day name); a date in the past means now.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  const text = value?.trim() ?? "";
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^[A-Za-z]/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}

const NETWORK_FAILURES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "DNS: host not found",
  EAI_AGAIN: "DNS: temporary failure in name resolution",
};

// Node's TLS errors, and OpenSSL's certificate verification codes (CERT_HAS_EXPIRED,
// DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_VERIFY_LEAF_SIGNATURE, ...), which node passes on as is.
const TLS_CODE = /^ERR_TLS_|^ERR_SSL_|^EPROTO$|CERT|CRL|^UNABLE_TO_|^INVALID_CA$|^INVALID_PURPOSE$|^PATH_LENGTH_EXCEEDED$|^HOSTNAME_MISMATCH$/;

/** The failure text for an error from the connection, TLS or request. */
export function describeFailure(error: { code?: unknown; message: string; reason?: unknown }): string {
  const code = typeof error.code === "string" ? error.code : "";
  if (code === "ERR_BLOCKED_ADDRESS") return error.message;
  const known = NETWORK_FAILURES[code];
  if (known) return known;
  if (TLS_CODE.test(code)) {
    // OpenSSL's `reason` is the readable part of "write EPROTO 40E8…:error:0A00010B:SSL routines:…"; node
    // appends advice for its own operator ("; if the root CA is installed locally, …") that would mislead here.
    return `TLS: ${typeof error.reason === "string" ? error.reason : error.message.split("; ")[0]}`;
  }
  return code ? `${code}: ${error.message}` : error.message;
}

/** The failure text for a status code that is not 2xx. */
export function describeStatus(statusCode: number, location: string | undefined, url: URL): string {
  if (statusCode >= 300 && statusCode < 400 && location !== undefined) {
    let destination = location;
    try {
      destination = new URL(location, url).href;
    } catch {
      // A Location that is no URL is still worth naming as it came.
    }
    return `redirect ${statusCode} to ${destination} not followed`;
  }
  return `HTTP ${statusCode} ${STATUS_CODES[statusCode] ?? ""}`.trimEnd();
}

const isReset = (error: NodeJS.ErrnoException) => error.code === "ECONNRESET" || error.code === "EPIPE";

export function createWebhookSender(options: SenderOptions): WebhookSender {
  const policy: AddressPolicy = { allowLoopback: options.allowLoopback };
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  const agent = new Agent({
    keepAlive: true,
    lookup: guardedLookup(policy),
    // One secure context for every connection. A `ca` option would instead be concatenated into
    // the agent's pool key on every request (all of node's root certificates: ~180 KB of string
    // per POST) and parsed again for every new connection.
    ...(options.extraCaFile ? { secureContext: createSecureContext({ ca: [...rootCertificates, readFileSync(options.extraCaFile, "utf8")] }) } : {}),
  });

  function send(request: WebhookRequest): Promise<WebhookResponse> {
    const started = performance.now();
    const finish = (outcome: Omit<WebhookResponse, "durationMs">): WebhookResponse => ({
      ...outcome,
      durationMs: Math.round(performance.now() - started),
    });
    const url = target(request.url, policy);
    if (typeof url === "string") return Promise.resolve(finish({ ok: false, body: "", failure: url }));

    return new Promise((resolve) => {
      let current: ClientRequest | undefined;
      let statusCode: number | undefined;
      const chunks: Buffer[] = [];
      let received = 0;
      const body = () => Buffer.concat(chunks).toString("utf8");
      let settled = false;
      const settle = (outcome: Omit<WebhookResponse, "durationMs" | "body" | "statusCode">) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(finish({ ...outcome, body: body(), ...(statusCode === undefined ? {} : { statusCode }) }));
      };
      const fail = (error: Error) => settle({ ok: false, failure: describeFailure(error) });

      // One deadline for lookup, connect, TLS, headers and body: a receiver that trickles is cut off too.
      const timer = setTimeout(() => {
        settle({ ok: false, failure: `timeout after ${request.timeoutMs} ms` });
        current?.destroy();
      }, request.timeoutMs);

      const read = (response: IncomingMessage) => {
        const status = response.statusCode ?? 0;
        statusCode = status;
        const retryAfterSeconds = parseRetryAfter(response.headers["retry-after"], new Date());
        const complete = () => {
          const ok = status >= 200 && status < 300;
          settle({
            ok,
            ...(ok ? {} : { failure: describeStatus(status, response.headers.location, url) }),
            ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
          });
        };
        response.on("data", (chunk: Buffer) => {
          const kept = chunk.subarray(0, maxResponseBytes - received);
          chunks.push(kept);
          received += kept.length;
          if (received >= maxResponseBytes) {
            // Enough to show in the delivery log: stop reading rather than wait for the rest.
            complete();
            response.destroy();
          }
        });
        response.on("end", complete);
        response.on("error", fail);
      };

      // A pooled socket the receiver closed while idle fails at once on reuse: node flags it as
      // reusedSocket. Nothing was answered on it, so the POST goes once more on a new connection.
      const post = (mayRetryOnStaleSocket: boolean) => {
        const req = httpsRequest(url, {
          method: "POST",
          agent,
          headers: {
            ...request.headers,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(request.body),
            "user-agent": userAgent,
          },
        });
        current = req;
        req.on("socket", (socket: Socket) => guardSocket(socket, policy));
        req.on("response", read);
        req.on("error", (error) => {
          if (settled) return;
          if (mayRetryOnStaleSocket && req.reusedSocket && statusCode === undefined && isReset(error)) post(false);
          else fail(error);
        });
        req.end(request.body);
      };
      try {
        post(true);
      } catch (error) {
        // Header values node refuses (control characters) throw instead of emitting.
        fail(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  return { send, close: () => agent.destroy() };
}
