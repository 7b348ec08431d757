import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { startFauxqs, type FauxqsServer } from "fauxqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  decideDeletes,
  startSqsPoller,
  type ReceivedMessage,
  type SqsEventSource,
  type SqsPoller,
} from "../../lib/local-aws/sqs/sqs-poller.ts";
import type { LambdaInvoker } from "../../lib/local-aws/lambda/lambda-host.ts";
import { queueDepth } from "../../lib/local-aws/sqs/queue-depth.ts";

const REGION = "us-east-1";
const ACCOUNT = "000000000000";

let server: FauxqsServer;
let sqs: SQSClient;
let endpoint: string;
const pollers: SqsPoller[] = [];
let queueCounter = 0;

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false });
  endpoint = `http://127.0.0.1:${server.port}`;
  sqs = new SQSClient({ endpoint, region: REGION, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
});
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
});
afterAll(async () => {
  sqs.destroy();
  await server.stop();
});

interface TestQueue {
  readonly url: string;
  readonly arn: string;
  readonly dlqUrl: string;
}

/** A fresh queue with a dead-letter queue after 2 receives; the short visibility timeout makes retries quick. */
async function createQueues(visibilityTimeoutSeconds = 1): Promise<TestQueue> {
  const name = `work-${++queueCounter}`;
  // fauxqs answers with *.localhost URLs that don't resolve here; it ignores the host, so use 127.0.0.1.
  const urlOf = (queueName: string) => `${endpoint}/${ACCOUNT}/${queueName}`;
  await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}-dlq`,
          maxReceiveCount: "2",
        }),
      },
    }),
  );
  return { url: urlOf(name), arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`, dlqUrl: urlOf(`${name}-dlq`) };
}

async function sendBatch(queue: TestQueue, bodies: readonly string[]): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: bodies.slice(start, start + 10).map((body, index) => ({ Id: `m${start + index}`, MessageBody: body })),
      }),
    );
  }
}

const messagesLeft = (queueUrl: string) => queueDepth(sqs, queueUrl);

async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(25);
  }
}

/** An in-test Lambda: records every event and answers with `respond` (throwing = handler error). */
function fakeFunction(respond: (event: SQSEvent, call: number) => unknown = () => undefined) {
  const events: SQSEvent[] = [];
  const invoker: LambdaInvoker = {
    invoke: async (functionId, event) => {
      expect(functionId).toBe("Worker");
      events.push(event as SQSEvent);
      return respond(event as SQSEvent, events.length);
    },
  };
  const records = () => events.flatMap((event) => event.Records);
  return { invoker, events, records };
}

function poll(queue: TestQueue, invoker: LambdaInvoker, overrides: Partial<SqsEventSource> = {}, errors: unknown[] = []) {
  const poller = startSqsPoller({
    source: {
      functionId: "Worker",
      queueUrl: queue.url,
      queueArn: queue.arn,
      batchSize: 10,
      maximumBatchingWindowSeconds: 0,
      reportBatchItemFailures: false,
      ...overrides,
    },
    sqs,
    invoker,
    region: REGION,
    onError: (error) => errors.push(error),
  });
  pollers.push(poller);
  return poller;
}

