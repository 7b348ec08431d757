import { z } from "zod";
import { API_ROUTES, isOpenToPortalLinks, routeKey, type RouteKey, type RouteKeyOf } from "./routes.ts";
import {
  bulkViewSchema,
  deadLetterViewSchema,
  retryViewSchema,
  catalogueSchema,
  deliveryLogViewSchema,
  documentHistoryViewSchema,
  failuresBodySchema,
  failureViewSchema,
  portalLinkCreateSchema,
  portalLinkListViewSchema,
  accessViewSchema,
  portalLinkViewSchema,
  testWebhookViewSchema,
  problemSchema,
  requestSchemas,
  subscriptionViewSchema,
  webhookConfigViewSchema,
  webhookPayloadSchema,
  webhookSecretViewSchema,
} from "./schemas.ts";

interface Operation {
  readonly request?: z.ZodType;
  readonly query?: readonly string[];
  readonly success: { readonly status: number; readonly description: string; readonly schema?: z.ZodType };
  /** Problem statuses the operation documents besides 401 (and 400 for bodies). */
  readonly problems?: readonly number[];
}

// The document describes the deployed API, where loopback endpoints are refused.
const requests = requestSchemas({ allowLoopback: false });

/**
 * Every route of the route table must be documented here (the type says so), except the web
 * console's: they serve its page and scripts, not the API.
 */
type ApiRouteKey = Exclude<RouteKey, RouteKeyOf<"console">>;
const OPERATIONS: Record<ApiRouteKey, Operation> = {
  "GET /webhooks/events": { success: { status: 200, description: "The event catalogue", schema: catalogueSchema } },
  "GET /webhooks/access": {
    success: { status: 200, description: "What the request's credential may do (the console reads it to show a portal link's limits)", schema: accessViewSchema },
  },
  "GET /openapi.json": { success: { status: 200, description: "This document" } },
  "POST /portal/api/ext/webhook": {
    request: requests.subscriptionCreate,
    success: { status: 201, description: "Subscribed", schema: subscriptionViewSchema },
    problems: [409, 413, 415],
  },
  "GET /portal/api/ext/webhook": {
    success: { status: 200, description: "Active subscriptions", schema: z.array(subscriptionViewSchema) },
  },
  "PUT /portal/api/ext/webhook/{id}": {
    request: requests.subscriptionChange,
    success: { status: 200, description: "Changed", schema: subscriptionViewSchema },
    problems: [404, 409, 413, 415],
  },
  "DELETE /portal/api/ext/webhook/{id}": {
    request: requests.subscriptionDelete,
    success: { status: 204, description: "Deleted" },
    problems: [404, 413, 415],
  },
  "GET /webhooks/config": {
    success: { status: 200, description: "The configuration, secret masked", schema: webhookConfigViewSchema },
    problems: [404],
  },
  "PATCH /webhooks/config": {
    request: requests.configPatch,
    success: {
      status: 200,
      description: "The configuration; the secret in full only in the answer that created it",
      schema: webhookConfigViewSchema,
    },
    problems: [413, 415],
  },
  "POST /webhooks/config/enable": {
    success: { status: 200, description: "The configuration, its webhookUrl enabled again", schema: webhookConfigViewSchema },
    problems: [404],
  },
  "POST /webhooks/secret/regenerate": {
    query: ["graceSeconds"],
    success: { status: 200, description: "The new secret, shown once", schema: webhookSecretViewSchema },
    problems: [400],
  },
  "POST /webhooks/test": {
    success: { status: 200, description: "What the endpoint answered to a signed test event", schema: testWebhookViewSchema },
    problems: [409, 429],
  },
  "POST /webhooks/portal-links": {
    request: portalLinkCreateSchema,
    success: { status: 201, description: "The link, its token shown only now (Cache-Control: no-store)", schema: portalLinkViewSchema },
    problems: [413, 415],
  },
  "GET /webhooks/portal-links": {
    query: ["limit", "cursor"],
    success: {
      status: 200,
      description: "The links still valid, newest first, without their tokens; the next page's cursor is in the X-Next-Cursor and Link headers",
      schema: portalLinkListViewSchema,
    },
    problems: [400],
  },
  "DELETE /webhooks/portal-links/{linkId}": {
    success: { status: 204, description: "Revoked: the link no longer works" },
    problems: [404],
  },
  "GET /webhooks/logs": {
    query: ["limit", "cursor"],
    success: {
      status: 200,
      description: "Deliveries, newest first; the next page's cursor is in the X-Next-Cursor and Link headers",
      schema: deliveryLogViewSchema,
    },
    problems: [400],
  },
  "GET /webhooks/documents/{documentKey}": {
    query: ["limit", "cursor"],
    success: {
      status: 200,
      description:
        "The document's events, oldest first, and each endpoint's last delivery of it; the next page of events' cursor is in the X-Next-Cursor and Link headers",
      schema: documentHistoryViewSchema,
    },
    problems: [400, 404],
  },
  "GET /webhooks/dlq": {
    query: ["limit", "cursor"],
    success: {
      status: 200,
      description: "Dead letters, newest first; the next page's cursor is in the X-Next-Cursor and Link headers",
      schema: deadLetterViewSchema,
    },
    problems: [400],
  },
  "POST /webhooks/dlq/{deliveryId}/retry": {
    success: { status: 202, description: "Queued again, same delivery id, fresh attempt budget", schema: retryViewSchema },
    problems: [400, 404, 409],
  },
  "POST /webhooks/dlq/retry-all": {
    success: { status: 200, description: "All retried (202 with complete=false: the rest continues asynchronously)", schema: bulkViewSchema("retried") },
  },
  "DELETE /webhooks/dlq": {
    success: { status: 200, description: "Purged (202 with complete=false: the rest continues asynchronously)", schema: bulkViewSchema("purged") },
  },
  "GET /portal/api/ext/webhook/falhas": {
    request: failuresBodySchema,
    query: ["data", "limit", "cursor"],
    success: {
      status: 200,
      description: "Failed attempts of that Brazilian date, oldest first, up to 500 a page (next page in X-Next-Cursor)",
      schema: failureViewSchema,
    },
  },
};

