import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { OUTPUTS, STACK_NAME } from "../../lambdas/contract/resources.ts";
import { readOutputsFile } from "./product.ts";
import { LOCAL_CREDENTIALS } from "../local-aws/runtime.ts";

/** How the CLIs reach a stack: the local runtime's or a deployed one's outputs file. */
export interface StackConnection {
  output(name: string): string;
  dynamodb(): DynamoDBClient;
  sqs(): SQSClient;
}

/**
 * Reads an outputs file (`.local/outputs.json`, or what `cdk deploy --outputs-file` wrote).
 * A `local` section points the clients at the emulators; otherwise they use the usual AWS
 * credentials and the stack's region.
 */
export async function connectToStack(file: string): Promise<StackConnection> {
  const outputs = await readOutputsFile(file).catch((error: unknown) => {
    throw new Error(`cannot read ${file} (${(error as Error).message}); start the local runtime (npm start) or pass --outputs`);
  });
  const stack = outputs[STACK_NAME] as Readonly<Record<string, string>> | undefined;
  const local = outputs.local;
  const region = local?.region ?? stack?.[OUTPUTS.region];
  const base = { ...(region ? { region } : {}), ...(local ? { credentials: LOCAL_CREDENTIALS } : {}) };
  return {
    output(name) {
      const value = stack?.[name];
      if (!value) throw new Error(`${file} has no ${STACK_NAME}.${name}`);
      return value;
    },
    dynamodb: () => new DynamoDBClient({ ...base, ...(local ? { endpoint: local.dynamodbEndpoint } : {}) }),
    sqs: () => new SQSClient({ ...base, ...(local ? { endpoint: local.sqsEndpoint } : {}) }),
  };
}
