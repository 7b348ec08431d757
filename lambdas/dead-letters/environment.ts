import { ENV } from "../contract/resources.ts";
import { dynamo } from "../shared/dynamo.ts";
import { requiredEnv } from "../shared/env.ts";
import { sqs } from "../shared/sqs.ts";
import { DeadLetterStore } from "../data/dead-letters.ts";
import { DeliveryLogStore } from "../data/deliveries.ts";
import { DeadLetterOperations } from "./operations.ts";

/** The DLQ operations as the functions that run them are configured (read once at cold start). */
const tableName = requiredEnv(ENV.tableName);
export const deadLetters = new DeadLetterStore(dynamo, tableName);
export const operations = new DeadLetterOperations({
  letters: deadLetters,
  logs: new DeliveryLogStore(dynamo, tableName),
  sqs,
  deliveriesQueueUrl: requiredEnv(ENV.deliveriesQueueUrl),
});
export const jobsQueue = { sqs, queueUrl: requiredEnv(ENV.deadLetterJobsQueueUrl) };
