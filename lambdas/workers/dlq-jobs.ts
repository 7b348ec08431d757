import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import * as z from "../shared/validation.ts";
import { jobsQueue, operations } from "../dead-letters/environment.ts";
import { runOrContinue } from "../dead-letters/jobs.ts";
import { parseUntrustedJson } from "../shared/json.ts";
import { logger } from "../shared/logger.ts";
import { sqsWorker } from "../shared/worker.ts";

const jobSchema = z.strictObject({ operation: z.enum(["retry-all", "purge"]), tenantId: z.string().check(z.minLength(1)) });
/** Time kept back from the function's own timeout to queue the continuation. */
const MARGIN_MS = 5_000;

/** Continues a DLQ retry-all or purge that did not finish within its API call, chunk by chunk. */
async function handle(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const failures: string[] = [];
  for (const record of event.Records) {
    const json = parseUntrustedJson(record.body);
    const parsed = jobSchema.safeParse(json.ok ? json.value : undefined);
    if (!parsed.success) {
      // Retried until the queue's redrive sets it aside in the jobs dead-letter queue.
      logger.error("malformed dead-letter job", { messageId: record.messageId });
      failures.push(record.messageId);
      continue;
    }
    const progress = await runOrContinue(operations, parsed.data, Date.now() + context.getRemainingTimeInMillis() - MARGIN_MS, jobsQueue);
    logger.info("dead-letter job step", { ...parsed.data, count: progress.count, remaining: progress.remaining });
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}

export const handler = sqsWorker(handle);
