import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ENV, OUTPUTS, STACK_NAME } from "../../lambdas/contract/resources.ts";
import { TenantStore } from "../../lambdas/data/tenants.ts";
import { createLocalCertificateAuthority } from "./certificates.ts";
import { localSecrets, startInspector, type InspectedWebhook, type Inspector } from "./inspector.ts";
import type { InjectedFaults } from "../local-aws/lambda/lambda-host.ts";
import type { LocalQueue } from "../local-aws/provision/queues.ts";
import { startLocalRuntime, type LocalRuntime } from "../local-aws/runtime.ts";
import type { ProductQueue } from "./synth.ts";
import { synthesizeProductApart } from "./synth-apart.ts";

export interface ProductRuntimeOptions {
  /** Holds the synthesized app, the emulators' data (unless inMemory) and outputs.json. */
  readonly dataDir: string;
  readonly inMemory?: boolean;
  readonly host?: string;
  readonly ports?: { readonly api?: number; readonly dynamodb?: number; readonly sqs?: number; readonly inspector?: number };
  /** Seconds before each delivery attempt, e.g. [0, 1, 2] or "0,1,2" for demos and tests (the stack's `retrySchedule` context). */
  readonly retrySchedule?: string | readonly number[];
  /** Portal subscriptions a tenant may hold (the stack's default when absent). */
  readonly maxSubscriptionsPerTenant?: number;
  /** Seconds a receiver has to answer (the stack's default, 10, when absent). */
  readonly deliveryTimeoutSeconds?: number;
  /** Test webhooks a tenant may send a minute (the stack's default, 5, when absent). */
  readonly testWebhooksPerMinute?: number;
  /** Seconds an endpoint may fail without a success before it is disabled (the stack's default, five days, when absent). */
  readonly endpointDisableAfterSeconds?: number;
  /** Seconds warm dispatch and deliver functions keep what they read of a tenant; 0 reads per batch (the stack's default, 10, when absent). */
  readonly configCacheSeconds?: number;
  /**
   * PEM file of extra CAs the delivery functions trust (receivers behind a private CA);
   * defaults to the NODE_EXTRA_CA_CERTS `npm start` itself was given.
   */
  readonly extraCaFile?: string;
  readonly functionOutput?: (functionId: string, line: string) => void;
  /**
   * Failures to inject into the product's functions, by the id of the construct that declares
   * them (`Deliver`, `Dispatch`, …): to see the pipeline survive crashes and timeouts.
   */
  readonly faults?: Readonly<Record<string, InjectedFaults>>;
  /** Shows the CDK's bundling progress while synthesizing. */
  readonly verbose?: boolean;
  /** Each webhook the HTTPS inspector receives, with its signatures checked. */
  readonly onInspectedWebhook?: (webhook: InspectedWebhook) => void;
  readonly onError?: (source: string, error: unknown) => void;
  /** What AWS would show in its metrics: an SQS mapping at its maximum concurrency. */
  readonly onNotice?: (source: string, message: string) => void;
  /** Refuse the functions' calls their roles do not grant (the engine's default, true). */
  readonly enforceIam?: boolean;
  /** Seconds a function's execution environment may stay unused before it is retired (the engine's default, 60; 0: never). */
  readonly environmentIdleSeconds?: number;
}

/** The `local` section of outputs.json: what tools need to reach the local stack. */
export interface LocalConnection {
  readonly region: string;
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  readonly tenantId: string;
  readonly token: string;
  /** The HTTPS inspector receiver: subscribe it to see webhooks arrive, verified. */
  readonly inspectorUrl: string;
}

export interface ProductRuntime {
  readonly runtime: LocalRuntime;
  /** One of the product's queues on the local runtime. */
  queue(name: ProductQueue): LocalQueue;
  readonly apiUrl: string;
  readonly outputs: Readonly<Record<string, string>>;
  readonly local: LocalConnection;
  readonly outputsFile: string;
  readonly inspector: Inspector;
  stop(): Promise<void>;
}

/** Outputs file: `{ [stack]: outputs }` like `cdk deploy --outputs-file`, plus `local`. */
export interface OutputsFile {
  readonly [stackName: string]: Readonly<Record<string, string>> | LocalConnection | undefined;
  readonly local?: LocalConnection;
}

export function outputsFilePath(dataDir: string): string {
  return path.join(dataDir, "outputs.json");
}

/**
 * `npm start`: synthesizes the product, runs it on the local runtime, makes sure a dev
 * tenant with a working token exists (kept across restarts when data persists) and writes
 * outputs.json.
 */
