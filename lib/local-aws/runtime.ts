import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import path from "node:path";
import { hasHttpApi, routesOf } from "./http-api/template-routes.ts";
import { compileRoutes } from "./http-api/routes.ts";
import { openHttpGateway, type OpenHttpGateway } from "./http-api/server.ts";
import { functionsOf } from "./lambda/functions.ts";
import { LambdaHost, type InjectedFaults, type InvocationObserver, type LocalFunction } from "./lambda/lambda-host.ts";
import { startDynamoDb, startSqs } from "./provision/emulators.ts";
import { provisionQueues, type LocalQueue } from "./provision/queues.ts";
import { provisionTables, type ProvisionedTable } from "./provision/tables.ts";
import { eventSourcesOf } from "./sqs/event-sources.ts";
import { startSqsPoller, type SqsEventSource, type SqsPoller } from "./sqs/sqs-poller.ts";
import { resolveTemplate } from "./template/resolve.ts";
import { assertSupported, type SynthesizedStack } from "./template/template.ts";

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
  /** Failures to inject into functions' invocations, by logical id (see InjectedFaults). */
  readonly faults?: Readonly<Record<string, InjectedFaults>>;
  /**
   * Failures the runtime absorbs as AWS would, reported here so they are not silent:
   * a function behind a 500 of the gateway, an SQS poller's unexpected error.
   */
  readonly onError?: (source: string, error: unknown) => void;
  /** What AWS would show in its metrics rather than as an error: an SQS mapping at its maximum concurrency. */
  readonly onNotice?: (source: string, message: string) => void;
}

export interface LocalRuntime {
  readonly region: string;
  readonly apiUrl: string | undefined;
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  /** The stack's outputs, resolved to their local values. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly queues: readonly LocalQueue[];
  /** The queue of that logical id; throws when the stack has none. */
  queue(logicalId: string): LocalQueue;
  readonly tables: readonly ProvisionedTable[];
  readonly functions: readonly LocalFunction[];
  readonly eventSources: readonly SqsEventSource[];
  /** Clients on the local emulators, configured as the functions' SDK clients are. */
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  /** Reports every function invocation to `observer` until the returned function is called. */
  observeInvocations(observer: InvocationObserver): () => void;
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
    // Each emulator persists under its own folder of dataDir.
    const emulator = (service: "dynamodb" | "sqs") => ({
      host,
      port: options.ports?.[service] ?? 0,
      ...(options.dataDir ? { dataDir: path.join(options.dataDir, service) } : {}),
    });
    const dynamo = await startDynamoDb(emulator("dynamodb"));
    cleanups.push(() => dynamo.close());
    const sqsEmulator = await startSqs(emulator("sqs"));
    cleanups.push(() => sqsEmulator.close());

    // The gateway listens before the template is resolved (its URL is the API's endpoint) and
    // serves once the routes are known; invocations wait for the functions.
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
    let gateway: OpenHttpGateway | undefined;
    if (hasHttpApi(template)) {
      gateway = await openHttpGateway({
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
    const resolved = resolveTemplate(template, {
      stackName,
      region,
      accountId: LOCAL_ACCOUNT_ID,
      sqsEndpoint: sqsEmulator.endpoint,
      apiEndpoint: gateway?.url ?? "",
      apiId,
    });
    gateway?.serve(compileRoutes(routesOf(resolved)));

    const clientConfig = { region, credentials: LOCAL_CREDENTIALS };
    const dynamodb = new DynamoDBClient({ ...clientConfig, endpoint: dynamo.endpoint });
    const sqs = new SQSClient({ ...clientConfig, endpoint: sqsEmulator.endpoint });
    cleanups.push(async () => {
      dynamodb.destroy();
      sqs.destroy();
    });
    const tables = await provisionTables(dynamodb, resolved);
    const queues = await provisionQueues(sqs, resolved);

    const functions = functionsOf(resolved, {
      region,
      credentials: LOCAL_CREDENTIALS,
      assemblyDir: options.stack.assemblyDir,
      dynamodbEndpoint: dynamo.endpoint,
      sqsEndpoint: sqsEmulator.endpoint,
      extra: options.extraEnvironment ?? {},
    });
    const lambdaHost = new LambdaHost(functions, {
      ...(options.maxInstancesPerFunction ? { maxInstancesPerFunction: options.maxInstancesPerFunction } : {}),
      ...(options.functionOutput ? { output: options.functionOutput } : {}),
      ...(options.faults ? { faults: options.faults } : {}),
    });
    lambdas = lambdaHost;
    ready();
    cleanups.push(async () => {
      lambdas = undefined;
      await lambdaHost.close();
    });

    const eventSources = eventSourcesOf(resolved, functions, queues);
    const pollers: SqsPoller[] = eventSources.map((source) =>
      startSqsPoller({
        source,
        sqs,
        invoker,
        region,
        onError: (error) => options.onError?.(`poller ${source.functionId}`, error),
        onSaturated: (maximum) =>
          options.onNotice?.(
            `poller ${source.functionId}`,
            `saturated: ${maximum} batches in flight, the mapping's maximum concurrency; messages wait in the queue`,
          ),
      }),
    );
    // Pollers stop first (pushed last): in-flight batches finish while their functions still run.
    cleanups.push(async () => {
      await Promise.all(pollers.map((poller) => poller.stop()));
    });

    return {
      region,
      apiUrl: gateway?.url,
      dynamodbEndpoint: dynamo.endpoint,
      sqsEndpoint: sqsEmulator.endpoint,
      outputs: resolved.outputs,
      queues,
      queue(logicalId) {
        const queue = queues.find((candidate) => candidate.logicalId === logicalId);
        if (!queue) throw new Error(`The stack has no queue ${logicalId}`);
        return queue;
      },
      tables,
      functions,
      eventSources,
      dynamodb,
      sqs,
      observeInvocations: (observer) => lambdaHost.observe(observer),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
