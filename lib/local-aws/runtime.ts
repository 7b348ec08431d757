import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { existsSync } from "node:fs";
import path from "node:path";
import { startDynamoDb, startSqs } from "./provision/emulators.ts";
import { startHttpGateway, type GatewayRoute, type HttpGateway } from "./http-api/server.ts";
import {
  localPhysicalResources,
  resolveIntrinsics,
  type LocalPlacement,
  type PhysicalResource,
} from "./template/intrinsics.ts";
import { LambdaHost, type LocalFunction } from "./lambda/lambda-host.ts";
import {
  orderQueuesForCreation,
  provisionQueue,
  provisionTable,
  type ProvisionedTable,
  type QueueDeclaration,
} from "./provision/tables.ts";
import { startSqsPoller, type SqsEventSource, type SqsPoller } from "./sqs/sqs-poller.ts";
import { assertSupported, resourcesOfType, type CfnTemplate, type SynthesizedStack } from "./template/template.ts";

export const LOCAL_ACCOUNT_ID = "000000000000";
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

export interface LocalRuntimeOptions {
  readonly stack: SynthesizedStack;
  /** Loopback address every server binds to. */
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly ports?: { readonly api?: number; readonly dynamodb?: number; readonly sqs?: number };
  /** Where the emulators persist their data; undefined keeps everything in memory. */
  readonly dataDir?: string;
  readonly region?: string;
  /** Variables added to every function's environment on top of the template's. */
  readonly extraEnvironment?: Readonly<Record<string, string>>;
  readonly functionOutput?: (functionId: string, line: string) => void;
  readonly maxInstancesPerFunction?: number;
  /**
   * Failures the runtime absorbs as AWS would, reported here so they are not silent:
   * a function behind a 500 of the gateway, an SQS poller's unexpected error.
   */
  readonly onError?: (source: string, error: unknown) => void;
}

