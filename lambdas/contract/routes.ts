/**
 * The HTTP route table. The stack creates one API Gateway route per entry and points it
 * at the function of the entry's family; each family's handler must implement exactly its
 * routes (checked by the compiler); the OpenAPI document and the local runtime read it too.
 */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Functions that serve HTTP routes: one per resource family, so each gets only the IAM it needs. */
export const ROUTE_FAMILIES = ["reference", "subscriptions", "config", "audit", "dlq", "console"] as const;
export type RouteFamily = (typeof ROUTE_FAMILIES)[number];

export interface RouteDefinition {
  readonly method: HttpMethod;
  readonly path: string;
  readonly family: RouteFamily;
  readonly operationId: string;
  readonly summary: string;
  /**
   * Why the route needs no token: public routes skip the authorizer (and the reason is the
   * cdk-nag acknowledgment); every other route is tenant-scoped by its token.
   */
  readonly public?: string;
  /**
   * Closed to portal links: only the tenant's API token may use it (a link must not make more
   * links or reach the signing secret). Read-only links are limited to GET routes besides.
   */
  readonly closedToPortalLinks?: boolean;
}

const PORTAL = "/portal/api/ext/webhook";

export const ROUTES = [
  {
    method: "GET",
    path: "/webhooks/events",
    family: "reference",
    operationId: "listEventTypes",
    summary: "Lista os tipos de evento fiscal disponíveis para assinatura",
  },
  {
    method: "GET",
    path: "/webhooks/access",
    family: "reference",
    operationId: "getAccess",
    summary: "O que a credencial usada pode fazer: o token de API da conta ou um link de portal (somente leitura?, até quando)",
  },
  {
    method: "GET",
    path: "/openapi.json",
    family: "reference",
    operationId: "getOpenApiDocument",
    summary: "Este documento OpenAPI 3.1",
    public: "serves the API's public documentation: no tenant data, no side effects",
  },
  {
    method: "POST",
    path: PORTAL,
    family: "subscriptions",
    operationId: "subscribeEvent",
    summary: "Subscribe event (Portal Único)",
  },
  {
    method: "GET",
    path: PORTAL,
    family: "subscriptions",
    operationId: "listSubscriptions",
    summary: "List the tenant's active subscriptions (Portal Único)",
  },
  {
    method: "PUT",
    path: `${PORTAL}/{id}`,
    family: "subscriptions",
    operationId: "changeSubscription",
    summary: "Change an active subscription (Portal Único)",
  },
  {
    method: "DELETE",
    path: `${PORTAL}/{id}`,
    family: "subscriptions",
    operationId: "deleteSubscription",
    summary: "Delete an active subscription (Portal Único)",
  },
  {
    method: "GET",
    path: "/webhooks/config",
    family: "config",
    operationId: "getWebhookConfig",
    summary: "Obter configuração de webhook da conta",
  },
  {
    method: "PATCH",
    path: "/webhooks/config",
    family: "config",
    operationId: "updateWebhookConfig",
    summary: "Atualizar (ou criar) a configuração de webhook da conta",
  },
  {
    method: "POST",
    path: "/webhooks/config/enable",
    family: "config",
    operationId: "enableWebhookEndpoint",
    summary: "Reativa a webhookUrl desativada (por falhas contínuas ou 410 Gone); as entregas voltam a ser feitas",
  },
  {
    method: "POST",
    path: "/webhooks/secret/regenerate",
    family: "config",
    operationId: "regenerateWebhookSecret",
    summary: "Regenerar o secret HMAC; o anterior é invalidado imediatamente",
    closedToPortalLinks: true,
  },
  {
    method: "POST",
    path: "/webhooks/test",
    family: "config",
    operationId: "sendTestWebhook",
    summary: "Envia um evento de teste, assinado, para a webhookUrl configurada",
  },
  {
    method: "POST",
    path: "/webhooks/portal-links",
    family: "config",
    operationId: "createPortalLink",
    summary: "Cria um link de portal: acesso temporário ao console, só desta conta, opcionalmente somente leitura",
    closedToPortalLinks: true,
  },
  {
    method: "GET",
    path: "/webhooks/portal-links",
    family: "config",
    operationId: "listPortalLinks",
    summary: "Lista os links de portal ainda válidos, mais recentes primeiro (sem os tokens)",
    closedToPortalLinks: true,
  },
  {
    method: "DELETE",
    path: "/webhooks/portal-links/{linkId}",
    family: "config",
    operationId: "revokePortalLink",
    summary: "Revoga um link de portal: ele deixa de funcionar na hora",
    closedToPortalLinks: true,
  },
  {
    method: "GET",
    path: "/webhooks/logs",
    family: "audit",
    operationId: "listDeliveryLogs",
    summary: "Lista as últimas entregas, mais recentes primeiro, com o status de cada uma",
  },
  {
    method: "GET",
    path: "/webhooks/documents/{documentKey}",
    family: "audit",
    operationId: "getDocumentHistory",
    summary: "Histórico de um documento fiscal pela chave de acesso: os eventos recebidos e a última entrega a cada endpoint",
  },
  {
    method: "GET",
    path: `${PORTAL}/falhas`,
    family: "audit",
    operationId: "searchFailures",
    summary: "Search failures in attempts to send subscribed events, by date (Portal Único)",
  },
  {
    method: "GET",
    path: "/webhooks/dlq",
    family: "dlq",
    operationId: "listDeadLetters",
    summary: "Lista os webhooks que falharam após todas as tentativas, mais recentes primeiro",
  },
  {
    method: "POST",
    path: "/webhooks/dlq/{deliveryId}/retry",
    family: "dlq",
    operationId: "retryDeadLetter",
    summary: "Reenvia um webhook da DLQ, com o mesmo id de entrega e novas tentativas",
  },
  {
    method: "POST",
    path: "/webhooks/dlq/retry-all",
    family: "dlq",
    operationId: "retryAllDeadLetters",
    summary: "Reenvia todos os webhooks da DLQ da conta",
  },
  {
    method: "DELETE",
    path: "/webhooks/dlq",
    family: "dlq",
    operationId: "purgeDeadLetters",
    summary: "Limpa a DLQ da conta",
  },
  // The web console: static files only; the page calls the API above with the user's own token.
  // Its entry page, /console/, has no route (API Gateway route paths cannot end in "/"): the
  // console family also serves the API's `$default` route, which receives it.
  {
    method: "GET",
    path: "/console",
    family: "console",
    operationId: "openConsole",
    summary: "Redireciona para o console web (/console/)",
    public: "redirects to the web console's entry page: no tenant data, no side effects",
  },
  {
    method: "GET",
    path: "/console/{asset}",
    family: "console",
    operationId: "getConsoleAsset",
    summary: "Um arquivo estático do console web",
    public: "serves the web console's static files: no tenant data, no side effects",
  },
] as const satisfies readonly RouteDefinition[];

