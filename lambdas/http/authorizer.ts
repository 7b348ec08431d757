import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from "aws-lambda";
import { parseBearer } from "../domain/tokens.ts";
import type { AuthorizerContext } from "../shared/http.ts";
import { logger } from "../shared/logger.ts";
import { tenants } from "../shared/stores.ts";


/**
 * Bearer-token authorizer (simple responses): an API token or a portal link's token. It always
 * authorizes and puts its verdict in the context: HTTP APIs answer a denial with a fixed body,
 * and the API promises RFC 9457 problems, so the route wrapper turns a missing tenant into the
 * 401, and a portal link's request beyond its access into the 403 (see shared/http.ts). The API
 * caches no verdict (lib/constructs/http-api.ts): each request is judged now, so a link stops
 * at its expiry to the second and a read-only link never borrows another request's verdict.
 */
export async function handler(
  event: APIGatewayRequestAuthorizerEventV2,
): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>> {
  const bearer = parseBearer(event.headers?.["authorization"]);
  if (!bearer.ok) return { isAuthorized: true, context: { authError: bearer.reason } };
  const resolved = await tenants.resolveToken(bearer.token);
  if (!resolved.ok) {
    logger.info(resolved.reason === "expired" ? "expired portal link" : "unknown API token", { routeKey: event.routeKey });
    return { isAuthorized: true, context: { authError: resolved.reason } };
  }
  const { tenantId, access, expiresAt } = resolved;
  return { isAuthorized: true, context: { tenantId, access, ...(expiresAt ? { expiresAt } : {}) } };
}
