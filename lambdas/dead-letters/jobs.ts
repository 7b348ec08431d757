import type { SQSClient } from "@aws-sdk/client-sqs";
import { sendMessages } from "../../lib/aws/sqs-batch.ts";
import type { BulkProgress, DeadLetterJob, DeadLetterOperations } from "./operations.ts";

/** Runs a bulk operation until the deadline; if letters remain, queues a job to go on with it. */
export async function runOrContinue(
  operations: DeadLetterOperations,
  job: DeadLetterJob,
  deadline: number,
  jobs: { readonly sqs: SQSClient; readonly queueUrl: string },
): Promise<BulkProgress> {
  const progress =
    job.operation === "retry-all" ? await operations.retryAll(job.tenantId, deadline) : await operations.purge(job.tenantId, deadline);
  if (progress.remaining) {
    const [refused] = await sendMessages(jobs.sqs, jobs.queueUrl, [{ body: JSON.stringify(job) }]);
    if (refused) throw new Error(`the jobs queue refused the continuation: ${refused.reason}`);
  }
  return progress;
}
