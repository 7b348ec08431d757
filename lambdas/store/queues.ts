import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";

export interface OutgoingMessage {
  /** Unique within one call; reported back for entries SQS refused. */
  readonly id: string;
  readonly body: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

/** SQS limits a batch to ten entries and 1 MiB in all (bodies plus attributes). */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 1024 * 1024;

function sizeOf(message: OutgoingMessage): number {
  let bytes = Buffer.byteLength(message.body, "utf8");
  for (const [name, value] of Object.entries(message.attributes ?? {})) {
    bytes += Buffer.byteLength(name, "utf8") + Buffer.byteLength(value, "utf8") + "String".length;
  }
  return bytes;
}

/** Splits messages into batches SQS accepts: at most ten entries and 1 MiB each. */
export function batchesOf(messages: readonly OutgoingMessage[]): OutgoingMessage[][] {
  const batches: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = sizeOf(message);
    if (current.length > 0 && (current.length === MAX_ENTRIES || bytes + size > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Sends messages in as few SendMessageBatch calls as SQS allows. Returns the ids SQS refused
 * (after one retry of the entries it failed); a call that fails as a whole refuses its
 * entries instead of throwing, so one bad batch never takes the others down with it.
 */
export async function sendAll(client: SQSClient, queueUrl: string, messages: readonly OutgoingMessage[]): Promise<Set<string>> {
  const refused = new Set<string>();
  await Promise.all(
    batchesOf(messages).map(async (batch) => {
      let pending = batch.map((message, index) => ({ entryId: `m${index}`, message }));
      try {
        for (let round = 0; round < 2 && pending.length > 0; round++) {
          const { Failed = [] } = await client.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: pending.map(({ entryId, message }) => ({
                Id: entryId,
                MessageBody: message.body,
                ...(message.attributes
                  ? {
                      MessageAttributes: Object.fromEntries(
                        Object.entries(message.attributes).map(([name, value]) => [name, { DataType: "String", StringValue: value }]),
                      ),
                    }
                  : {}),
              })),
            }),
          );
          const failedIds = new Set(Failed.map((failure) => failure.Id));
          pending = pending.filter(({ entryId }) => failedIds.has(entryId));
        }
      } catch {
        // The whole call failed (network, throttling, a limit): its entries count as refused.
      }
      for (const { message } of pending) refused.add(message.id);
    }),
  );
  return refused;
}
