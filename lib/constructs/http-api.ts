import { RemovalPolicy, Validations } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Duration } from "aws-cdk-lib";
import { Construct } from "constructs";
import { RESOURCE_IDS } from "../../lambdas/contract/resources.ts";
import { DEFAULT_ROUTE_FAMILY, ROUTES, type RouteFamily } from "../../lambdas/contract/routes.ts";

export interface PublicApiProps {
  readonly authorizer: IFunction;
  /** The function serving each route family of the route table. */
  readonly families: Readonly<Record<RouteFamily, IFunction>>;
}

/**
 * The HTTP API: every route of the route table, behind the Bearer-token authorizer,
 * on a `$default` stage with access logs and throttling.
 */
export class PublicApi extends Construct {
  readonly api: HttpApi;

  constructor(scope: Construct, id: string, props: PublicApiProps) {
    super(scope, id);
    const authorizer = new HttpLambdaAuthorizer("BearerToken", props.authorizer, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      // No identity source and no cache: the authorizer must run for requests without a
      // header too, so that they get the API's 401 problem instead of the gateway's body; and
      // a cached verdict would outlive a portal link's expiry or its tenant's revocation.
      identitySource: [],
      resultsCacheTtl: Duration.seconds(0),
    });
    this.api = new HttpApi(this, RESOURCE_IDS.api, {
      description: "Fiscal Webhooks: Portal Único subscriptions and the account webhook API",
      defaultAuthorizer: authorizer,
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, "AccessLogs", {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new HttpStage(this, "DefaultStage", {
      httpApi: this.api,
      autoDeploy: true,
      throttle: { rateLimit: 200, burstLimit: 400 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.jsonWithStandardFields(),
      },
    });
    const integrations = new Map<RouteFamily, HttpLambdaIntegration>();
    const integrationOf = (family: RouteFamily) => {
      let integration = integrations.get(family);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${family}Integration`, props.families[family]);
        integrations.set(family, integration);
      }
      return integration;
    };
    for (const route of ROUTES) {
      const integration = integrationOf(route.family);
      const publicBecause = "public" in route ? route.public : undefined;
      const [added] = this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
        ...(publicBecause ? { authorizer: new HttpNoneAuthorizer() } : {}),
      });
      if (publicBecause && added) {
        Validations.of(added).acknowledge({ id: "AwsSolutions::AwsSolutions-APIG4", reason: `${route.method} ${route.path} ${publicBecause}` });
      }
    }
    // What matches no route reaches the console function, which serves the console's entry
    // page (/console/, a path no route may have) and answers anything else with a 404 or 405
    // problem: the gateway's own {"message": …} body never reaches a client for these.
    const fallback = new HttpRoute(this, "DefaultRoute", {
      httpApi: this.api,
      routeKey: HttpRouteKey.DEFAULT,
      integration: integrationOf(DEFAULT_ROUTE_FAMILY),
      authorizer: new HttpNoneAuthorizer(),
    });
    Validations.of(fallback).acknowledge({
      id: "AwsSolutions::AwsSolutions-APIG4",
      reason: "the $default route serves the web console's entry page and answers 404/405 problems for other requests that match no route: no tenant data, no side effects",
    });
  }
}