const QUERY_SCHEMAS: Record<string, Record<string, unknown>> = {
  limit: { type: "integer", minimum: 1, maximum: 100, default: 50 },
  cursor: { type: "string", description: "The X-Next-Cursor of the previous page" },
  data: { type: "string", pattern: "^[0-9]{8}$", description: "ddMMyyyy (Brazil); today when absent" },
  graceSeconds: {
    type: "integer",
    minimum: 0,
    maximum: 604800,
    default: 0,
    description: "Seconds the replaced secret keeps signing beside the new one (Standard Webhooks header); 0 stops it at once",
  },
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" });
  return rest;
}

const problemResponse = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid request: malformed JSON, JSON nested deeper than 64 levels, or a broken field rule (listed in `errors`)",
  401: "Missing, malformed, unknown or revoked token, or an expired portal link",
  403: "A portal link may not use this route (only the API token may), or a read-only link tried to write",
  404: "Not found for this tenant",
  409: "Conflict: a duplicate subscription, the subscription limit, no webhook configuration to test, or a dead letter already being retried",
  413: "Body too large",
  415: "Body not application/json",
  429: "Too many requests of this kind for the tenant: wait the `Retry-After` seconds",
};

/** The OpenAPI 3.1 document of the whole HTTP API, generated from the route table and the schemas. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of API_ROUTES) {
    const operation = OPERATIONS[routeKey(route) as ApiRouteKey];
    const isPublic = "public" in route;
    const problems = new Set<number>([...(isPublic ? [] : [401]), ...(operation.request ? [400] : []), ...(operation.problems ?? [])]);
    if (route.path.includes("{")) problems.add(400);
    // Portal links: a read-only one only reads, and no link reaches a route closed to links.
    if (!isPublic && (route.method !== "GET" || !isOpenToPortalLinks(routeKey(route)))) problems.add(403);
    const parameters = [
      ...(route.path.includes("{deliveryId}")
        ? [{ name: "deliveryId", in: "path", required: true, description: "Delivery id (UUID)", schema: { type: "string", format: "uuid" } }]
        : []),
      ...(route.path.includes("{documentKey}")
        ? [
            {
              name: "documentKey",
              in: "path",
              required: true,
              description: "The fiscal document's access key (chave de acesso, 44 characters; letters in the CNPJ positions since the 2026 alphanumeric CNPJ)",
              schema: { type: "string", pattern: "^[0-9A-Za-z]{44}$" },
            },
          ]
        : []),
      ...(route.path.includes("{linkId}")
        ? [{ name: "linkId", in: "path", required: true, description: "A portal link's id (hex SHA-256 of its token)", schema: { type: "string", pattern: "^[0-9a-f]{64}$" } }]
        : []),
      ...(route.path.includes("{id}")
        ? [
            {
              name: "id",
              in: "path",
              required: true,
              description: "Subscription identifier, Number(10)",
              schema: { type: "integer", minimum: 1, maximum: 9_999_999_999 },
            },
          ]
        : []),
      ...(operation.query ?? []).map((name) => ({ name, in: "query", required: false, schema: QUERY_SCHEMAS[name] ?? { type: "string" } })),
    ];
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(isPublic ? { security: [] } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(operation.request
        ? {
            requestBody: {
              required: route.method !== "DELETE" && route.method !== "GET",
              content: { "application/json": { schema: jsonSchema(operation.request) } },
            },
          }
        : {}),
      responses: {
        [String(operation.success.status)]: {
          description: operation.success.description,
          ...(operation.success.schema
            ? { content: { "application/json": { schema: jsonSchema(operation.success.schema) } } }
            : {}),
        },
        ...Object.fromEntries(
          [...problems].sort().map((status) => [String(status), problemResponse(PROBLEM_DESCRIPTIONS[status] ?? "Error")]),
        ),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Fiscal Webhooks API",
      version: "1",
      description:
        "Portal Único subscriptions and the account webhook API of Fiscal Webhooks. Every route except this document needs `Authorization: Bearer <token>`; errors are RFC 9457 problems.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    security: [{ bearerToken: [] }],
    paths,
    webhooks: {
      event: {
        post: {
          summary: "An event, delivered to a subscription's endpoint or the account webhookUrl",
          description:
            "Signed with the tenant's secret: X-Webhook-Signature is the hex HMAC-SHA256 of the exact body; webhook-id, webhook-timestamp and " +
            "webhook-signature follow Standard Webhooks. Any 2xx within the delivery timeout is a success; anything else is retried on the schedule. " +
            "documentKey, cnpj and sequence are present only when the producer sent them.",
          parameters: [
            { name: "webhook-id", in: "header", required: true, description: "The delivery id, the same on every attempt: deduplicate on it", schema: { type: "string", format: "uuid" } },
            { name: "webhook-timestamp", in: "header", required: true, description: "Unix seconds of this attempt", schema: { type: "string" } },
            { name: "webhook-signature", in: "header", required: true, description: "Standard Webhooks signature(s), v1,<base64>", schema: { type: "string" } },
            { name: "X-Webhook-Signature", in: "header", required: true, description: "Hex HMAC-SHA256 of the body, keyed by the tenant's secret", schema: { type: "string" } },
            { name: "X-Webhook-Event", in: "header", required: true, description: "The event type", schema: { type: "string" } },
            { name: "X-Webhook-Attempt", in: "header", required: true, description: "1-based attempt number", schema: { type: "integer", minimum: 1 } },
          ],
          requestBody: { required: true, content: { "application/json": { schema: jsonSchema(webhookPayloadSchema) } } },
          responses: { "2XX": { description: "Delivered" } },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerToken: {
          type: "http",
          scheme: "bearer",
          description: "API token issued by `npm run tenant`, or a portal link's token (POST /webhooks/portal-links, `npm run tenant -- portal-link`)",
        },
      },
      schemas: { Problem: jsonSchema(problemSchema) },
    },
  };
}
