import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Delivery } from "../../lambdas/domain/delivery.ts";
import { freePort } from "../../lib/local-aws/net.ts";
import { startLocalRuntime, type LocalRuntime } from "../../lib/local-aws/runtime.ts";
import { synthesizeProduct } from "../../lib/dev/synth.ts";
import type { CfnTemplate, SynthesizedStack } from "../../lib/local-aws/template/template.ts";
import { eventually } from "../support/eventually.ts";

const dir = mkdtempSync(path.join(tmpdir(), "fw-dlq-index-"));
let indexerOnly: SynthesizedStack;
let deadQueueId: string;

/**
 * The product's own indexer bundle, alone on the local runtime: the table, the deliveries
 * dead-letter queue (visibility shortened to 1 s for the test), its unindexable queue, the
 * indexer function and its event source mapping.
 */
beforeAll(() => {
  const product = synthesizeProduct(path.join(dir, "cdk.out"));
  const resources = Object.entries(product.template.Resources);
  const { table, queues } = product.logicalIds;
  deadQueueId = queues.deliveriesDeadLetterQueue;
  const keep = new Set([
    table,
    deadQueueId,
    queues.unindexableDeadLetterQueue,
    // The function with its role, log group and event source mapping.
    ...resources.filter(([id]) => id.startsWith("DeadLetterIndex")).map(([id]) => id),
  ]);
  const template: CfnTemplate = {
    Resources: Object.fromEntries(
      resources
        .filter(([id]) => keep.has(id))
        .map(([id, r]) => [id, id === deadQueueId ? { ...r, Properties: { ...r.Properties, VisibilityTimeout: 1 } } : r]),
    ),
  };
  expect(Object.values(template.Resources).map((r) => r.Type)).toEqual(
    expect.arrayContaining(["AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Lambda::Function", "AWS::Lambda::EventSourceMapping"]),
  );
  indexerOnly = { ...product, template };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const deadQueue = (runtime: LocalRuntime) => runtime.queue(deadQueueId);
const letters = async (runtime: LocalRuntime) =>
  (await runtime.dynamodb.send(new ScanCommand({ TableName: runtime.tables[0]!.tableName }))).Items?.filter((i) =>
    i["sk"]?.S?.startsWith("DEAD#"),
  ) ?? [];

describe("the dead-letter indexer", () => {
  it("loses nothing when it fails mid-way: the message stays in SQS until its letter is written", async () => {
    const dataDir = path.join(dir, "data");
    const delivery: Delivery = {
      deliveryId: "0f0e0d0c-0b0a-8908-8706-050403020100",
      tenantId: "ten_0123456789abcdef0123",
      eventId: "e1",
      eventType: "boleto.paid",
      url: "https://erp.example.com/hook",
      body: '{"id":"e1"}',
      createdAt: new Date().toISOString(),
      attemptsBefore: 0,
    };
    // First life: DynamoDB is unreachable for the indexer (a crash before its write).
    const broken = await startLocalRuntime({
      stack: indexerOnly,
      dataDir,
      extraEnvironment: { AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${await freePort()}` },
    });
    try {
      await broken.sqs.send(new SendMessageCommand({ QueueUrl: deadQueue(broken).url, MessageBody: JSON.stringify(delivery) }));
      await eventually(async () => {
        const { Attributes = {} } = await broken.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: deadQueue(broken).url, AttributeNames: ["All"] }),
        );
        return Number(Attributes["ApproximateNumberOfMessagesNotVisible"]) > 0 || undefined;
      });
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(await letters(broken)).toEqual([]);
    } finally {
      await broken.stop();
    }

    // Second life, same persisted queue and table: the message is still there and gets indexed.
    const healthy = await startLocalRuntime({ stack: indexerOnly, dataDir });
    try {
      const indexed = await eventually(async () => {
        const found = await letters(healthy);
        return found.length > 0 ? found : undefined;
      });
      expect(indexed).toHaveLength(1);
      expect(indexed[0]?.["sk"]?.S).toBe(`DEAD#${delivery.deliveryId}`);
      await eventually(async () => {
        const { Attributes = {} } = await healthy.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: deadQueue(healthy).url, AttributeNames: ["All"] }),
        );
        const left = Number(Attributes["ApproximateNumberOfMessages"]) + Number(Attributes["ApproximateNumberOfMessagesNotVisible"]);
        return left === 0 || undefined;
      });
    } finally {
      await healthy.stop();
    }
  });
});
