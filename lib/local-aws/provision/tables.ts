import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import type { ResolvedTemplate } from "../template/resolve.ts";

/** A DynamoDB table as the template declares it, with intrinsics already resolved. */
export interface TableDeclaration {
  readonly logicalId: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface ProvisionedTable {
  readonly logicalId: string;
  readonly tableName: string;
  readonly timeToLiveAttribute?: string;
  /** False when the emulator cannot apply the TTL setting (dynalite has no UpdateTimeToLive). */
  readonly timeToLiveApplied: boolean;
}

/**
 * Creates a table with the template's keys, indexes and billing mode. A table persisted
 * by an earlier run is kept when its key schema still matches and refused, by name,
 * when it does not (the local data would no longer fit the code).
 */
export async function provisionTable(client: DynamoDBClient, table: TableDeclaration): Promise<ProvisionedTable> {
  const p = table.properties;
  const input = {
    TableName: p["TableName"],
    KeySchema: p["KeySchema"],
    AttributeDefinitions: p["AttributeDefinitions"],
    BillingMode: p["BillingMode"] ?? "PROVISIONED",
    ProvisionedThroughput: p["ProvisionedThroughput"],
    GlobalSecondaryIndexes: p["GlobalSecondaryIndexes"],
    LocalSecondaryIndexes: p["LocalSecondaryIndexes"],
  } as CreateTableCommandInput;
  const tableName = String(input.TableName);
  try {
    await client.send(new CreateTableCommand(input));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    await assertSameSchema(client, input);
  }
  const ttl = p["TimeToLiveSpecification"] as { AttributeName?: string; Enabled?: boolean } | undefined;
  let timeToLiveApplied = false;
  if (ttl?.Enabled && ttl.AttributeName) {
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
        }),
      );
      timeToLiveApplied = true;
    } catch (error) {
      // dynalite does not implement UpdateTimeToLive; items simply do not expire locally.
      if ((error as { name?: string }).name !== "UnknownOperationException") throw error;
    }
  }
  return {
    logicalId: table.logicalId,
    tableName,
    ...(ttl?.AttributeName ? { timeToLiveAttribute: ttl.AttributeName } : {}),
    timeToLiveApplied,
  };
}

async function assertSameSchema(client: DynamoDBClient, wanted: CreateTableCommandInput): Promise<void> {
  const { Table: existing } = await client.send(new DescribeTableCommand({ TableName: wanted.TableName }));
  const shape = (keySchema: unknown, indexes: { IndexName?: string; KeySchema?: unknown }[] | undefined) =>
    JSON.stringify({
      keys: keySchema,
      indexes: (indexes ?? [])
        .map((index) => ({ name: index.IndexName, keys: index.KeySchema }))
        .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    });
  const want = shape(wanted.KeySchema, wanted.GlobalSecondaryIndexes);
  const have = shape(existing?.KeySchema, existing?.GlobalSecondaryIndexes);
  if (want !== have) {
    throw new Error(
      `Local table ${wanted.TableName} was created with another key schema or indexes than the template now declares; ` +
        `remove the local data directory (or start with --in-memory). Have ${have}, want ${want}`,
    );
  }
}

/** Creates every table of the template under its local physical name. */
export async function provisionTables(client: DynamoDBClient, resolved: ResolvedTemplate): Promise<ProvisionedTable[]> {
  const tables: ProvisionedTable[] = [];
  for (const [logicalId] of resolved.ofType("AWS::DynamoDB::Table")) {
    const properties = { ...resolved.properties(logicalId), TableName: resolved.physical(logicalId).ref };
    tables.push(await provisionTable(client, { logicalId, properties }));
  }
  return tables;
}
