import middy from "@middy/core";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { logger } from "./logger.ts";

/**
 * A queue worker's Lambda handler: the worker itself, with the invocation's request id and
 * function name in every log line (as the HTTP routes have), and nothing else changed.
 */
export function sqsWorker(handle: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>) {
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event, context) => handle(event, context));
}