export interface LocalQueue {
  readonly logicalId: string;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

export interface LocalRuntime {
  readonly region: string;
  readonly apiUrl: string | undefined;
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  /** The stack's outputs, resolved to their local values. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly queues: readonly LocalQueue[];
  readonly tables: readonly ProvisionedTable[];
  readonly functions: readonly LocalFunction[];
  readonly eventSources: readonly SqsEventSource[];
  /** Clients on the local emulators, configured as the functions' SDK clients are. */
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  stop(): Promise<void>;
}

/**
 * Runs a synthesized stack on this machine: DynamoDB and SQS emulators, every table and
 * queue the template declares, every function from its own bundle in isolated execution
 * environments, the HTTP API's routes and authorizer, and every SQS event source mapping.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { template, stackName } = options.stack;
  assertSupported(template);
  const host = options.host ?? "127.0.0.1";
  const region = options.region ?? "us-east-1";
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const dynamo = await startDynamoDb({
      host,
      port: options.ports?.dynamodb ?? 0,
      ...(options.dataDir ? { dataDir: path.join(options.dataDir, "dynamodb") } : {}),
    });
    cleanups.push(() => dynamo.close());
    const sqsEmulator = await startSqs({
      host,
      port: options.ports?.sqs ?? 0,
      ...(options.dataDir ? { dataDir: path.join(options.dataDir, "sqs") } : {}),
    });
    cleanups.push(() => sqsEmulator.close());

    // The gateway must listen before anything resolves its URL; it waits for the functions.
    let lambdas: LambdaHost | undefined;
    let ready: () => void = () => undefined;
    const functionsReady = new Promise<void>((resolve) => (ready = resolve));
    const invoker = {
      invoke: async (functionId: string, event: unknown) => {
        await functionsReady;
        if (!lambdas) throw new Error("the local runtime is stopping");
        return lambdas.invoke(functionId, event);
      },
    };
    const apiId = "local";
    const draft: LocalPlacement = {
      stackName,
      region,
      accountId: LOCAL_ACCOUNT_ID,
      sqsEndpoint: sqsEmulator.endpoint,
      apiEndpoint: "",
      apiId,
    };
    let gateway: HttpGateway | undefined;
    const routes = gatewayRoutes(template, draft);
    if (routes) {
      gateway = await startHttpGateway({
        routes,
        invoker,
        host,
        port: options.ports?.api ?? 0,
        apiId,
        region,
        accountId: LOCAL_ACCOUNT_ID,
        onError: (failure) => options.onError?.(`${failure.routeKey} → ${failure.functionId}`, failure.error),
      });
      const open = gateway;
      cleanups.push(() => open.close());
    }
    const placement: LocalPlacement = { ...draft, apiEndpoint: gateway?.url ?? "" };
    const physical = localPhysicalResources(template, placement);
    const resolved = (logicalId: string) =>
      resolveIntrinsics(template.Resources[logicalId]?.Properties ?? {}, physical, placement) as Record<string, unknown>;

    const clientConfig = { region, credentials: LOCAL_CREDENTIALS };
    const dynamodb = new DynamoDBClient({ ...clientConfig, endpoint: dynamo.endpoint });
    const sqs = new SQSClient({ ...clientConfig, endpoint: sqsEmulator.endpoint });
    cleanups.push(async () => {
      dynamodb.destroy();
      sqs.destroy();
    });

    const tables: ProvisionedTable[] = [];
    for (const [logicalId] of resourcesOfType(template, "AWS::DynamoDB::Table")) {
      const properties = { ...resolved(logicalId), TableName: physicalOf(physical, logicalId).ref };
      tables.push(await provisionTable(dynamodb, { logicalId, properties }));
    }
    const queues: LocalQueue[] = resourcesOfType(template, "AWS::SQS::Queue").map(([logicalId]) => {
      const { ref, attributes } = physicalOf(physical, logicalId);
      return { logicalId, name: String(attributes["QueueName"]), url: ref, arn: String(attributes["Arn"]) };
    });
    const declarations: QueueDeclaration[] = queues.map((queue) => ({
      logicalId: queue.logicalId,
      queueName: queue.name,
      queueUrl: queue.url,
      properties: resolved(queue.logicalId),
    }));
    for (const declaration of orderQueuesForCreation(declarations)) await provisionQueue(sqs, declaration);

    const functions = resourcesOfType(template, "AWS::Lambda::Function").map(([logicalId, resource]) =>
      localFunction(logicalId, resource.Metadata ?? {}, resolved(logicalId), physicalOf(physical, logicalId), {
        region,
        assemblyDir: options.stack.assemblyDir,
        dynamodbEndpoint: dynamo.endpoint,
        sqsEndpoint: sqsEmulator.endpoint,
        extra: options.extraEnvironment ?? {},
      }),
    );
    const lambdaHost = new LambdaHost(functions, {
      ...(options.maxInstancesPerFunction ? { maxInstancesPerFunction: options.maxInstancesPerFunction } : {}),
      ...(options.functionOutput ? { output: options.functionOutput } : {}),
    });
    lambdas = lambdaHost;
    ready();
    cleanups.push(async () => {
      lambdas = undefined;
      await lambdaHost.close();
    });

    const eventSources = resourcesOfType(template, "AWS::Lambda::EventSourceMapping").map(([logicalId]) =>
      eventSource(logicalId, resolved(logicalId), functions, queues),
    );
    const pollers: SqsPoller[] = eventSources.map((source) =>
      startSqsPoller({
        source,
        sqs,
        invoker,
        region,
        onError: (error) => options.onError?.(`poller ${source.functionId}`, error),
      }),
    );
    // Pollers stop first (pushed last): in-flight batches finish while their functions still run.
    cleanups.push(async () => {
      await Promise.all(pollers.map((poller) => poller.stop()));
    });

    const outputs = Object.fromEntries(
      Object.entries(template.Outputs ?? {}).map(([name, output]) => [
        name,
        String(resolveIntrinsics(output.Value, physical, placement)),
      ]),
    );
    return {
      region,
      apiUrl: gateway?.url,
      dynamodbEndpoint: dynamo.endpoint,
      sqsEndpoint: sqsEmulator.endpoint,
      outputs,
      queues,
      tables,
      functions,
      eventSources,
      dynamodb,
      sqs,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function physicalOf(physical: ReadonlyMap<string, PhysicalResource>, logicalId: string): PhysicalResource {
  const resource = physical.get(logicalId);
  if (!resource) throw new Error(`No local resource ${logicalId}`);
  return resource;
}

/** The HTTP API's routes, or undefined when the template has no HTTP API. */
function gatewayRoutes(template: CfnTemplate, placement: LocalPlacement): GatewayRoute[] | undefined {
  const apis = resourcesOfType(template, "AWS::ApiGatewayV2::Api");
  if (apis.length === 0) return undefined;
  if (apis.length > 1) throw new Error("The local runtime serves one HTTP API per stack");
  if (apis[0]?.[1].Properties?.["ProtocolType"] !== "HTTP") throw new Error("The local runtime serves HTTP APIs only (not WebSocket)");
  for (const [logicalId, stage] of resourcesOfType(template, "AWS::ApiGatewayV2::Stage")) {
    if (stage.Properties?.["StageName"] !== "$default") {
      throw new Error(`Stage ${logicalId}: the local runtime serves the $default stage only`);
    }
  }
  const physical = localPhysicalResources(template, placement);
  const resolve = (logicalId: string) =>
    resolveIntrinsics(template.Resources[logicalId]?.Properties ?? {}, physical, placement) as Record<string, unknown>;
  const functionByArn = new Map(
    resourcesOfType(template, "AWS::Lambda::Function").map(([logicalId]) => [
      physicalOf(physical, logicalId).attributes["Arn"],
      logicalId,
    ]),
  );
  const functionOf = (uri: unknown, where: string): string => {
    // Integration URIs are function ARNs; authorizer URIs wrap one in an apigateway invocation ARN.
    const arn = /arn:aws:lambda:[^/]+?:function:[^/:]+/.exec(String(uri))?.[0];
    const logicalId = arn ? functionByArn.get(arn) : undefined;
    if (!logicalId) throw new Error(`${where}: ${String(uri)} is not a Lambda function of this stack`);
    return logicalId;
  };
  return resourcesOfType(template, "AWS::ApiGatewayV2::Route").map(([logicalId]) => {
    const route = resolve(logicalId);
    const integrationId = /^integrations\/(.+)$/.exec(String(route["Target"]))?.[1];
    const integration = integrationId ? resolve(integrationId) : undefined;
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
    const authorizer = resolve(String(route["AuthorizerId"]));
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

interface FunctionSetting {
  readonly region: string;
  readonly assemblyDir: string;
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  readonly extra: Readonly<Record<string, string>>;
}

function localFunction(
  logicalId: string,
  metadata: Readonly<Record<string, unknown>>,
  props: Record<string, unknown>,
  physical: PhysicalResource,
  setting: FunctionSetting,
): LocalFunction {
  const runtime = String(props["Runtime"]);
  if (!runtime.startsWith("nodejs")) throw new Error(`Function ${logicalId}: runtime ${runtime} cannot run locally`);
  const assetPath = metadata["aws:asset:path"];
  if (typeof assetPath !== "string") {
    throw new Error(`Function ${logicalId} has no aws:asset:path metadata: synthesize with asset metadata enabled`);
  }
  const [moduleName, handlerExport] = String(props["Handler"]).split(/\.(?=[^.]+$)/);
  const dir = path.resolve(setting.assemblyDir, assetPath);
  const handlerFile = [".mjs", ".js", ".cjs"].map((ext) => path.join(dir, `${moduleName}${ext}`)).find(existsSync);
  if (!handlerFile || !handlerExport) throw new Error(`Function ${logicalId}: handler ${String(props["Handler"])} not found in ${dir}`);
  const memorySize = Number(props["MemorySize"] ?? 128);
  const functionName = physical.ref;
  const variables = ((props["Environment"] as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
  const logFormat = (props["LoggingConfig"] as { LogFormat?: string } | undefined)?.LogFormat;
  return {
    logicalId,
    functionName,
    functionArn: String(physical.attributes["Arn"]),
    handlerFile,
    handlerExport,
    timeoutSeconds: Number(props["Timeout"] ?? 3),
    memorySize,
    environment: {
      // What Lambda itself sets, then the template's variables, then the local endpoints.
      AWS_REGION: setting.region,
      AWS_DEFAULT_REGION: setting.region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySize),
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
      ...(logFormat ? { AWS_LAMBDA_LOG_FORMAT: logFormat } : {}),
      TZ: "UTC",
      ...Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, String(value)])),
      AWS_ENDPOINT_URL_DYNAMODB: setting.dynamodbEndpoint,
      AWS_ENDPOINT_URL_SQS: setting.sqsEndpoint,
      ...setting.extra,
    },
  };
}

function eventSource(
  logicalId: string,
  props: Record<string, unknown>,
  functions: readonly LocalFunction[],
  queues: readonly LocalQueue[],
): SqsEventSource {
  const queue = queues.find((candidate) => candidate.arn === props["EventSourceArn"]);
  if (!queue) throw new Error(`Event source mapping ${logicalId}: only SQS queues of this stack are supported locally`);
  const name = String(props["FunctionName"]);
  const fn = functions.find((candidate) => candidate.functionName === name || candidate.functionArn === name);
  if (!fn) throw new Error(`Event source mapping ${logicalId}: function ${name} is not in this stack`);
  const scaling = props["ScalingConfig"] as { MaximumConcurrency?: number } | undefined;
  const responseTypes = (props["FunctionResponseTypes"] as string[] | undefined) ?? [];
  return {
    functionId: fn.logicalId,
    queueUrl: queue.url,
    queueArn: queue.arn,
    batchSize: Number(props["BatchSize"] ?? 10),
    maximumBatchingWindowSeconds: Number(props["MaximumBatchingWindowInSeconds"] ?? 0),
    reportBatchItemFailures: responseTypes.includes("ReportBatchItemFailures"),
    ...(scaling?.MaximumConcurrency ? { maximumConcurrency: scaling.MaximumConcurrency } : {}),
  };
}

