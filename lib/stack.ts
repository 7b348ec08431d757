import { CfnOutput, Duration, Names, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { ENV, OUTPUTS, TABLE_KEYS } from "../lambdas/contract/resources.ts";
import { DEFAULT_MAX_SUBSCRIPTIONS_PER_TENANT } from "../lambdas/domain/subscriptions.ts";
import { ROUTE_FAMILIES, type RouteFamily } from "../lambdas/contract/routes.ts";
import { DEFAULT_RETRY_SCHEDULE_SECONDS, formatRetrySchedule, type RetrySchedule } from "../lambdas/domain/retry-schedule.ts";
import { DataTable } from "./constructs/data-table.ts";
import { PublicApi } from "./constructs/http-api.ts";
import { PipelineQueues } from "./constructs/queues.ts";
import { OperationsAlarms } from "./constructs/alarms.ts";
import { WebhookFunction } from "./constructs/webhook-function.ts";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IQueue } from "aws-cdk-lib/aws-sqs";

export interface FiscalWebhooksStackProps extends StackProps {
  /** Seconds before each delivery attempt; its length is the attempt budget. */
  readonly retrySchedule?: RetrySchedule;
  /** Portal subscriptions a tenant may hold (default 100). */
  readonly maxSubscriptionsPerTenant?: number;
  /** Seconds a receiver has to answer a delivery (default 10, at most 20 so a batch fits the function's 30 s). */
  readonly deliveryTimeoutSeconds?: number;
  /** Test webhooks (`POST /webhooks/test`) a tenant may send a minute (default 5). */
  readonly testWebhooksPerMinute?: number;
}

const DEFAULT_TEST_WEBHOOKS_PER_MINUTE = 5;

const DEFAULT_DELIVERY_TIMEOUT_SECONDS = 10;
const MAX_DELIVERY_TIMEOUT_SECONDS = 20;

/** What each HTTP route family may touch besides its logs. */
type FamilyGrants = (fn: IFunction) => void;