describe("the SQS event source poller", () => {
  it("builds the event as Lambda does and deletes the messages after a successful invocation", async () => {
    const queue = await createQueues();
    const withAttributes = await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: '{"event":"nfe.authorized"}',
        MessageAttributes: {
          tenant: { DataType: "String", StringValue: "acme" },
          blob: { DataType: "Binary", BinaryValue: new Uint8Array([1, 2, 255]) },
        },
      }),
    );
    const plain = await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "plain" }));
    const fn = fakeFunction();
    poll(queue, fn.invoker);

    await eventually(() => fn.records().length === 2);
    const [first, second] = fn.records();
    expect(first).toEqual({
      messageId: withAttributes.MessageId,
      receiptHandle: expect.any(String),
      body: '{"event":"nfe.authorized"}',
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: ACCOUNT,
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      },
      messageAttributes: {
        tenant: { stringValue: "acme", stringListValues: [], binaryListValues: [], dataType: "String" },
        blob: { binaryValue: "AQL/", stringListValues: [], binaryListValues: [], dataType: "Binary" },
      },
      md5OfBody: withAttributes.MD5OfMessageBody,
      md5OfMessageAttributes: withAttributes.MD5OfMessageAttributes,
      eventSource: "aws:sqs",
      eventSourceARN: queue.arn,
      awsRegion: REGION,
    });
    expect(second).toMatchObject({ messageId: plain.MessageId, body: "plain", messageAttributes: {} });
    expect(second).not.toHaveProperty("md5OfMessageAttributes");
    await eventually(async () => (await messagesLeft(queue.url)) === 0);
  });

  it("never exceeds the batch size and delivers every message once", async () => {
    // Longer than the batching window, so no message comes back before its batch is invoked.
    const queue = await createQueues(5);
    const bodies = Array.from({ length: 25 }, (_, index) => `message ${index}`);
    await sendBatch(queue, bodies);
    const fn = fakeFunction();
    poll(queue, fn.invoker, { batchSize: 10, maximumBatchingWindowSeconds: 1 });

    await eventually(() => fn.records().length >= 25);
    // One receiver fills batches in turn: two full ones, then the rest when the window closes.
    expect(fn.events.map((event) => event.Records.length)).toEqual([10, 10, 5]);
    expect(fn.records().map((record) => record.body).toSorted()).toEqual(bodies.toSorted());
    expect(fn.records().every((record) => record.attributes.ApproximateReceiveCount === "1")).toBe(true);
    await eventually(async () => (await messagesLeft(queue.url)) === 0);
  });

  it("gathers messages sent in two bursts into one invocation within the batching window", async () => {
    const queue = await createQueues(5);
    const fn = fakeFunction();
    poll(queue, fn.invoker, { batchSize: 10, maximumBatchingWindowSeconds: 2 });
    await sleep(100);

    await sendBatch(queue, ["a1", "a2", "a3"]);
    await sleep(600);
    expect(fn.events).toHaveLength(0);
    await sendBatch(queue, ["b1", "b2", "b3"]);

    await eventually(() => fn.records().length >= 6);
    expect(fn.events).toHaveLength(1);
    expect(fn.records().map((record) => record.body).toSorted()).toEqual(["a1", "a2", "a3", "b1", "b2", "b3"]);
  });

  it("keeps one record per message when it comes back within the batching window", async () => {
    // Received at 0 s and again at 3 s; the window closes at 5 s, before a third receive (at 6 s)
    // would dead-letter it: two seconds of slack either side for a loaded machine.
    const queue = await createQueues(3);
    await sendBatch(queue, ["only"]);
    const fn = fakeFunction();
    poll(queue, fn.invoker, { maximumBatchingWindowSeconds: 5 });

    await eventually(() => fn.events.length === 1);
    // The copy received after the visibility timeout replaced the first, with its valid receipt handle.
    expect(fn.records()).toEqual([
      expect.objectContaining({ body: "only", attributes: expect.objectContaining({ ApproximateReceiveCount: "2" }) }),
    ]);
    await eventually(async () => (await messagesLeft(queue.url)) === 0);
    expect(await messagesLeft(queue.dlqUrl)).toBe(0);
  });

  it("deletes all but the reported batch item failures, which come back", async () => {
    const queue = await createQueues();
    await sendBatch(queue, ["ok 1", "fails once", "ok 2"]);
    const fn = fakeFunction((event, call) => {
      const failing = event.Records.find((record) => record.body === "fails once");
      return call === 1 && failing ? { batchItemFailures: [{ itemIdentifier: failing.messageId }] } : { batchItemFailures: [] };
    });
    poll(queue, fn.invoker, { reportBatchItemFailures: true });

    await eventually(() => fn.events.length >= 2);
    expect(fn.events[0]?.Records).toHaveLength(3);
    expect(fn.events[1]?.Records).toEqual([
      expect.objectContaining({ body: "fails once", attributes: expect.objectContaining({ ApproximateReceiveCount: "2" }) }),
    ]);
    await eventually(async () => (await messagesLeft(queue.url)) === 0);
    expect(fn.events).toHaveLength(2);
  });

  it("leaves a failing batch to the redrive policy, which moves it to the dead-letter queue", async () => {
    const queue = await createQueues();
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "poison" }));
    const fn = fakeFunction(() => {
      throw new Error("handler failed");
    });
    poll(queue, fn.invoker);

    let dead: { MessageId?: string; Body?: string } | undefined;
    await eventually(async () => {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, WaitTimeSeconds: 1 }));
      dead = Messages?.[0];
      return dead !== undefined;
    });
    expect(dead).toMatchObject({ MessageId: sent.MessageId, Body: "poison" });
    expect(fn.records().map((record) => record.attributes.ApproximateReceiveCount)).toEqual(["1", "2"]);
  });

  it("retries the whole batch when the batch response is malformed", async () => {
    const queue = await createQueues();
    await sendBatch(queue, ["x", "y"]);
    const errors: unknown[] = [];
    const fn = fakeFunction((_event, call) =>
      call === 1 ? { batchItemFailures: [{ itemIdentifier: "not-a-message-of-this-batch" }] } : undefined,
    );
    poll(queue, fn.invoker, { reportBatchItemFailures: true }, errors);

    await eventually(() => fn.records().length >= 4);
    const retried = fn.records().slice(2);
    expect(retried.map((record) => record.body).toSorted()).toEqual(["x", "y"]);
    expect(retried.every((record) => record.attributes.ApproximateReceiveCount === "2")).toBe(true);
    expect(errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/malformed batch response/) })]);
    await eventually(async () => (await messagesLeft(queue.url)) === 0);
  });

  it("stops promptly while a long poll is open", async () => {
    const queue = await createQueues();
    const fn = fakeFunction();
    const poller = poll(queue, fn.invoker);
    await sleep(200);

    const started = performance.now();
    await poller.stop();
    expect(performance.now() - started).toBeLessThan(300);
    expect(fn.events).toHaveLength(0);
  });

  it("invokes a batch still inside a long window when stopped, its messages being already received", async () => {
    const queue = await createQueues(60);
    const errors: unknown[] = [];
    const fn = fakeFunction();
    const poller = poll(queue, fn.invoker, { maximumBatchingWindowSeconds: 300 }, errors);
    await sendBatch(queue, ["early"]);
    await sleep(300);
    expect(fn.events).toHaveLength(0);

    await poller.stop();
    expect(fn.records().map((record) => record.body)).toEqual(["early"]);
    expect(await messagesLeft(queue.url)).toBe(0);
    // The window's long polls stay within the 20 s ReceiveMessage accepts.
    expect(errors).toEqual([]);
  });

  it("waits on stop for the in-flight invocation and its deletes", async () => {
    const queue = await createQueues();
    let finished = false;
    const fn = fakeFunction(async () => {
      await sleep(400);
      finished = true;
    });
    const poller = poll(queue, fn.invoker);
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "slow" }));
    await eventually(() => fn.events.length === 1);

    await poller.stop();
    expect(finished).toBe(true);
    expect(await messagesLeft(queue.url)).toBe(0);
  });

  it("runs at most the mapping's maximum concurrency at once, and says when it is saturated", async () => {
    const queue = await createQueues(30);
    let running = 0;
    let peak = 0;
    const fn = fakeFunction(async () => {
      peak = Math.max(peak, ++running);
      await sleep(150);
      running -= 1;
    });
    const saturated: number[] = [];
    const poller = startSqsPoller({
      source: { functionId: "Worker", queueUrl: queue.url, queueArn: queue.arn, batchSize: 1, maximumBatchingWindowSeconds: 0, reportBatchItemFailures: false, maximumConcurrency: 3 },
      sqs,
      invoker: fn.invoker,
      region: REGION,
      onSaturated: (maximum) => saturated.push(maximum),
    });
    pollers.push(poller);
    await sendBatch(queue, Array.from({ length: 12 }, (_, i) => `m${i}`));
    await eventually(() => fn.records().length === 12);
    expect(peak).toBe(3);
    expect(saturated).toEqual([3]);
  });

  it("counts delayed messages in a queue's depth: a queue with a message on its way is not empty", async () => {
    const queue = await createQueues();
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "later", DelaySeconds: 5 }));
    expect(await messagesLeft(queue.url)).toBe(1);
  });

  it("rejects settings the Lambda API rejects", () => {
    const queue = { url: "http://127.0.0.1:1/000000000000/q", arn: "arn:aws:sqs:us-east-1:000000000000:q", dlqUrl: "" };
    const { invoker } = fakeFunction();
    expect(() => poll(queue, invoker, { batchSize: 11 })).toThrow(/batching window of at least 1 s/);
    expect(() => poll(queue, invoker, { batchSize: 0 })).toThrow(RangeError);
    expect(() => poll(queue, invoker, { maximumBatchingWindowSeconds: 301 })).toThrow(RangeError);
    expect(() => poll(queue, invoker, { maximumConcurrency: 1 })).toThrow(RangeError);
  });
});

