import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import path from "node:path";
import {
  AccessDeniedError,
  startIamEnforcement,
  functionAccessKeyId,
  type AccessDenial,
  type IamEnforcement,
  type RequestObserver,
} from "./iam/enforcement.ts";
import { functionIdentities } from "./iam/roles.ts";
import { hasHttpApi, routesOf } from "./http-api/template-routes.ts";
import { compileRoutes } from "./http-api/routes.ts";
import { openHttpGateway, type OpenHttpGateway } from "./http-api/server.ts";
import { functionsOf } from "./lambda/functions.ts";
import { LambdaHost, type EnvironmentCpuUsage, type EnvironmentMemoryUsage, type InjectedFaults, type InvocationObserver, type LocalFunction } from "./lambda/lambda-host.ts";
import { startDynamoDb, startSqs } from "./provision/emulators.ts";
import { provisionQueues, type LocalQueue } from "./provision/queues.ts";
import { provisionTables, type ProvisionedTable } from "./provision/tables.ts";
import { eventSourcesOf } from "./sqs/event-sources.ts";
import { startSqsPoller, type SqsEventSource, type SqsPoller } from "./sqs/sqs-poller.ts";
import { resolveTemplate } from "./template/resolve.ts";
import { assertSupported, type SynthesizedStack } from "./template/template.ts";

export const LOCAL_ACCOUNT_ID = "000000000000";
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;
export type { AccessDenial, ObservedRequest, RequestObserver } from "./iam/enforcement.ts";
export type { EnvironmentCpuUsage, EnvironmentMemoryUsage } from "./lambda/lambda-host.ts";

