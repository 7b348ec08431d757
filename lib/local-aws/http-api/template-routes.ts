import type { ResolvedTemplate } from "../template/resolve.ts";
import { resourcesOfType, type CfnTemplate } from "../template/template.ts";
import type { GatewayRoute } from "./routes.ts";

/**
 * Whether the template declares an HTTP API, refusing what the gateway cannot serve (several
 * APIs, WebSocket, a stage other than $default) before anything starts.
 */
export function hasHttpApi(template: CfnTemplate): boolean {
  const apis = resourcesOfType(template, "AWS::ApiGatewayV2::Api");
  if (apis.length === 0) return false;
  if (apis.length > 1) throw new Error("The local runtime serves one HTTP API per stack");
  if (apis[0]?.[1].Properties?.["ProtocolType"] !== "HTTP") throw new Error("The local runtime serves HTTP APIs only (not WebSocket)");
  for (const [logicalId, stage] of resourcesOfType(template, "AWS::ApiGatewayV2::Stage")) {
    if (stage.Properties?.["StageName"] !== "$default") {
      throw new Error(`Stage ${logicalId}: the local runtime serves the $default stage only`);
    }
  }
  return true;
}

/** The HTTP API's routes: each route's Lambda proxy integration and, if any, its REQUEST authorizer. */
export function routesOf(resolved: ResolvedTemplate): GatewayRoute[] {
  const functionByArn = new Map(
    resolved.ofType("AWS::Lambda::Function").map(([logicalId]) => [resolved.physical(logicalId).attributes["Arn"], logicalId]),
  );
  const functionOf = (uri: unknown, where: string): string => {
    // Integration URIs are function ARNs; authorizer URIs wrap one in an apigateway invocation ARN.
    const arn = /arn:aws:lambda:[^/]+?:function:[^/:]+/.exec(String(uri))?.[0];
    const logicalId = arn ? functionByArn.get(arn) : undefined;
    if (!logicalId) throw new Error(`${where}: ${String(uri)} is not a Lambda function of this stack`);
    return logicalId;
  };
  return resolved.ofType("AWS::ApiGatewayV2::Route").map(([logicalId]) => {
    const route = resolved.properties(logicalId);
    const integrationId = /^integrations\/(.+)$/.exec(String(route["Target"]))?.[1];
    const integration = integrationId ? resolved.properties(integrationId) : undefined;
    if (!integration || integration["IntegrationType"] !== "AWS_PROXY" || integration["PayloadFormatVersion"] !== "2.0") {
      throw new Error(`Route ${logicalId}: the local runtime serves Lambda proxy integrations with payload format 2.0`);
    }
    const spec: GatewayRoute = {
      routeKey: String(route["RouteKey"]),
      functionId: functionOf(integration["IntegrationUri"], `Route ${logicalId}`),
    };
    if (route["AuthorizationType"] === undefined || route["AuthorizationType"] === "NONE") return spec;
    if (route["AuthorizationType"] !== "CUSTOM") {
      throw new Error(`Route ${logicalId}: authorization ${String(route["AuthorizationType"])} is not supported locally`);
    }
    const authorizer = resolved.properties(String(route["AuthorizerId"]));
    if (authorizer["AuthorizerType"] !== "REQUEST" || authorizer["AuthorizerPayloadFormatVersion"] !== "2.0") {
      throw new Error(`Route ${logicalId}: the local runtime supports REQUEST authorizers with payload format 2.0`);
    }
    return {
      ...spec,
      authorizer: {
        functionId: functionOf(authorizer["AuthorizerUri"], `Authorizer ${String(route["AuthorizerId"])}`),
        identitySource: (authorizer["IdentitySource"] as string[] | undefined) ?? [],
        enableSimpleResponses: authorizer["EnableSimpleResponses"] === true,
      },
    };
  });
}
