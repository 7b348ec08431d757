import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";

export interface OutgoingMessage {
  /** Unique within one call; reported back for entries SQS refused. */
  readonly id: string;
  readonly body: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

/**
 * Sends messages ten per call (SQS's batch size). Returns the ids SQS refused; throttled
 * or transiently failed entries are retried once before being reported.
 */
export async function sendAll(client: SQSClient, queueUrl: string, messages: readonly OutgoingMessage[]): Promise<Set<string>> {
  const refused = new Set<string>();
  const chunks: OutgoingMessage[][] = [];
  for (let start = 0; start < messages.length; start += 10) chunks.push(messages.slice(start, start + 10));
  await Promise.all(
    chunks.map(async (chunk) => {
      let pending = chunk.map((message, index) => ({ entryId: `m${index}`, message }));
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
      for (const { message } of pending) refused.add(message.id);
    }),
  );
  return refused;
}
