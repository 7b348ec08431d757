import { setTimeout as sleep } from "node:timers/promises";
import {
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSMessageAttribute, SQSRecord, SQSRecordAttributes } from "aws-lambda";
import { deleteMessages as deleteMessageBatches } from "../../aws/sqs-batch.ts";
import type { LambdaInvoker } from "../lambda/lambda-host.ts";

/**
 * Local emulation of an AWS Lambda SQS event source mapping (standard queues): long-polls
 * the queue, gathers batches, invokes the function and deletes what it processed, leaving
 * failures to the queue's visibility timeout and redrive policy exactly as AWS does.
 */

export interface SqsEventSource {
  /** Logical id of the Lambda. */
  readonly functionId: string;
  /** `http://127.0.0.1:PORT/000000000000/name`. */
  readonly queueUrl: string;
  /** `arn:aws:sqs:us-east-1:000000000000:name`. */
  readonly queueArn: string;
  /** 1..10000 (AWS default 10). */
  readonly batchSize: number;
  /** 0..300. */
  readonly maximumBatchingWindowSeconds: number;
  /** FunctionResponseTypes includes "ReportBatchItemFailures". */
  readonly reportBatchItemFailures: boolean;
  /** ScalingConfig.MaximumConcurrency (2..1000); {@link DEFAULT_MAXIMUM_CONCURRENCY} when absent. */
  readonly maximumConcurrency?: number;
}

export interface SqsPollerOptions {
  readonly source: SqsEventSource;
  readonly sqs: SQSClient;
  readonly invoker: LambdaInvoker;
  readonly region: string;
  /** Unexpected poller errors; the loop reports them here and keeps going. */
  readonly onError?: (error: unknown) => void;
  /**
   * Every allowed invocation is in flight and the poller waits for one to end before it
   * receives more: the mapping is saturated (reported at most every SATURATION_REPORT_MS).
   */
  readonly onSaturated?: (maximumConcurrency: number) => void;
}

/** Quiet time between two saturation reports of one mapping. */
export const SATURATION_REPORT_MS = 30_000;

export interface SqsPoller {
  /** Stops receiving, waits for in-flight invocations and their deletes, then resolves. */
  stop(): Promise<void>;
}

/** Concurrent invocations per mapping when ScalingConfig is absent; AWS's own floor for MaximumConcurrency. */
export const DEFAULT_MAXIMUM_CONCURRENCY = 2;
/** SQS hands out at most 10 messages per ReceiveMessage and deletes at most 10 per batch call. */
const SQS_MAX_BATCH = 10;
/** ReceiveMessage rejects longer long polls. */
const SQS_MAX_WAIT_SECONDS = 20;
/**
 * Long-poll length while no batch is open. Short, because an aborted long poll stays open in
 * the emulator and may still take messages (hidden until their visibility timeout) after stop().
 */
const IDLE_WAIT_SECONDS = 2;
/** Pause after a failed ReceiveMessage so a missing queue or a dead emulator doesn't spin the loop. */
const RECEIVE_ERROR_BACKOFF_MS = 1_000;

/** A received message with the fields ReceiveMessage always returns made required. */
export interface ReceivedMessage extends Message {
  readonly MessageId: string;
  readonly ReceiptHandle: string;
  readonly Body: string;
  readonly MD5OfBody: string;
}

/** What to delete after an invocation; `problem` explains a response AWS would reject. */
export interface DeleteDecision {
  readonly toDelete: readonly ReceivedMessage[];
  readonly problem?: string;
}

/** Rejects settings the Lambda CreateEventSourceMapping API would reject. */
export function validateSqsEventSource(source: SqsEventSource): void {
  const { batchSize, maximumBatchingWindowSeconds: window, maximumConcurrency } = source;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new RangeError(`${source.functionId}: batch size ${batchSize} is outside 1..10000`);
  }
  if (!Number.isInteger(window) || window < 0 || window > 300) {
    throw new RangeError(`${source.functionId}: batching window ${window} s is outside 0..300 s`);
  }
  if (batchSize > SQS_MAX_BATCH && window < 1) {
    throw new RangeError(`${source.functionId}: a batch size above 10 needs a batching window of at least 1 s`);
  }
  if (
    maximumConcurrency !== undefined &&
    (!Number.isInteger(maximumConcurrency) || maximumConcurrency < 2 || maximumConcurrency > 1000)
  ) {
    throw new RangeError(`${source.functionId}: maximum concurrency ${maximumConcurrency} is outside 2..1000`);
  }
}

