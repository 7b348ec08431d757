import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from "aws-lambda";
import { parseBearer } from "../domain/tokens.ts";
import type { AuthorizerContext } from "../shared/http.ts";
import { logger } from "../shared/logger.ts";
import { tenants } from "../shared/stores.ts";


/**
 * Bearer-token authorizer (simple responses). It always authorizes and puts its verdict in
 * the context: HTTP APIs answer a denial with a fixed body, and the API promises RFC 9457
 * problems, so the route wrapper turns a missing tenant into the 401 (see shared/http.ts).
 */
export async function handler(
  event: APIGatewayRequestAuthorizerEventV2,
): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>> {
  const bearer = parseBearer(event.headers?.["authorization"]);
  if (!bearer.ok) return { isAuthorized: true, context: { authError: bearer.reason } };
  const tenantId = await tenants.tenantIdForToken(bearer.token);
  if (!tenantId) {
    logger.info("unknown API token", { routeKey: event.routeKey });
    return { isAuthorized: true, context: { authError: "unknown" } };
  }
  return { isAuthorized: true, context: { tenantId } };
}