export class FiscalWebhooksStack extends Stack {
  constructor(scope: Construct, id: string, props: FiscalWebhooksStackProps = {}) {
    super(scope, id, props);
    const retrySchedule = props.retrySchedule ?? DEFAULT_RETRY_SCHEDULE_SECONDS;

    const { table } = new DataTable(this, "Data");
    const eventAttempts = 5;
    const queues = new PipelineQueues(this, "Queues", {
      deliveryAttempts: retrySchedule.length,
      eventAttempts,
      eventsVisibilityTimeout: Duration.minutes(3),
      deliveriesVisibilityTimeout: Duration.minutes(6),
      deadLetterIndexVisibilityTimeout: Duration.minutes(3),
      deadLetterJobsVisibilityTimeout: Duration.minutes(6),
    });

    const authorizer = new WebhookFunction(this, "Authorizer", {
      entry: "http/authorizer.ts",
      description: "Resolves a Bearer API token to its tenant",
      environment: { [ENV.tableName]: table.tableName },
    }).function;
    // Token lookups are single GetItems on the base table: no index, no other action.
    authorizer.addToRolePolicy(new PolicyStatement({ actions: ["dynamodb:GetItem"], resources: [table.tableArn] }));

    const maxSubscriptions = props.maxSubscriptionsPerTenant ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_TENANT;
    // Item-level actions on the base table and Query on the one index: no wildcards.
    const tableAccess = (fn: IFunction, actions: string[], indexQuery = false) => {
      fn.addToRolePolicy(new PolicyStatement({ actions, resources: [table.tableArn] }));
      if (indexQuery) {
        fn.addToRolePolicy(
          new PolicyStatement({ actions: ["dynamodb:Query"], resources: [`${table.tableArn}/index/${TABLE_KEYS.gsi1.indexName}`] }),
        );
      }
    };
    const grants: Record<RouteFamily, FamilyGrants> = {
      reference: () => {},
      subscriptions: (fn) =>
        tableAccess(fn, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"]),
      config: (fn) => tableAccess(fn, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]),
      audit: (fn) => tableAccess(fn, ["dynamodb:Query"]),
      dlq: (fn) => deadLetterAccess(fn, true),
    };
    // Only SendMessage (batches included): grantSendMessages adds GetQueueAttributes and GetQueueUrl, which nothing calls.
    const sendsTo = (fn: IFunction, queue: IQueue) =>
      fn.addToRolePolicy(new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [queue.queueArn] }));
    // Listing, claiming, re-queueing and removing dead letters, and marking their logs; the
    // API also reads one letter (a single retry tells a busy letter from a missing one), jobs never do.
    const deadLetterAccess = (fn: IFunction, singleLetters: boolean) => {
      const read = singleLetters ? ["dynamodb:GetItem"] : [];
      tableAccess(fn, [...read, "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"], true);
      sendsTo(fn, queues.deliveries);
      sendsTo(fn, queues.deadLetterJobs);
    };
    const deadLetterEnvironment = {
      [ENV.deliveriesQueueUrl]: queues.deliveries.queueUrl,
      [ENV.deadLetterJobsQueueUrl]: queues.deadLetterJobs.queueUrl,
    };
    const timeoutSeconds = props.deliveryTimeoutSeconds ?? DEFAULT_DELIVERY_TIMEOUT_SECONDS;
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_DELIVERY_TIMEOUT_SECONDS) {
      throw new RangeError(`deliveryTimeoutSeconds must be a whole number from 1 to ${MAX_DELIVERY_TIMEOUT_SECONDS}`);
    }
    const deliveryTimeout = { [ENV.deliveryTimeoutMs]: String(timeoutSeconds * 1000) };
    const familyEnvironment: Partial<Record<RouteFamily, Record<string, string>>> = {
      subscriptions: { [ENV.maxSubscriptionsPerTenant]: String(maxSubscriptions) },
      config: { ...deliveryTimeout, [ENV.testWebhooksPerMinute]: String(props.testWebhooksPerMinute ?? DEFAULT_TEST_WEBHOOKS_PER_MINUTE) },
      dlq: deadLetterEnvironment,
    };
    // API Gateway waits 30 s: the test webhook outlives the receiver's timeout, bulk DLQ work
    // stops at 20 s (see http/dlq.ts) and queues the rest; the others answer in milliseconds.
    const familyTimeout: Partial<Record<RouteFamily, Duration>> = {
      config: Duration.seconds(Math.min(29, timeoutSeconds + 5)),
      dlq: Duration.seconds(29),
    };
    const families = {} as Record<RouteFamily, IFunction>;
    for (const family of ROUTE_FAMILIES) {
      const fn = new WebhookFunction(this, `${family}Routes`, {
        entry: `http/${family}.ts`,
        description: `HTTP routes of the ${family} family`,
        environment: { [ENV.tableName]: table.tableName, ...familyEnvironment[family] },
        ...(familyTimeout[family] ? { timeout: familyTimeout[family] } : {}),
      }).function;
      grants[family](fn);
      families[family] = fn;
    }

    const { api } = new PublicApi(this, "Api", { authorizer, families });

    // Every queue consumer reports partial batch failures: one bad message never retries its batch.
    // The role gets what Lambda's poller needs (ReceiveMessage, DeleteMessage, GetQueueAttributes),
    // not SqsEventSource's grantConsumeMessages, which adds ChangeMessageVisibility and GetQueueUrl.
    // The mapping keeps SqsEventSource's construct id, so its logical id does not change.
    const consumes = (fn: IFunction, queue: IQueue, batchSize = 10) => {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
          resources: [queue.queueArn],
        }),
      );
      fn.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(queue.node)}`, {
        eventSourceArn: queue.queueArn,
        batchSize,
        reportBatchItemFailures: true,
      });
    };

    // The pipeline: events → dispatch (fan-out) → deliveries → deliver (sign, POST, retry) → DLQ.
    const dispatch = new WebhookFunction(this, "Dispatch", {
      entry: "workers/dispatch.ts",
      description: "Fans fiscal events out to one delivery per endpoint",
      timeout: Duration.seconds(30),
      environment: {
        [ENV.tableName]: table.tableName,
        [ENV.deliveriesQueueUrl]: queues.deliveries.queueUrl,
        [ENV.eventsDeadLetterQueueUrl]: queues.eventsDeadLetter.queueUrl,
        [ENV.eventMaxReceives]: String(eventAttempts),
      },
    }).function;
    tableAccess(dispatch, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"], true);
    sendsTo(dispatch, queues.deliveries);
    sendsTo(dispatch, queues.eventsDeadLetter);
    consumes(dispatch, queues.events);

    const deliver = new WebhookFunction(this, "Deliver", {
      entry: "workers/deliver.ts",
      description: "Signs and POSTs deliveries, schedules retries",
      timeout: Duration.seconds(30),
      environment: {
        [ENV.tableName]: table.tableName,
        [ENV.deliveriesQueueUrl]: queues.deliveries.queueUrl,
        [ENV.deliveriesDeadLetterQueueUrl]: queues.deliveriesDeadLetter.queueUrl,
        [ENV.retrySchedule]: formatRetrySchedule(retrySchedule),
        ...deliveryTimeout,
      },
    }).function;
    // Retries read where events go now (tenant, config, subscriptions by type) to stop unwanted ones.
    tableAccess(deliver, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem"], true);
    sendsTo(deliver, queues.deliveriesDeadLetter);
    consumes(deliver, queues.deliveries);
    // Retries are scheduled by changing the message's visibility.
    deliver.addToRolePolicy(new PolicyStatement({ actions: ["sqs:ChangeMessageVisibility"], resources: [queues.deliveries.queueArn] }));

    // The DLQ: indexed per tenant as dead messages arrive; bulk operations continue as jobs.
    const deadLetterIndex = new WebhookFunction(this, "DeadLetterIndex", {
      entry: "workers/dlq-index.ts",
      description: "Indexes dead deliveries per tenant, then lets SQS delete them",
      timeout: Duration.seconds(30),
      environment: { [ENV.tableName]: table.tableName },
    }).function;
    tableAccess(deadLetterIndex, ["dynamodb:GetItem", "dynamodb:PutItem"]);
    consumes(deadLetterIndex, queues.deliveriesDeadLetter);
    const deadLetterJobs = new WebhookFunction(this, "DeadLetterJobs", {
      entry: "workers/dlq-jobs.ts",
      description: "Continues DLQ retry-all and purge beyond an API call",
      timeout: Duration.minutes(1),
      environment: { [ENV.tableName]: table.tableName, ...deadLetterEnvironment },
    }).function;
    deadLetterAccess(deadLetterJobs, false);
    consumes(deadLetterJobs, queues.deadLetterJobs, 1);

    new OperationsAlarms(this, "Alarms", { queues });

    new CfnOutput(this, OUTPUTS.apiUrl, { value: api.apiEndpoint, description: "Base URL of the HTTP API" });
    new CfnOutput(this, OUTPUTS.eventsQueueUrl, {
      value: queues.events.queueUrl,
      description: "Producers send fiscal events to this SQS queue",
    });
    new CfnOutput(this, OUTPUTS.deliveriesDeadLetterQueueUrl, {
      value: queues.deliveriesDeadLetter.queueUrl,
      description: "Deliveries that exhausted their attempts",
    });
    new CfnOutput(this, OUTPUTS.tableName, { value: table.tableName, description: "The product's DynamoDB table" });
    new CfnOutput(this, OUTPUTS.region, { value: this.region, description: "Region of the stack" });
  }
}