type Route = (typeof ROUTES)[number];
/** "METHOD /path" of each route (distributed over the union, so never a cross product). */
type KeyOf<R> = R extends { method: infer M extends string; path: infer P extends string } ? `${M} ${P}` : never;
export type RouteKey = KeyOf<Route>;
export type RouteKeyOf<F extends RouteFamily> = KeyOf<Extract<Route, { family: F }>>;

/** The routes of the API, which the OpenAPI document describes: all but the web console's (a page and its files). */
export const API_ROUTES = ROUTES.filter((route) => route.family !== "console");

export function routeKey(route: RouteDefinition): string {
  return `${route.method} ${route.path}`;
}

export function isPublicRoute(key: string): boolean {
  return ROUTES.some((route) => routeKey(route) === key && "public" in route);
}

export function isOpenToPortalLinks(key: string): boolean {
  return !ROUTES.some((route) => routeKey(route) === key && "closedToPortalLinks" in route && route.closedToPortalLinks === true);
}

/**
 * The API's catch-all: API Gateway sends every request that matches no route to it, so that
 * an unknown path or method gets a problem like every other error, not the gateway's own body.
 */
export const DEFAULT_ROUTE_KEY = "$default";
/** The catch-all's function: the console's, whose entry page (`/console/`) can be reached no other way. */
export const DEFAULT_ROUTE_FAMILY: RouteFamily = "console";

/** The methods the route table has for a concrete path (`{name}` matches one segment). */
export function methodsOf(path: string): HttpMethod[] {
  const segments = path.split("/");
  const matches = (template: string) => {
    const parts = template.split("/");
    return parts.length === segments.length && parts.every((part, i) => (/^\{[^}]+\}$/.test(part) ? segments[i] !== "" : part === segments[i]));
  };
  return ROUTES.filter((route) => matches(route.path)).map((route) => route.method);
}