/** What Lambda needs from a function's role to create an SQS event source mapping for it. */
const EVENT_SOURCE_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"];

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
  /** Seconds an execution environment may stay unused before it is retired (default 60; 0: never). */
  readonly environmentIdleSeconds?: number;
  /** Failures to inject into functions' invocations, by logical id (see InjectedFaults). */
  readonly faults?: Readonly<Record<string, InjectedFaults>>;
  /**
   * Failures the runtime absorbs as AWS would, reported here so they are not silent:
   * a function behind a 500 of the gateway, an SQS poller's unexpected error.
   */
  readonly onError?: (source: string, error: unknown) => void;
  /** What AWS would show in its metrics rather than as an error: an SQS mapping at its maximum concurrency. */
  readonly onNotice?: (source: string, message: string) => void;
  /**
   * Checks every DynamoDB and SQS call of a function (and of its event source mappings)
   * against its execution role in the template, refusing what the role does not allow as AWS
   * would; each denial is also reported to onError. Default true.
   */
  readonly enforceIam?: boolean;
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
  /** Clients on the local emulators, configured as the functions' SDK clients are but with the engine's own (unchecked) credentials. */
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  /** The calls refused so far because a function's role did not allow them (none when IAM is not enforced). */
  accessDenials(): readonly AccessDenial[];
  /** Reports every function invocation to `observer` until the returned function is called. */
  observeInvocations(observer: InvocationObserver): () => void;
  /** CPU time of each live execution environment's thread since it started (see LambdaHost.cpuUsage). */
  environmentCpuUsage(): Promise<EnvironmentCpuUsage[]>;
  /** The V8 heap of each live execution environment (see LambdaHost.memoryUsage). */
  environmentMemoryUsage(): Promise<EnvironmentMemoryUsage[]>;
  /**
   * Reports every DynamoDB and SQS call that goes through (the functions', their event source
   * mappings', the engine's and its clients'), with its bodies, once answered, until the
   * returned function is called. The calls are seen by the IAM proxies: throws when IAM is not enforced.
   */
  observeRequests(observer: RequestObserver): () => void;
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
    // Each emulator persists under its own folder of dataDir. With IAM enforced the emulators
    // sit behind authorizing proxies, which take the chosen ports.
    const enforceIam = options.enforceIam ?? true;
    const emulator = (service: "dynamodb" | "sqs") => ({
      host,
      port: enforceIam ? 0 : (options.ports?.[service] ?? 0),
      ...(options.dataDir ? { dataDir: path.join(options.dataDir, service) } : {}),
    });
    const dynamo = await startDynamoDb(emulator("dynamodb"));
    cleanups.push(() => dynamo.close());
    const sqsEmulator = await startSqs(emulator("sqs"));
    cleanups.push(() => sqsEmulator.close());
    let iam: IamEnforcement | undefined;
    if (enforceIam) {
      const enforcement = await startIamEnforcement({
        placement: { region, accountId: LOCAL_ACCOUNT_ID },
        host,
        ports: { dynamodb: options.ports?.dynamodb ?? 0, sqs: options.ports?.sqs ?? 0 },
        emulators: { dynamodb: dynamo.endpoint, sqs: sqsEmulator.endpoint },
        onDenial: (denial) => options.onError?.(`iam ${denial.functionId}`, new AccessDeniedError(denial)),
      });
      iam = enforcement;
      cleanups.push(() => enforcement.close());
    }
    const dynamodbEndpoint = iam?.dynamodbEndpoint ?? dynamo.endpoint;
    const sqsEndpoint = iam?.sqsEndpoint ?? sqsEmulator.endpoint;

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
      sqsEndpoint,
      apiEndpoint: gateway?.url ?? "",
      apiId,
    });
    gateway?.serve(compileRoutes(routesOf(resolved)));

    const clientConfig = { region, credentials: LOCAL_CREDENTIALS };
    const dynamodb = new DynamoDBClient({ ...clientConfig, endpoint: dynamodbEndpoint });
    const sqs = new SQSClient({ ...clientConfig, endpoint: sqsEndpoint });
    cleanups.push(async () => {
      dynamodb.destroy();
      sqs.destroy();
    });
    const tables = await provisionTables(dynamodb, resolved);
    const queues = await provisionQueues(sqs, resolved);

    iam?.enforce(functionIdentities(resolved));
    const credentialsOf = (functionId: string) =>
      iam ? { accessKeyId: functionAccessKeyId(functionId), secretAccessKey: "local" } : LOCAL_CREDENTIALS;
    const functions = functionsOf(resolved, {
      region,
      credentials: credentialsOf,
      assemblyDir: options.stack.assemblyDir,
      dynamodbEndpoint,
      sqsEndpoint,
      extra: options.extraEnvironment ?? {},
    });
    const lambdaHost = new LambdaHost(functions, {
      ...(options.maxInstancesPerFunction ? { maxInstancesPerFunction: options.maxInstancesPerFunction } : {}),
      ...(options.functionOutput ? { output: options.functionOutput } : {}),
      ...(options.faults ? { faults: options.faults } : {}),
      ...(options.environmentIdleSeconds === undefined ? {} : { environmentIdleSeconds: options.environmentIdleSeconds }),
    });
    lambdas = lambdaHost;
    ready();
    cleanups.push(async () => {
      lambdas = undefined;
      await lambdaHost.close();
    });

    const eventSources = eventSourcesOf(resolved, functions, queues);
    // As in AWS, a mapping polls with its function's role, and is not created when that role
    // lacks what Lambda needs on the queue (the denial is reported).
    const pollers: SqsPoller[] = [];
    const pollerClients: SQSClient[] = [];
    // Pollers stop first (pushed last): in-flight batches finish while their functions still run.
    cleanups.push(async () => {
      await Promise.all(pollers.map((poller) => poller.stop()));
      for (const client of pollerClients) client.destroy();
    });
    for (const source of eventSources) {
      const refused = iam?.authorize(
        source.functionId,
        EVENT_SOURCE_ACTIONS.map((action) => ({ action, resource: source.queueArn })),
      );
      if (refused) continue;
      const client = new SQSClient({ region, endpoint: sqsEndpoint, credentials: credentialsOf(source.functionId) });
      pollerClients.push(client);
      pollers.push(
        startSqsPoller({
          source,
          sqs: client,
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
    }

    return {
      region,
      apiUrl: gateway?.url,
      dynamodbEndpoint,
      sqsEndpoint,
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
      accessDenials: () => iam?.accessDenials() ?? [],
      observeInvocations: (observer) => lambdaHost.observe(observer),
      environmentCpuUsage: () => lambdaHost.cpuUsage(),
      environmentMemoryUsage: () => lambdaHost.memoryUsage(),
      observeRequests(observer) {
        if (!iam) throw new Error("observeRequests needs IAM enforcement (enforceIam), whose proxies see the calls");
        return iam.observe(observer);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
