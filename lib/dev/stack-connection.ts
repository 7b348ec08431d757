import { CloudFormationClient, DescribeStacksCommand, type Stack } from "@aws-sdk/client-cloudformation";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { OUTPUTS, STACK_NAME } from "../../lambdas/contract/resources.ts";
import { readOutputsFile, type LocalConnection } from "./product.ts";
import { LOCAL_CREDENTIALS } from "../local-aws/runtime.ts";

/** How the CLIs reach a stack: the local runtime's or a deployed one's outputs. */
export interface StackConnection {
  output(name: string): string;
  /** The local runtime's section of its outputs file; absent for a deployed stack. */
  readonly local?: LocalConnection;
  dynamodb(): DynamoDBClient;
  sqs(): SQSClient;
}

/** Where the outputs come from: a deployed stack by name (CloudFormation), or an outputs file. */
export type StackSource =
  | { readonly stack: string; readonly region?: string; readonly profile?: string }
  | { readonly outputs: string };

/** The CLIs' shared options that choose a stack, for `parseArgs`. */
export const STACK_OPTIONS = {
  stack: { type: "string" },
  region: { type: "string" },
  profile: { type: "string" },
  outputs: { type: "string" },
} as const;

export const STACK_OPTIONS_USAGE = `--stack <name>   a deployed stack (e.g. ${STACK_NAME}): its outputs are read with CloudFormation
                 DescribeStacks, with your usual AWS credentials; --region and --profile choose them
--outputs <file> an outputs file instead: .local/outputs.json (the default: the local runtime)
                 or the file written by \`cdk deploy --outputs-file\``;

/** The source the CLI options name: `--stack` wins, then `--outputs`, then the local runtime's file. */
export function stackSource(
  options: { stack?: string; region?: string; profile?: string; outputs?: string },
  localOutputsFile: string,
): StackSource {
  if (options.stack) return { stack: options.stack, region: options.region, profile: options.profile };
  return { outputs: options.outputs ?? localOutputsFile };
}

export async function connectToStack(source: StackSource): Promise<StackConnection> {
  return "stack" in source ? connectToDeployedStack(source) : connectToOutputsFile(source.outputs);
}

/** A stack's outputs as `cdk deploy --outputs-file` writes them: output key → value. */
export function outputsOfStack(stack: Stack): Record<string, string> {
  return Object.fromEntries(
    (stack.Outputs ?? []).flatMap(({ OutputKey, OutputValue }) => (OutputKey && OutputValue !== undefined ? [[OutputKey, OutputValue]] : [])),
  );
}

async function connectToDeployedStack(source: { stack: string; region?: string; profile?: string }): Promise<StackConnection> {
  const config = { ...(source.region ? { region: source.region } : {}), ...(source.profile ? { profile: source.profile } : {}) };
  const cloudFormation = new CloudFormationClient(config);
  try {
    const { Stacks: [stack] = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: source.stack })).catch((error: unknown) => {
      throw new Error(`cannot describe stack ${source.stack}: ${(error as Error).message}`);
    });
    if (!stack) throw new Error(`no stack ${source.stack}`);
    const outputs = outputsOfStack(stack);
    const region = source.region ?? outputs[OUTPUTS.region];
    const clientConfig = { ...config, ...(region ? { region } : {}) };
    return {
      output: (name) => outputs[name] ?? missing(`stack ${source.stack} has no output ${name}`),
      dynamodb: () => new DynamoDBClient(clientConfig),
      sqs: () => new SQSClient(clientConfig),
    };
  } finally {
    cloudFormation.destroy();
  }
}

/**
 * Reads an outputs file (`.local/outputs.json`, or what `cdk deploy --outputs-file` wrote).
 * A `local` section points the clients at the emulators; otherwise they use the usual AWS
 * credentials and the stack's region.
 */
async function connectToOutputsFile(file: string): Promise<StackConnection> {
  const outputs = await readOutputsFile(file).catch((error: unknown) => {
    throw new Error(`cannot read ${file} (${(error as Error).message}); start the local runtime (npm start), or pass --stack or --outputs`);
  });
  const stack = outputs[STACK_NAME] as Readonly<Record<string, string>> | undefined;
  const local = outputs.local;
  const region = local?.region ?? stack?.[OUTPUTS.region];
  const base = { ...(region ? { region } : {}), ...(local ? { credentials: LOCAL_CREDENTIALS } : {}) };
  return {
    output: (name) => stack?.[name] || missing(`${file} has no ${STACK_NAME}.${name}`),
    ...(local ? { local } : {}),
    dynamodb: () => new DynamoDBClient({ ...base, ...(local ? { endpoint: local.dynamodbEndpoint } : {}) }),
    sqs: () => new SQSClient({ ...base, ...(local ? { endpoint: local.sqsEndpoint } : {}) }),
  };
}

function missing(message: string): never {
  throw new Error(message);
}