/** The event Lambda passes to the function, record by record as AWS builds it. */
export function buildSqsEvent(messages: readonly ReceivedMessage[], queueArn: string, region: string): SQSEvent {
  return { Records: messages.map((message) => toRecord(message, queueArn, region)) };
}

function toRecord(message: ReceivedMessage, queueArn: string, region: string): SQSRecord {
  const messageAttributes = Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, toRecordAttribute(value)]),
  );
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body,
    // The poller asks for "All" system attributes, so SQS returned the four the type requires.
    attributes: { ...message.Attributes } as SQSRecordAttributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody,
    // Like AWS, only present when the message has attributes.
    ...(message.MD5OfMessageAttributes === undefined ? {} : { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

function toRecordAttribute(value: MessageAttributeValue): SQSMessageAttribute {
  return {
    ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
    ...(value.BinaryValue === undefined ? {} : { binaryValue: Buffer.from(value.BinaryValue).toString("base64") }),
    // Reserved by SQS and always empty in Lambda events.
    stringListValues: [],
    binaryListValues: [],
    dataType: value.DataType ?? "String",
  };
}

/**
 * Which messages of a batch to delete after an invocation, following Lambda's rules: a
 * rejected invocation deletes nothing; without ReportBatchItemFailures a resolved one
 * deletes everything; with it, every message not listed in `batchItemFailures` is deleted,
 * and a malformed response fails the whole batch.
 */
export function decideDeletes(
  batch: readonly ReceivedMessage[],
  outcome: { readonly ok: true; readonly response: unknown } | { readonly ok: false },
  reportBatchItemFailures: boolean,
): DeleteDecision {
  if (!outcome.ok) {
    return { toDelete: [] };
  }
  if (!reportBatchItemFailures) {
    return { toDelete: batch };
  }
  const failed = failedMessageIds(outcome.response, new Set(batch.map((message) => message.MessageId)));
  if (typeof failed === "string") {
    return { toDelete: [], problem: failed };
  }
  return { toDelete: batch.filter((message) => !failed.has(message.MessageId)) };
}

/** The message ids a batch response reports as failed, or why the response is malformed. */
function failedMessageIds(response: unknown, batchIds: ReadonlySet<string>): ReadonlySet<string> | string {
  // An empty response, and a missing or null list, mean the whole batch succeeded.
  if (response === undefined || response === null) {
    return new Set();
  }
  if (typeof response !== "object" || Array.isArray(response)) {
    return "the response is not a batch response object";
  }
  const failures: unknown = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) {
    return new Set();
  }
  if (!Array.isArray(failures)) {
    return "batchItemFailures is not an array";
  }
  const failed = new Set<string>();
  for (const failure of failures) {
    const id: unknown = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== "string" || id === "") {
      return "a batchItemFailures entry has no itemIdentifier";
    }
    if (!batchIds.has(id)) {
      return `itemIdentifier ${id} is not a message of the batch`;
    }
    failed.add(id);
  }
  return failed;
}

/** Starts polling `options.source.queueUrl`; validates the source first. */
export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  validateSqsEventSource(options.source);
  const controller = new AbortController();
  const running = pollLoop(options, controller.signal);
  return {
    stop: async () => {
      controller.abort();
      await running;
    },
  };
}

/**
 * One receiver assembles batches and hands each to an invocation, waiting for a free slot
 * before receiving more so no message burns its visibility timeout queued locally.
 */
