import type { APIGatewayRequestAuthorizerEventV2 } from "aws-lambda";
import { STAGE, type ApiIdentity, type RequestDescription } from "./events.ts";
import { isRecord } from "./responses.ts";

/** REQUEST Lambda authorizers with simple responses: identity sources, the authorizer event and its verdict. */

export interface GatewayAuthorizer {
  /** Logical id of the authorizer Lambda. */
  readonly functionId: string;
  /** Identity sources, e.g. `["$request.header.Authorization"]`; may be empty. */
  readonly identitySource: readonly string[];
  /** Only simple responses are emulated; `false` is rejected at start. */
  readonly enableSimpleResponses: boolean;
}

interface IdentitySource {
  readonly from: "header" | "querystring";
  readonly name: string;
}

export interface ResolvedAuthorizer {
  readonly functionId: string;
  readonly identitySource: readonly IdentitySource[];
}

const IDENTITY_SOURCE = /^\$request\.(header|querystring)\.(.+)$/;

export function resolveAuthorizer(routeKey: string, authorizer: GatewayAuthorizer): ResolvedAuthorizer {
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

/** Like the published type, except that `cookies` is absent without cookies, as in the proxy event. */
export type AuthorizerEvent = Omit<APIGatewayRequestAuthorizerEventV2, "cookies"> & { cookies?: string[] };

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
