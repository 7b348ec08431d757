import type { LambdaInvoker } from "../lambda/lambda-host.ts";
import { authorizerEvent, identityValues, simpleAuthorizerResponse } from "./authorizer.ts";
import { describeRequest, integrationEvent, type ApiIdentity, type GatewayRequest } from "./events.ts";
import { gatewayError, integrationResponse, type GatewayResponse } from "./responses.ts";
import { matchRoute, type RouteTable } from "./routes.ts";

/** A Lambda call that ended in the gateway's 500: it threw, or returned what AWS would reject. */
export interface GatewayFailure {
  readonly requestId: string;
  readonly routeKey: string;
  readonly functionId: string;
  readonly error: unknown;
}

export interface GatewayHandler {
  readonly routes: RouteTable;
  readonly invoker: LambdaInvoker;
  readonly api: ApiIdentity;
  readonly onError?: (failure: GatewayFailure) => void;
}

/** Routes, authorizes and invokes: everything between reading the request and writing the response. */
export async function handleRequest(request: GatewayRequest, gateway: GatewayHandler): Promise<GatewayResponse> {
  const match = matchRoute(gateway.routes, request.method, request.path);
  if (!match) return gatewayError(404);
  const description = describeRequest(request, match, gateway.api);
  const fail = (functionId: string, error: unknown) => {
    gateway.onError?.({ requestId: request.requestId, routeKey: match.route.routeKey, functionId, error });
    return gatewayError(500);
  };

  let authorizerContext: unknown;
  const { authorizer } = match.route;
  if (authorizer) {
    const identity = identityValues(description, authorizer.identitySource);
    if (!identity) return gatewayError(401);
    try {
      const event = authorizerEvent(description, identity, gateway.api);
      const verdict = simpleAuthorizerResponse(await gateway.invoker.invoke(authorizer.functionId, event));
      if (!verdict.isAuthorized) return gatewayError(403);
      authorizerContext = verdict.context;
    } catch (error) {
      return fail(authorizer.functionId, error);
    }
  }

  const { functionId } = match.route;
  try {
    const event = integrationEvent(description, request.body, authorizerContext);
    return integrationResponse(await gateway.invoker.invoke(functionId, event));
  } catch (error) {
    return fail(functionId, error);
  }
}
