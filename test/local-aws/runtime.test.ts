import { GetItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalRuntime, type LocalRuntime } from "../../lib/local-aws/runtime.ts";
import type { InvocationOutcome } from "../../lib/local-aws/lambda/lambda-host.ts";
import type { SynthesizedStack } from "../../lib/local-aws/template/template.ts";
import { synthesizeProbeStack, type ProbeStack } from "../fixtures/probe-stack.ts";
import { eventually } from "../support/eventually.ts";

const workDir = mkdtempSync(path.join(tmpdir(), "fw-runtime-"));
let stack: ProbeStack;
let runtime: LocalRuntime;

beforeAll(async () => {
  stack = synthesizeProbeStack(path.join(workDir, "cdk.out"));
  runtime = await startLocalRuntime({ stack });
});
afterAll(async () => {
  await runtime?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

const queue = (id: keyof ProbeStack["queueIds"]) => runtime.queue(stack.queueIds[id]);
const tableName = () => runtime.tables[0]!.tableName;


describe("the local runtime on a synthesized stack", () => {
  it("creates the template's tables and queues with their keys and redrive policy", async () => {
    expect(runtime.tables).toHaveLength(1);
    expect(runtime.tables[0]?.timeToLiveAttribute).toBe("expiresAt");
    const { Attributes } = await runtime.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue("work").url, AttributeNames: ["All"] }),
    );
    expect(Attributes?.["VisibilityTimeout"]).toBe("2");
    expect(JSON.parse(String(Attributes?.["RedrivePolicy"]))).toEqual({
      deadLetterTargetArn: queue("workDead").arn,
      maxReceiveCount: 2,
    });
  });

  it("serves routes through the authorizer to the integration function", async () => {
    const denied = await fetch(`${runtime.apiUrl}/probe/alpha`, { headers: { authorization: "wrong" } });
    expect(denied.status).toBe(403);
    const missing = await fetch(`${runtime.apiUrl}/probe/alpha`);
    expect(missing.status).toBe(401);
    const ok = await fetch(`${runtime.apiUrl}/probe/al%20pha`, { headers: { authorization: "let-me-in" } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({
      routeKey: "GET /probe/{name}",
      name: "al pha",
      authorizer: { caller: "probe-tester" },
      probeName: "probe",
      otherSecret: null,
      tableName: tableName(),
    });
  });

  it("gives each function only its own environment", async () => {
    const other = await fetch(`${runtime.apiUrl}/other`, { headers: { authorization: "let-me-in" } });
    expect(await other.json()).toMatchObject({ probeName: "other", otherSecret: "only-mine" });
    const probe = await fetch(`${runtime.apiUrl}/probe/x`, { headers: { authorization: "let-me-in" } });
    expect(await probe.json()).toMatchObject({ probeName: "probe", otherSecret: null });
  });

  it("ends a function that runs past its timeout with a 500", async () => {
    const started = Date.now();
    const response = await fetch(`${runtime.apiUrl}/probe/sleep`, { headers: { authorization: "let-me-in" } });
    expect(response.status).toBe(500);
    expect(Date.now() - started).toBeLessThan(4500);
  });

  it("invokes the function for queued messages in batches of at most its batch size", async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `ok-${i}`);
    for (let start = 0; start < ids.length; start += 10) {
      await runtime.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queue("work").url,
          Entries: ids.slice(start, start + 10).map((id, i) => ({ Id: String(i), MessageBody: JSON.stringify({ id }) })),
        }),
      );
    }
    const items = await eventually(async () => {
      const { Items = [] } = await runtime.dynamodb.send(new ScanCommand({ TableName: tableName() }));
      const seen = Items.filter((item) => item["pk"]?.S?.startsWith("ok-"));
      return seen.length === ids.length ? seen : undefined;
    });
    for (const item of items) {
      expect(item["probeName"]?.S).toBe("probe");
      expect(Number(item["batchSize"]?.N)).toBeLessThanOrEqual(5);
    }
  });

  it("retries only the failed item of a batch and moves it to the dead-letter queue after maxReceiveCount", async () => {
    await runtime.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue("work").url,
        Entries: [
          { Id: "a", MessageBody: JSON.stringify({ id: "partial-good" }) },
          { Id: "b", MessageBody: JSON.stringify({ id: "partial-bad", outcome: "fail" }) },
        ],
      }),
    );
    const dead = await eventually(async () => {
      const { Messages = [] } = await runtime.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue("workDead").url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
      );
      return Messages.find((m) => m.Body?.includes("partial-bad"));
    });
    expect(JSON.parse(String(dead.Body))).toEqual({ id: "partial-bad", outcome: "fail" });
    const good = await runtime.dynamodb.send(
      new GetItemCommand({ TableName: tableName(), Key: { pk: { S: "partial-good" } } }),
    );
    expect(good.Item?.["probeName"]?.S).toBe("probe");
  });

  it("fails a batch whose function outgrows its memory as out-of-memory, and SQS redelivers it", async () => {
    const outcomes: { receiveCount: string | undefined; outcome: InvocationOutcome }[] = [];
    const stopObserving = runtime.observeInvocations({
      finished: (_functionId, event, outcome) => {
        const record = (event as { Records?: { body: string; attributes: { ApproximateReceiveCount?: string } }[] }).Records?.[0];
        if (record?.body.includes("hungry")) outcomes.push({ receiveCount: record.attributes.ApproximateReceiveCount, outcome });
      },
    });
    try {
      await runtime.sqs.send(
        new SendMessageCommand({ QueueUrl: queue("hungry").url, MessageBody: JSON.stringify({ id: "hungry", outcome: "exhaust-memory-once" }) }),
      );
      await eventually(() => outcomes.some(({ outcome }) => outcome.ok), 60_000);
      const [first, second] = outcomes;
      expect(first?.receiveCount).toBe("1");
      expect(first?.outcome).toMatchObject({
        ok: false,
        error: { errorType: "Runtime.OutOfMemory", message: expect.stringMatching(/more than its 128 MB \(JavaScript heap out of memory\)/) },
      });
      // Redelivered after the visibility timeout, to a fresh environment.
      expect(second).toMatchObject({ receiveCount: "2", outcome: { ok: true } });
    } finally {
      stopObserving();
    }
  });

  it("moves a message whose invocation keeps throwing to the dead-letter queue", async () => {
    await runtime.sqs.send(
      new SendMessageCommand({ QueueUrl: queue("work").url, MessageBody: JSON.stringify({ id: "boom", outcome: "throw" }) }),
    );
    const dead = await eventually(async () => {
      const { Messages = [] } = await runtime.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue("workDead").url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      return Messages.find((m) => m.Body?.includes("boom"));
    });
    expect(JSON.parse(String(dead.Body)).id).toBe("boom");
  });
});

describe("the local runtime refuses what it cannot run", () => {
  it("names an unsupported resource type", async () => {
    const withBucket: SynthesizedStack = {
      ...stack,
      template: { ...stack.template, Resources: { ...stack.template.Resources, Uploads: { Type: "AWS::S3::Bucket" } } },
    };
    await expect(startLocalRuntime({ stack: withBucket })).rejects.toThrow(/Uploads of type AWS::S3::Bucket/);
  });

  it("names a busy port", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startLocalRuntime({ stack, ports: { api: port } })).rejects.toThrow(
        new RegExp(`127\\.0\\.0\\.1:${port} is busy`),
      );
      await expect(startLocalRuntime({ stack, ports: { dynamodb: port } })).rejects.toThrow(
        new RegExp(`DynamoDB emulator port 127\\.0\\.0\\.1:${port} is busy`),
      );
    } finally {
      blocker.close();
    }
  });
});