export async function startProductRuntime(options: ProductRuntimeOptions): Promise<ProductRuntime> {
  const dataDir = path.resolve(options.dataDir);
  const assemblyDir = path.join(dataDir, "cdk.out");
  // A stale assembly would leave old bundles behind: every start synthesizes afresh.
  await rm(assemblyDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const stack = await synthesizeProductApart(assemblyDir, {
    ...(options.retrySchedule ? { retrySchedule: options.retrySchedule } : {}),
    ...(options.maxSubscriptionsPerTenant ? { maxSubscriptionsPerTenant: options.maxSubscriptionsPerTenant } : {}),
    ...(options.deliveryTimeoutSeconds ? { deliveryTimeoutSeconds: options.deliveryTimeoutSeconds } : {}),
    ...(options.testWebhooksPerMinute ? { testWebhooksPerMinute: options.testWebhooksPerMinute } : {}),
    ...(options.endpointDisableAfterSeconds ? { endpointDisableAfterSeconds: options.endpointDisableAfterSeconds } : {}),
    ...(options.configCacheSeconds === undefined ? {} : { configCacheSeconds: options.configCacheSeconds }),
  }, { verbose: options.verbose === true });
  // The functions trust the inspector's CA plus any CA the user passed (NODE_EXTRA_CA_CERTS).
  const authority = await createLocalCertificateAuthority();
  const inspectorCertificate = await authority.issueLoopbackCertificate();
  const userCaFile = options.extraCaFile ?? process.env["NODE_EXTRA_CA_CERTS"];
  const extraCaFile = path.join(dataDir, "trusted-ca.pem");
  await authority.writeCaFile(extraCaFile, userCaFile ? await readFile(userCaFile, "utf8") : "");
  const runtime = await startLocalRuntime({
    stack,
    ...(options.host ? { host: options.host } : {}),
    ...(options.ports ? { ports: options.ports } : {}),
    ...(options.inMemory ? {} : { dataDir }),
    // Local receivers live on loopback; the deployed stack never sets this.
    extraEnvironment: {
      [ENV.allowLoopbackTargets]: "true",
      NODE_EXTRA_CA_CERTS: extraCaFile,
    },
    ...(options.functionOutput ? { functionOutput: options.functionOutput } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
    ...(options.onNotice ? { onNotice: options.onNotice } : {}),
    ...(options.faults ? { faults: faultsByLogicalId(options.faults, stack.logicalIds.functions) } : {}),
    ...(options.enforceIam === undefined ? {} : { enforceIam: options.enforceIam }),
    ...(options.environmentIdleSeconds === undefined ? {} : { environmentIdleSeconds: options.environmentIdleSeconds }),
  });
  let inspector: Inspector | undefined;
  const stop = async () => {
    await inspector?.close();
    await runtime.stop();
  };
  try {
    const outputs = runtime.outputs;
    const tableName = required(outputs, OUTPUTS.tableName);
    const apiUrl = required(outputs, OUTPUTS.apiUrl);
    inspector = await startInspector({
      host: options.host ?? "127.0.0.1",
      port: options.ports?.inspector ?? 0,
      certificate: inspectorCertificate,
      secrets: localSecrets(runtime.dynamodb, tableName),
      ...(options.onInspectedWebhook ? { onWebhook: options.onInspectedWebhook } : {}),
    });
    const outputsFile = outputsFilePath(dataDir);
    const tenants = new TenantStore(DynamoDBDocumentClient.from(runtime.dynamodb), tableName);
    const dev = await devTenant(tenants, outputsFile, !options.inMemory);
    const local: LocalConnection = {
      region: runtime.region,
      dynamodbEndpoint: runtime.dynamodbEndpoint,
      sqsEndpoint: runtime.sqsEndpoint,
      ...dev,
      inspectorUrl: inspector.url,
    };
    const file: OutputsFile = { [STACK_NAME]: { ...outputs }, local };
    await writeFile(outputsFile, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
    const queue = (name: ProductQueue) => runtime.queue(stack.logicalIds.queues[name]);
    return { runtime, queue, apiUrl, outputs, local, outputsFile, inspector, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Reuses the dev tenant of an earlier run when its token still works; creates one otherwise. */
async function devTenant(
  tenants: TenantStore,
  outputsFile: string,
  persisted: boolean,
): Promise<{ tenantId: string; token: string }> {
  if (persisted) {
    const previous = await readOutputsFile(outputsFile).catch(() => undefined);
    const earlier = previous?.local;
    if (earlier && (await tenants.tenantIdForToken(earlier.token)) === earlier.tenantId) {
      return { tenantId: earlier.tenantId, token: earlier.token };
    }
  }
  const { tenant, token } = await tenants.create("dev");
  return { tenantId: tenant.tenantId, token };
}

export async function readOutputsFile(file: string): Promise<OutputsFile> {
  return JSON.parse(await readFile(file, "utf8")) as OutputsFile;
}

function required(outputs: Readonly<Record<string, string>>, name: string): string {
  const value = outputs[name];
  if (!value) throw new Error(`The stack has no output ${name}`);
  return value;
}

function faultsByLogicalId(
  faults: Readonly<Record<string, InjectedFaults>>,
  functions: Readonly<Record<string, string>>,
): Record<string, InjectedFaults> {
  return Object.fromEntries(
    Object.entries(faults).map(([name, fault]) => {
      const logicalId = functions[name];
      if (!logicalId) throw new Error(`No function ${name} to inject faults into (there are ${Object.keys(functions).join(", ")})`);
      return [logicalId, fault];
    }),
  );
}
