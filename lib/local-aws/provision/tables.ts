import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, SetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";

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

/** An SQS queue as the template declares it, with intrinsics already resolved. */
export interface QueueDeclaration {
  readonly logicalId: string;
  readonly queueName: string;
  /** The URL on the emulator's endpoint origin (the emulator's own may use a host that does not resolve). */
  readonly queueUrl: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** Template properties that are SQS queue attributes of the same name. */
const QUEUE_ATTRIBUTES = [
  "DelaySeconds",
  "MaximumMessageSize",
  "MessageRetentionPeriod",
  "ReceiveMessageWaitTimeSeconds",
  "VisibilityTimeout",
] as const;

/**
 * Creates the queue (idempotent), then sets every attribute the template declares, so a
 * queue persisted by an earlier run picks up changed settings (a new maxReceiveCount, say).
 * Encryption settings have no local meaning and are not applied.
 */
export async function provisionQueue(client: SQSClient, queue: QueueDeclaration): Promise<Record<string, string>> {
  const p = queue.properties;
  const attributes: Record<string, string> = {};
  for (const name of QUEUE_ATTRIBUTES) {
    if (p[name] !== undefined) attributes[name] = String(p[name]);
  }
  const redrive = p["RedrivePolicy"] as { deadLetterTargetArn?: string; maxReceiveCount?: number } | undefined;
  if (redrive) {
    if (!redrive.deadLetterTargetArn || !redrive.maxReceiveCount) {
      throw new Error(`Queue ${queue.logicalId}: RedrivePolicy needs deadLetterTargetArn and maxReceiveCount`);
    }
    attributes["RedrivePolicy"] = JSON.stringify({
      deadLetterTargetArn: redrive.deadLetterTargetArn,
      maxReceiveCount: Number(redrive.maxReceiveCount),
    });
  }
  await client.send(new CreateQueueCommand({ QueueName: queue.queueName }));
  if (Object.keys(attributes).length > 0) {
    await client.send(new SetQueueAttributesCommand({ QueueUrl: queue.queueUrl, Attributes: attributes }));
  }
  return attributes;
}

/**
 * Dead-letter targets before the queues that redrive to them, along whole chains (a DLQ may
 * have a DLQ of its own), so a redrive policy never names a queue that does not exist yet.
 */
export function orderQueuesForCreation(queues: readonly QueueDeclaration[]): QueueDeclaration[] {
  const byName = new Map(queues.map((q) => [q.queueName, q]));
  const targetOf = (q: QueueDeclaration) =>
    (q.properties["RedrivePolicy"] as { deadLetterTargetArn?: string } | undefined)?.deadLetterTargetArn?.split(":").pop();
  const depth = (q: QueueDeclaration, seen = new Set<string>()): number => {
    const target = targetOf(q);
    const next = target === undefined ? undefined : byName.get(target);
    if (!next || seen.has(q.queueName)) return 0;
    seen.add(q.queueName);
    return 1 + depth(next, seen);
  };
  return [...queues].sort((a, b) => depth(a) - depth(b));
}
