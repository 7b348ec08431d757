/** One IAM authorization a request needs: each must be allowed for the request to go through. */
export interface RequestedAccess {
  readonly action: string;
  readonly resource: string;
}

/** An AWS JSON-protocol service the engine authorizes: what a request asks for and how it says no. */
export interface AuthorizedApi {
  readonly service: string;
  /** `X-Amz-Target` is `<prefix>.<Operation>`. */
  readonly targetPrefix: string;
  access(operation: string, body: Readonly<Record<string, unknown>>): RequestedAccess[];
  /** AWS's answer to a call its caller is not authorized to make. */
  accessDenied(message: string): { status: number; headers: Record<string, string>; body: string };
}

/** Where the stack runs, for the ARNs of the resources named in requests. */
export interface ArnPlacement {
  readonly region: string;
  readonly accountId: string;
}

/** Transaction items authorize as the single-item action they perform. */
const TRANSACT_ACTIONS: Readonly<Record<string, string>> = {
  Get: "GetItem",
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  ConditionCheck: "ConditionCheckItem",
};

export function dynamodbApi(at: ArnPlacement): AuthorizedApi {
  const table = (name: unknown) =>
    String(name).startsWith("arn:") ? String(name) : `arn:aws:dynamodb:${at.region}:${at.accountId}:table/${String(name)}`;
  return {
    service: "dynamodb",
    targetPrefix: "DynamoDB_20120810",
    access(operation, body) {
      const action = `dynamodb:${operation}`;
      if (operation === "BatchGetItem" || operation === "BatchWriteItem") {
        return Object.keys((body["RequestItems"] as object | undefined) ?? {}).map((name) => ({ action, resource: table(name) }));
      }
      if (operation === "TransactGetItems" || operation === "TransactWriteItems") {
        return ((body["TransactItems"] as Record<string, { TableName?: unknown }>[] | undefined) ?? []).flatMap((item) =>
          Object.entries(item).map(([kind, request]) => ({
            action: `dynamodb:${TRANSACT_ACTIONS[kind] ?? kind}`,
            resource: table(request.TableName),
          })),
        );
      }
      if (body["TableName"] === undefined) return [{ action, resource: "*" }];
      // Only Query and Scan read an index; its ARN is the table's plus /index/<name>.
      const index = (operation === "Query" || operation === "Scan") && body["IndexName"] !== undefined ? `/index/${String(body["IndexName"])}` : "";
      return [{ action, resource: `${table(body["TableName"])}${index}` }];
    },
    accessDenied: (message) => accessDenied(message, {}),
  };
}

export function sqsApi(at: ArnPlacement): AuthorizedApi {
  return {
    service: "sqs",
    targetPrefix: "AmazonSQS",
    access(operation, body) {
      // The batch operations need the permission of their single-message action.
      const action = `sqs:${operation.replace(/Batch$/, "")}`;
      const url = body["QueueUrl"];
      if (url !== undefined) {
        const [, account, name] = new URL(String(url)).pathname.split("/");
        return [{ action, resource: `arn:aws:sqs:${at.region}:${String(account)}:${String(name)}` }];
      }
      if (body["QueueName"] !== undefined) {
        const account = body["QueueOwnerAWSAccountId"] ?? at.accountId;
        return [{ action, resource: `arn:aws:sqs:${at.region}:${String(account)}:${String(body["QueueName"])}` }];
      }
      return [{ action, resource: "*" }];
    },
    // With the JSON protocol SQS names the query-protocol error code in x-amzn-query-error; SDK v3 uses it as the error's name.
    accessDenied: (message) => accessDenied(message, { "x-amzn-query-error": "AccessDenied;Sender" }),
  };
}

function accessDenied(message: string, headers: Record<string, string>) {
  return {
    status: 400,
    headers: { "content-type": "application/x-amz-json-1.0", ...headers },
    body: JSON.stringify({ __type: "com.amazon.coral.service#AccessDeniedException", message }),
  };
}
