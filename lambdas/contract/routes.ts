/**
 * The HTTP route table. The stack creates one API Gateway route per entry and points it
 * at the function of the entry's family; each family's handler must implement exactly its
 * routes (checked by the compiler); the OpenAPI document and the local runtime read it too.
 */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Functions that serve HTTP routes: one per resource family, so each gets only the IAM it needs. */
export const ROUTE_FAMILIES = ["catalogue"] as const;
export type RouteFamily = (typeof ROUTE_FAMILIES)[number];

export interface RouteDefinition {
  readonly method: HttpMethod;
  readonly path: string;
  readonly family: RouteFamily;
  readonly operationId: string;
  readonly summary: string;
}

export const ROUTES = [
  {
    method: "GET",
    path: "/webhooks/events",
    family: "catalogue",
    operationId: "listEventTypes",
    summary: "Lista os tipos de evento fiscal disponíveis para assinatura",
  },
] as const satisfies readonly RouteDefinition[];

type Route = (typeof ROUTES)[number];
export type RouteKey = `${Route["method"]} ${Route["path"]}`;
export type RouteKeyOf<F extends RouteFamily> = Extract<Route, { family: F }> extends infer R
  ? R extends Route
    ? `${R["method"]} ${R["path"]}`
    : never
  : never;

export function routeKey(route: RouteDefinition): string {
  return `${route.method} ${route.path}`;
}
