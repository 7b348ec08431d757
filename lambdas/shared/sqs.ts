import { SQSClient } from "@aws-sdk/client-sqs";

/** One SQS client per module instance, configured by the standard SDK environment (AWS_ENDPOINT_URL_SQS locally). */
export const sqs = new SQSClient({});
