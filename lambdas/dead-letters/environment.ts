import { ENV } from "../contract/resources.ts";
import { requiredEnv } from "../shared/env.ts";
import { sqs } from "../shared/sqs.ts";
import { deadLetters, deliveryLogs } from "../shared/stores.ts";
import { DeadLetterOperations } from "./operations.ts";

/** The DLQ operations as the functions that run them are configured (read once at cold start). */
export const operations = new DeadLetterOperations({
  letters: deadLetters,
  logs: deliveryLogs,
  sqs,
  deliveriesQueueUrl: requiredEnv(ENV.deliveriesQueueUrl),
});
export const jobsQueue = { sqs, queueUrl: requiredEnv(ENV.deadLetterJobsQueueUrl) };
