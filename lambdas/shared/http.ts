import middy from "@middy/core";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import type {
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from "aws-lambda";
import { DEFAULT_ROUTE_KEY, isOpenToPortalLinks, isPublicRoute, methodsOf, type RouteFamily, type RouteKeyOf } from "../contract/routes.ts";
import { portalLinkRefusal, type Access } from "../domain/portal-links.ts";
import { HttpProblem, internalError, PROBLEM_CONTENT_TYPE, problems, type ProblemDetails } from "./problems.ts";
import { logger } from "./logger.ts";

/** What the authorizer hands to every route: the tenant and what the credential may do, or why there is none. */
export interface AuthorizerContext {
  readonly tenantId?: string;
  readonly access?: Access;
  /** When a portal link stops working. */
  readonly expiresAt?: string;
  readonly authError?: "missing" | "malformed" | "unknown" | "expired";
}

export type HttpEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<AuthorizerContext>;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export interface HttpRequest {
  /** The caller's tenant ("" on the few public routes, which serve no tenant data). */
  readonly tenantId: string;
  /** Who calls: with the tenant's API token, or with a portal link (read-only or not, until when). */
  readonly caller: { readonly access: Access; readonly expiresAt?: string };
  /** This API's base URL as API Gateway was reached (scheme, host and stage), for links to itself. */
  readonly apiBaseUrl: string;
  readonly pathParameters: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The raw body, decoded from base64 when API Gateway encoded it. */
  readonly body: string | undefined;
}

export interface HttpResponse {
  readonly status: number;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Sent as it is, with the `content-type` of `headers` (the console's files). */
  readonly text?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Serves a request that matched no route (the API's `$default` route) when it is the family's
 * own, or answers `undefined` and the request gets the 404/405 problem.
 */
export type UnmatchedHandler = (method: string, path: string) => HttpResponse | undefined;

export type RouteHandler = (request: HttpRequest) => Promise<HttpResponse>;

const AUTH_DETAILS: Record<NonNullable<AuthorizerContext["authError"]>, string> = {
  missing: "The request has no Authorization header; send `Authorization: Bearer <token>`.",
  malformed: "The Authorization header is not `Bearer <token>` with a well-formed API token.",
  unknown: "The API token or portal link is unknown or has been revoked.",
  expired: "The portal link has expired; ask for a new one.",
};

/**
 * Builds the Lambda handler of one route family. The compiler checks that the family
 * implements exactly its routes from the route table. Every non-public route requires a tenant:
 * HTTP APIs cannot shape an authorizer's denial, so the authorizer passes its verdict in
 * the context and this single wrapper turns "no tenant" into a 401 problem before any
 * route code runs.
 */
export function httpRoutes<F extends RouteFamily>(
  _family: F,
  routes: { readonly [K in RouteKeyOf<F>]: RouteHandler },
  unmatchedRequest?: UnmatchedHandler,
) {
  const table: Readonly<Record<string, RouteHandler>> = routes;
  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      try {
        // The API's `$default` route: whatever matched no route, and is not the family's own to
        // serve, gets a problem, as every error does.
        if (event.routeKey === DEFAULT_ROUTE_KEY) {
          const { method } = event.requestContext.http;
          const served = unmatchedRequest?.(method, event.rawPath);
          if (served) return toResult(served);
          throw unmatched(method, event.rawPath);
        }
        const route = table[event.routeKey];
        if (!route) {
          throw problems.notFound(`No route ${event.routeKey}.`);
        }
        const auth = event.requestContext.authorizer?.lambda ?? {};
        const tenantId = auth.tenantId ?? "";
        if (!tenantId && !isPublicRoute(event.routeKey)) {
          throw problems.unauthorized(AUTH_DETAILS[auth.authError ?? "missing"]);
        }
        // A tenant without `access` was resolved from an API token (an authorizer older than
        // portal links refuses their tokens as malformed).
        const access = auth.access ?? "token";
        const refusal = portalLinkRefusal(access, event.requestContext.http.method, isOpenToPortalLinks(event.routeKey));
        if (refusal) throw problems.forbidden(refusal);
        logger.appendKeys({ tenantId, routeKey: event.routeKey });
        const caller = { access, ...(auth.expiresAt ? { expiresAt: auth.expiresAt } : {}) };
        const response = await route(toRequest(event, tenantId, caller));
        return toResult(response);
      } catch (error) {
        if (error instanceof HttpProblem) return problemResult(error.problem, error.headers);
        logger.error("unhandled error", { error: error as Error });
        return problemResult(internalError().problem);
      }
    });
}

/** 405 with the methods the path has, or 404 when no route has the path at all. */
function unmatched(method: string, path: string): HttpProblem {
  const allowed = methodsOf(path);
  if (allowed.length === 0) return problems.notFound(`There is no route ${method} ${path}; GET /openapi.json lists them all.`);
  return problems.methodNotAllowed(`${path} does not answer ${method}; it answers ${allowed.join(", ")}.`, {}, { allow: allowed.join(", ") });
}

function toRequest(event: HttpEvent, tenantId: string, caller: HttpRequest["caller"]): HttpRequest {
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, "base64").toString("utf8")
        : event.body;
  const { domainName, stage } = event.requestContext;
  return {
    tenantId,
    caller,
    apiBaseUrl: `${event.headers?.["x-forwarded-proto"] ?? "https"}://${domainName}${stage === "$default" ? "" : `/${stage}`}`,
    pathParameters: event.pathParameters ?? {},
    query: event.queryStringParameters ?? {},
    headers: event.headers ?? {},
    body,
  };
}

function toResult(response: HttpResponse): HttpResult {
  if (response.text !== undefined) return { statusCode: response.status, headers: { ...response.headers }, body: response.text };
  if (response.body === undefined) {
    return { statusCode: response.status, headers: { ...response.headers } };
  }
  return {
    statusCode: response.status,
    headers: { "content-type": "application/json; charset=utf-8", ...response.headers },
    body: JSON.stringify(response.body),
  };
}

export function problemResult(problem: ProblemDetails, headers: Readonly<Record<string, string>> = {}): HttpResult {
  return {
    statusCode: problem.status,
    headers: { ...headers, "content-type": PROBLEM_CONTENT_TYPE },
    body: JSON.stringify(problem),
  };
}
