import type { APIGatewayEventRequestContextV2, APIGatewayProxyEventV2WithRequestContext } from "aws-lambda";
import type { RouteMatch } from "./routes.ts";

/** The payload format 2.0 events a Lambda proxy integration receives, built from the request as AWS builds them. */

export const STAGE = "$default";

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
