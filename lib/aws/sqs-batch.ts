import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  SendMessageBatchCommand,
  type BatchResultErrorEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";

/**
 * SQS batch operations with per-entry results: the one place that splits work into the
 * batches SQS accepts (ten entries, 1 MiB), retries the entries SQS failed once, and turns
 * a call that failed as a whole into failed entries instead of an exception, so one bad
 * batch never takes the others down with it. Generic (the AWS SDK only): the product's
 * functions and the local engine's pollers share it.
 */

/** An entry SQS did not take, with its words for why. */
export interface FailedEntry<E> {
  readonly entry: E;
  readonly reason: string;
  /** SQS blamed the entry itself (SenderFault): sending it again cannot succeed. */
  readonly senderFault: boolean;
}

export interface OutgoingMessage {
  readonly body: string;
  readonly attributes?: Readonly<Record<string, string>>;
  /** Seconds before the message can be received (SQS allows 0..900; FIFO queues refuse it per message). */
  readonly delaySeconds?: number;
  /** FIFO queues: the message group, received in the order sent, one message at a time. */
  readonly groupId?: string;
  /** FIFO queues: a copy sent within five minutes under the same id is dropped by SQS. */
  readonly deduplicationId?: string;
}

export interface VisibilityChange {
  readonly receiptHandle: string;
  /** Seconds from now until the message is received again; 0 releases it at once. */
  readonly visibilityTimeout: number;
}

export interface ReceivedMessageHandle {
  readonly receiptHandle: string;
}

/** The message size every SQS queue accepts (a queue may be set higher; ours are not). */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** The longest delay SQS puts on a message it is sent. */
export const MAX_DELAY_SECONDS = 900;
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 1024 * 1024;

/** Bytes SQS counts against a batch's 1 MiB: bodies plus attribute names, types and values. */
export function messageSize(message: OutgoingMessage): number {
  let bytes = Buffer.byteLength(message.body, "utf8");
  for (const [name, value] of Object.entries(message.attributes ?? {})) {
    bytes += Buffer.byteLength(name, "utf8") + Buffer.byteLength(value, "utf8") + "String".length;
  }
  return bytes;
}

/** Splits entries, in order, into batches of at most ten entries and (by `size`) 1 MiB. */
export function batchesOf<E>(entries: readonly E[], size: (entry: E) => number = () => 0): E[][] {
  const batches: E[][] = [];
  let current: E[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const entrySize = size(entry);
    if (current.length > 0 && (current.length === MAX_ENTRIES || bytes + entrySize > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entrySize;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** One batch call: the entries' SDK shapes in, SQS's failed entries out. */
type BatchCall<E> = (entries: readonly { readonly Id: string; readonly entry: E }[]) => Promise<{ Failed?: BatchResultErrorEntry[] }>;

async function inBatches<E>(
  entries: readonly E[],
  size: ((entry: E) => number) | undefined,
  call: BatchCall<E>,
  inOrder = false,
): Promise<FailedEntry<E>[]> {
  const failed: FailedEntry<E>[] = [];
  const each = async (batch: E[]) => {
    let pending = batch.map((entry, index) => ({ Id: `e${index}`, entry }));
    try {
      // Entries SQS failed for a passing reason (throttling, a service fault) get one more try.
      for (let round = 0; round < 2 && pending.length > 0; round++) {
        const { Failed = [] } = await call(pending);
        const failures = new Map(Failed.map((failure) => [failure.Id, failure]));
        const retry: typeof pending = [];
        for (const item of pending) {
          const failure = failures.get(item.Id);
          if (!failure) continue;
          const reason = `${failure.Code ?? "error"}: ${failure.Message ?? "refused"}`;
          if (failure.SenderFault || round === 1) failed.push({ entry: item.entry, reason, senderFault: failure.SenderFault === true });
          else retry.push(item);
        }
        pending = retry;
      }
    } catch (error) {
      // The call failed as a whole (network, throttling, a limit): its entries count as failed.
      for (const { entry } of pending) failed.push({ entry, reason: (error as Error).message, senderFault: false });
    }
  };
  const batches = batchesOf(entries, size);
  if (inOrder) for (const batch of batches) await each(batch);
  else await Promise.all(batches.map(each));
  return failed;
}

/**
 * SendMessageBatch in as few calls as SQS allows. To a FIFO queue the calls go one after
 * another, so each message group receives its messages in the order given.
 */
export function sendMessages<E extends OutgoingMessage>(client: SQSClient, queueUrl: string, messages: readonly E[]): Promise<FailedEntry<E>[]> {
  const fifo = queueUrl.endsWith(".fifo");
  return inBatches(messages, messageSize, (entries) =>
    client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: entries.map(({ Id, entry }) => ({
          Id,
          MessageBody: entry.body,
          ...(entry.delaySeconds ? { DelaySeconds: entry.delaySeconds } : {}),
          ...(entry.groupId === undefined ? {} : { MessageGroupId: entry.groupId }),
          ...(entry.deduplicationId === undefined ? {} : { MessageDeduplicationId: entry.deduplicationId }),
          ...(entry.attributes
            ? {
                MessageAttributes: Object.fromEntries(
                  Object.entries(entry.attributes).map(([name, value]) => [name, { DataType: "String", StringValue: value }]),
                ),
              }
            : {}),
        })),
      }),
    ),
    fifo,
  );
}

/** ChangeMessageVisibilityBatch, ten per call (on a FIFO queue one call after another, in the order given). */
export function changeVisibilities<E extends VisibilityChange>(client: SQSClient, queueUrl: string, changes: readonly E[]): Promise<FailedEntry<E>[]> {
  return inBatches(changes, undefined, (entries) =>
    client.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: entries.map(({ Id, entry }) => ({ Id, ReceiptHandle: entry.receiptHandle, VisibilityTimeout: entry.visibilityTimeout })),
      }),
    ),
    queueUrl.endsWith(".fifo"),
  );
}

/** DeleteMessageBatch, ten per call. */
export function deleteMessages<E extends ReceivedMessageHandle>(client: SQSClient, queueUrl: string, messages: readonly E[]): Promise<FailedEntry<E>[]> {
  return inBatches(messages, undefined, (entries) =>
    client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: entries.map(({ Id, entry }) => ({ Id, ReceiptHandle: entry.receiptHandle })),
      }),
    ),
  );
}
