import { existsSync } from "node:fs";
import path from "node:path";
import type { ResolvedTemplate } from "../template/resolve.ts";
import type { LocalFunction } from "./lambda-host.ts";

/** What every function's environment gets from the runtime around it. */
export interface FunctionSetting {
  readonly region: string;
  /** What each function's SDK signs with: the proxies that authorize its calls know it by its key. */
  readonly credentials: (functionId: string) => { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly assemblyDir: string;
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  /** Added last, on top of the template's variables. */
  readonly extra: Readonly<Record<string, string>>;
}

/** Every function of the template, found through its bundle's `aws:asset:path` metadata. */
export function functionsOf(resolved: ResolvedTemplate, setting: FunctionSetting): LocalFunction[] {
  return resolved.ofType("AWS::Lambda::Function").map(([logicalId, resource]) =>
    localFunction(logicalId, resource.Metadata ?? {}, resolved.properties(logicalId), resolved, setting),
  );
}

function localFunction(
  logicalId: string,
  metadata: Readonly<Record<string, unknown>>,
  props: Record<string, unknown>,
  resolved: ResolvedTemplate,
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
  const physical = resolved.physical(logicalId);
  const functionName = physical.ref;
  const credentials = setting.credentials(logicalId);
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
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
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
