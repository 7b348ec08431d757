import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { parseDeliveryMessage } from "../domain/delivery.ts";
import { logger } from "../shared/logger.ts";
import { sqsWorker } from "../shared/worker.ts";
import { deadLetters as letters, deliveryLogs as logs } from "../shared/stores.ts";


/**
 * Indexes the deliveries dead-letter queue per tenant. A message leaves SQS only when this
 * returns without listing it as failed, that is after its letter is written: a crash at any
 * point leaves it in the queue. Messages that are not deliveries fail here until the
 * queue's own redrive sets them aside in the unindexable queue, for the operator.
 */
async function handle(event: SQSEvent): Promise<SQSBatchResponse> {
  const failures: string[] = [];
  await Promise.all(
    event.Records.map(async (record) => {
      const parsed = parseDeliveryMessage(record.body);
      if (!parsed.ok) {
        logger.error("dead letter is not a delivery", { messageId: record.messageId, reason: parsed.reason });
        failures.push(record.messageId);
        return;
      }
      const { delivery } = parsed;
      try {
        const log = await logs.get(delivery.tenantId, delivery.createdAt, delivery.deliveryId);
        await letters.put({
          delivery,
          attempts: log?.attempts ?? delivery.attemptsBefore,
          lastError: log?.lastError ?? "unknown (no delivery log)",
          failedAt: new Date().toISOString(),
        });
      } catch (error) {
        logger.error("indexing a dead letter failed", { messageId: record.messageId, error: error as Error });
        failures.push(record.messageId);
      }
    }),
  );
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}

export const handler = sqsWorker(handle);
