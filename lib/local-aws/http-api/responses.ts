import { validateHeaderName, validateHeaderValue } from "node:http";

/** What the gateway answers: its own errors, and integration results mapped as AWS maps them. */

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

export function isRecord(value: unknown): value is Record<string, unknown> {
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
