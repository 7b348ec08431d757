import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * One DynamoDB document client per module instance, configured only by the standard SDK
 * environment (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB), so the same bundle runs locally and in AWS.
 */
export const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