async function pollLoop(options: SqsPollerOptions, signal: AbortSignal): Promise<void> {
  const maximumConcurrency = options.source.maximumConcurrency ?? DEFAULT_MAXIMUM_CONCURRENCY;
  const inFlight = new Set<Promise<void>>();
  let reportedAt = -Infinity;
  while (!signal.aborted) {
    if (inFlight.size >= maximumConcurrency) {
      if (Date.now() - reportedAt >= SATURATION_REPORT_MS) {
        reportedAt = Date.now();
        options.onSaturated?.(maximumConcurrency);
      }
      await Promise.race(inFlight);
      continue;
    }
    // A batch cut short by stop() is still invoked: its messages are already invisible.
    const batch = await collectBatch(options, signal);
    if (batch.length > 0) {
      const task = processBatch(options, batch).finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
  }
  await Promise.all(inFlight);
}

/**
 * Receives until the batch is full or the batching window, which opens with the first
 * message, closes; with no window, one receive that returns messages makes the batch.
 */
async function collectBatch(options: SqsPollerOptions, signal: AbortSignal): Promise<ReceivedMessage[]> {
  const { batchSize, maximumBatchingWindowSeconds } = options.source;
  const batch: ReceivedMessage[] = [];
  let windowClosesAt: number | undefined;
  while (!signal.aborted && batch.length < batchSize) {
    let waitSeconds = IDLE_WAIT_SECONDS;
    if (windowClosesAt !== undefined) {
      const remainingMs = windowClosesAt - Date.now();
      if (remainingMs <= 0) {
        break;
      }
      // WaitTimeSeconds is whole seconds; rounding up overshoots by under a second, and only when the queue is idle.
      waitSeconds = Math.min(SQS_MAX_WAIT_SECONDS, Math.ceil(remainingMs / 1000));
    }
    for (const message of await receive(options, Math.min(SQS_MAX_BATCH, batchSize - batch.length), waitSeconds, signal)) {
      addOrReplace(batch, message);
    }
    if (batch.length > 0 && windowClosesAt === undefined) {
      if (maximumBatchingWindowSeconds === 0) {
        break;
      }
      windowClosesAt = Date.now() + maximumBatchingWindowSeconds * 1000;
    }
  }
  return batch;
}

/**
 * A window longer than the queue's visibility timeout lets a message come back while its
 * batch is still open; keep one record per message, with the newest (valid) receipt handle.
 */
function addOrReplace(batch: ReceivedMessage[], message: ReceivedMessage): void {
  const index = batch.findIndex((candidate) => candidate.MessageId === message.MessageId);
  if (index === -1) {
    batch.push(message);
  } else {
    batch[index] = message;
  }
}

/** One ReceiveMessage; returns no messages on stop() or after reporting an error. */
async function receive(
  options: SqsPollerOptions,
  maxMessages: number,
  waitSeconds: number,
  signal: AbortSignal,
): Promise<ReceivedMessage[]> {
  try {
    const { Messages = [] } = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.source.queueUrl,
        MaxNumberOfMessages: maxMessages,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
      { abortSignal: signal },
    );
    return Messages.map(toReceivedMessage);
  } catch (error) {
    if (!signal.aborted) {
      options.onError?.(error);
      await sleep(RECEIVE_ERROR_BACKOFF_MS, undefined, { signal }).catch(() => undefined);
    }
    return [];
  }
}

function toReceivedMessage(message: Message): ReceivedMessage {
  const { MessageId, ReceiptHandle, Body, MD5OfBody } = message;
  if (MessageId === undefined || ReceiptHandle === undefined || Body === undefined || MD5OfBody === undefined) {
    throw new Error("ReceiveMessage returned a message without MessageId, ReceiptHandle, Body or MD5OfBody");
  }
  return { ...message, MessageId, ReceiptHandle, Body, MD5OfBody };
}

/** Invokes the function with one batch and deletes what Lambda would delete. Never rejects. */
async function processBatch(options: SqsPollerOptions, batch: readonly ReceivedMessage[]): Promise<void> {
  const { source, invoker, region, onError } = options;
  const event = buildSqsEvent(batch, source.queueArn, region);
  const outcome = await invoker.invoke(source.functionId, event).then(
    (response) => ({ ok: true, response }) as const,
    // A failing handler is an expected outcome (the invoker reports it); SQS retries the batch.
    () => ({ ok: false }) as const,
  );
  const { toDelete, problem } = decideDeletes(batch, outcome, source.reportBatchItemFailures);
  if (problem !== undefined) {
    onError?.(new Error(`${source.functionId}: malformed batch response, retrying the whole batch: ${problem}`));
  }
  await deleteMessages(options, toDelete);
}

/** Deletes what the batch finished, reporting each message SQS would not delete through onError. */
async function deleteMessages(options: SqsPollerOptions, messages: readonly ReceivedMessage[]): Promise<void> {
  const handles = messages.map((message) => ({ messageId: message.MessageId, receiptHandle: message.ReceiptHandle }));
  for (const { entry, reason } of await deleteMessageBatches(options.sqs, options.source.queueUrl, handles)) {
    options.onError?.(new Error(`${options.source.functionId}: could not delete message ${entry.messageId}: ${reason}`));
  }
}