describe("deciding which messages to delete", () => {
  const message = (id: string): ReceivedMessage => ({ MessageId: id, ReceiptHandle: `rh-${id}`, Body: id, MD5OfBody: "" });
  const batch = [message("a"), message("b"), message("c")];
  const ids = (decision: { toDelete: readonly ReceivedMessage[] }) => decision.toDelete.map((m) => m.MessageId);

  it("deletes nothing when the invocation failed, whatever the response type", () => {
    expect(ids(decideDeletes(batch, { ok: false }, true))).toEqual([]);
    expect(ids(decideDeletes(batch, { ok: false }, false))).toEqual([]);
  });

  it("ignores the response without ReportBatchItemFailures", () => {
    const response = { batchItemFailures: [{ itemIdentifier: "a" }] };
    expect(ids(decideDeletes(batch, { ok: true, response }, false))).toEqual(["a", "b", "c"]);
  });

  it.each([undefined, null, {}, { batchItemFailures: null }, { batchItemFailures: [] }])(
    "treats %j as complete success",
    (response) => {
      expect(decideDeletes(batch, { ok: true, response }, true)).toEqual({ toDelete: batch });
    },
  );

  it("keeps exactly the reported failures", () => {
    const response = { batchItemFailures: [{ itemIdentifier: "b" }, { itemIdentifier: "b" }] };
    expect(ids(decideDeletes(batch, { ok: true, response }, true))).toEqual(["a", "c"]);
  });

  it.each([
    "ok",
    [],
    { batchItemFailures: "b" },
    { batchItemFailures: [null] },
    { batchItemFailures: [{ itemIdentifier: "" }] },
    { batchItemFailures: [{ itemidentifier: "b" }] },
    { batchItemFailures: [{ itemIdentifier: "b" }, { itemIdentifier: "z" }] },
  ])("fails the whole batch on the malformed response %j", (response) => {
    const decision = decideDeletes(batch, { ok: true, response }, true);
    expect(decision.toDelete).toEqual([]);
    expect(decision.problem).toEqual(expect.any(String));
  });
});
