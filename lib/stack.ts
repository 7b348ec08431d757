import { CfnOutput, Duration, Names, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildConsole, writeConsole } from "../console/build.ts";
import { ENV, OUTPUTS, TABLE_KEYS } from "../lambdas/contract/resources.ts";
import { DEFAULT_MAX_SUBSCRIPTIONS_PER_TENANT } from "../lambdas/domain/subscriptions.ts";
import { DEFAULT_DISABLE_AFTER_SECONDS } from "../lambdas/domain/endpoint-health.ts";
import { DEFAULT_CONFIG_CACHE_SECONDS } from "../lambdas/delivery/targets.ts";
import { ROUTE_FAMILIES, type RouteFamily } from "../lambdas/contract/routes.ts";
import { DEFAULT_RETRY_SCHEDULE_SECONDS, formatRetrySchedule, type RetrySchedule } from "../lambdas/domain/retry-schedule.ts";
import { DataTable } from "./constructs/data-table.ts";
import { PublicApi } from "./constructs/http-api.ts";
import { PipelineQueues } from "./constructs/queues.ts";
import { OperationsAlarms } from "./constructs/alarms.ts";
import { OperationsDashboard } from "./constructs/dashboard.ts";
import { PipelineMetrics } from "./constructs/pipeline-metrics.ts";
import { ProducerAccess } from "./constructs/producer-access.ts";
import { WebhookFunction, type WebhookFunctionProps } from "./constructs/webhook-function.ts";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IQueue } from "aws-cdk-lib/aws-sqs";

export interface FiscalWebhooksStackProps extends StackProps {
  /** Seconds before each delivery attempt; its length is the attempt budget. */
  readonly retrySchedule?: RetrySchedule;
  /** Portal subscriptions a tenant may hold (default 1000). */
  readonly maxSubscriptionsPerTenant?: number;
  /** Seconds a receiver has to answer a delivery (default 10, at most 20 so a batch fits the function's 30 s). */
  readonly deliveryTimeoutSeconds?: number;
  /** Test webhooks (`POST /webhooks/test`) a tenant may send a minute (default 5). */
  readonly testWebhooksPerMinute?: number;
  /** Seconds an endpoint may fail without one success before it is disabled (default 432000: five days). */
  readonly endpointDisableAfterSeconds?: number;
  /**
   * Seconds a warm dispatch or deliver function may use what it read of a tenant (tenant, subscriptions,
   * config, secret and endpoint health) before reading it again; 0 reads per batch.
   * @default 10 (`DEFAULT_CONFIG_CACHE_SECONDS`)
   */
  readonly configCacheSeconds?: number;
  /**
   * Most concurrent invocations each queue's event source mapping may start (SQS `MaximumConcurrency`, 2–1000).
   * @default dispatch 5, deliver 20, deadLetters 2 (`DEFAULT_MAX_CONCURRENCY`)
   */
  readonly maxConcurrency?: Partial<Record<QueueConsumer, number>>;
  /**
   * Reserved concurrency per function group, each function of the group getting this many.
   * @default none: new accounts (quota 10) cannot reserve any
   */
  readonly reservedConcurrency?: Partial<Record<FunctionGroup, number>>;
  /**
   * Alarm when delivered / (delivered + retrying + exhausted) stays below this for 15 minutes.
   * @default 0.9
   */
  readonly deliverySuccessRatioThreshold?: number;
  /** @default no e-mail subscription to the alarm topic */
  readonly alarmEmail?: string;
  /** @default no other account may send to the events queue */
  readonly producerAccountIds?: readonly string[];
}

/** The queue consumers: dispatch (events), deliver (deliveries), deadLetters (the DLQ indexer and DLQ jobs). */
export type QueueConsumer = "dispatch" | "deliver" | "deadLetters";
/** The function groups reserved concurrency applies to: the API's (authorizer and route families) and the queue consumers. */
export type FunctionGroup = "api" | QueueConsumer;

/**
 * Dispatch only reads and fans out, so 5 keep the deliveries queue fed; deliver waits on receivers
 * (up to the delivery timeout), so it gets the most; the DLQ indexer and jobs are background work
 * and take the smallest value SQS allows. At most 29 of the account's concurrency (README, Concurrency).
 */
export const DEFAULT_MAX_CONCURRENCY: Readonly<Record<QueueConsumer, number>> = { dispatch: 5, deliver: 20, deadLetters: 2 };
export const DEFAULT_DELIVERY_SUCCESS_RATIO_THRESHOLD = 0.9;

const DEFAULT_TEST_WEBHOOKS_PER_MINUTE = 5;

/**
 * A full schedule takes one receive per attempt, plus one more for each wait longer than SQS
 * can delay a message (it comes back early and is hidden until due); the rest is headroom
 * for throttles, crashes and timeouts, which use up receives but no attempt.
 */
export function deliveryMaxReceives(schedule: RetrySchedule): number {
  return 2 * schedule.length + 10;
}

const DEFAULT_DELIVERY_TIMEOUT_SECONDS = 10;
const MAX_DELIVERY_TIMEOUT_SECONDS = 20;

/** What each HTTP route family may touch besides its logs. */
type FamilyGrants = (fn: IFunction) => void;

export class FiscalWebhooksStack extends Stack {
  constructor(scope: Construct, id: string, props: FiscalWebhooksStackProps = {}) {
    super(scope, id, props);
    const retrySchedule = props.retrySchedule ?? DEFAULT_RETRY_SCHEDULE_SECONDS;
    const maxConcurrency = { ...DEFAULT_MAX_CONCURRENCY, ...props.maxConcurrency };
    const reserved = props.reservedConcurrency ?? {};
    for (const consumer of Object.keys(maxConcurrency) as QueueConsumer[]) {
      const limit = reserved[consumer];
      // Lambda throttles a mapping that may start more than its function's reservation, and a throttled receive still counts as a receive.
      if (limit !== undefined && limit < maxConcurrency[consumer]) {
        throw new RangeError(`reserved concurrency of ${consumer} (${limit}) is below its queue's maximum concurrency (${maxConcurrency[consumer]})`);
      }
    }

    const timeoutSeconds = props.deliveryTimeoutSeconds ?? DEFAULT_DELIVERY_TIMEOUT_SECONDS;
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_DELIVERY_TIMEOUT_SECONDS) {
      throw new RangeError(`deliveryTimeoutSeconds must be a whole number from 1 to ${MAX_DELIVERY_TIMEOUT_SECONDS}`);
    }
    // A deliver batch waits on its receivers at once: their time to answer plus a margin for
    // the reads and writes around them. AWS asks for a visibility timeout of six times the
    // function's, so a batch whose invocation failed comes back that soon.
    const deliverTimeout = Duration.seconds(timeoutSeconds + 5);

    const { table } = new DataTable(this, "Data");
    const eventAttempts = 5;
    const eventsVisibilityTimeout = Duration.minutes(3);
    const queues = new PipelineQueues(this, "Queues", {
      deliveryMaxReceives: deliveryMaxReceives(retrySchedule),
      retrySchedule,
      eventAttempts,
      eventsVisibilityTimeout,
      deliveriesVisibilityTimeout: Duration.seconds(6 * deliverTimeout.toSeconds()),
      deadLetterIndexVisibilityTimeout: Duration.minutes(3),
      deadLetterJobsVisibilityTimeout: Duration.minutes(6),
    });

    const authorizer = new WebhookFunction(this, "Authorizer", {
      entry: "http/authorizer.ts",
      description: "Resolves a Bearer API token to its tenant",
      reservedConcurrentExecutions: reserved.api,
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
      // Portal links are listed with the index and revoked with a conditional delete.
      config: (fn) => tableAccess(fn, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], true),
      // Listings are queries; a document's history also reads its endpoints' last log lines in one batch.
      audit: (fn) => tableAccess(fn, ["dynamodb:Query", "dynamodb:BatchGetItem"]),
      dlq: (fn) => deadLetterAccess(fn, true),
      // Static files only: no table, no queue.
      console: () => {},
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
    const deliveryTimeout = { [ENV.deliveryTimeoutMs]: String(timeoutSeconds * 1000) };
    const familyEnvironment: Partial<Record<RouteFamily, Record<string, string>>> = {
      subscriptions: { [ENV.maxSubscriptionsPerTenant]: String(maxSubscriptions) },
      config: { ...deliveryTimeout, [ENV.testWebhooksPerMinute]: String(props.testWebhooksPerMinute ?? DEFAULT_TEST_WEBHOOKS_PER_MINUTE) },
      dlq: deadLetterEnvironment,
    };
    // The web console's files, built for this synthesis and copied into its function's bundle.
    const consoleFiles = writeConsole(buildConsole(), path.join(tmpdir(), "fiscal-webhooks-console"));
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
        // The console's function serves files: it knows nothing of the table.
        ...(family === "console"
          ? { files: { from: consoleFiles, as: "console" } }
          : { environment: { [ENV.tableName]: table.tableName, ...familyEnvironment[family] } }),
        ...(familyTimeout[family] ? { timeout: familyTimeout[family] } : {}),
        reservedConcurrentExecutions: reserved.api,
      }).function;
      grants[family](fn);
      families[family] = fn;
    }

    const { api } = new PublicApi(this, "Api", { authorizer, families });

    // Every queue consumer reports partial batch failures: one bad message never retries its batch.
    // The role gets what Lambda's poller needs (ReceiveMessage, DeleteMessage, GetQueueAttributes),
    // not SqsEventSource's grantConsumeMessages, which adds ChangeMessageVisibility and GetQueueUrl.
    // The mapping keeps SqsEventSource's construct id, so its logical id does not change. It
    // starts at most its maxConcurrency invocations, so a burst queues up instead of taking the
    // account's concurrency from the API.
    // On a FIFO queue a batch holds each message group's messages in order, and there is no batching window.
    const consumes = (fn: IFunction, queue: IQueue, consumer: QueueConsumer, batchSize = 10) => {
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
        maxConcurrency: maxConcurrency[consumer],
      });
    };

    // Dispatch and deliver keep what they read of a tenant for this long (README, Settings).
    const configCacheSeconds = String(props.configCacheSeconds ?? DEFAULT_CONFIG_CACHE_SECONDS);

    // Every pipeline worker reads the table; each adds what it needs besides.
    const worker = (id: string, props: Omit<WebhookFunctionProps, "environment"> & { readonly environment?: Record<string, string> }) =>
      new WebhookFunction(this, id, { ...props, environment: { [ENV.tableName]: table.tableName, ...props.environment } }).function;

    // The pipeline: events → dispatch (fan-out) → deliveries → deliver (sign, POST, retry) → DLQ.
    const dispatch = worker("Dispatch", {
      entry: "workers/dispatch.ts",
      description: "Fans fiscal events out to one delivery per endpoint",
      timeout: Duration.seconds(30),
      reservedConcurrentExecutions: reserved.dispatch,
      environment: {
        [ENV.deliveriesQueueUrl]: queues.deliveries.queueUrl,
        [ENV.orderedDeliveriesQueueUrl]: queues.orderedDeliveries.queueUrl,
        [ENV.eventsDeadLetterQueueUrl]: queues.eventsDeadLetter.queueUrl,
        [ENV.eventMaxReceives]: String(eventAttempts),
        [ENV.configCacheSeconds]: configCacheSeconds,
      },
    });
    // Reads where events go, claims and releases producer ids, and files a batch's events with a
    // documentKey in their documents' histories in one BatchWriteItem.
    tableAccess(dispatch, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"], true);
    sendsTo(dispatch, queues.deliveries);
    // Deliveries of events with a documentKey go in their (tenant, document, endpoint) group.
    sendsTo(dispatch, queues.orderedDeliveries);
    sendsTo(dispatch, queues.eventsDeadLetter);
    consumes(dispatch, queues.events, "dispatch");
    consumes(dispatch, queues.orderedEvents, "dispatch");

    const deliver = worker("Deliver", {
      entry: "workers/deliver.ts",
      description: "Signs and POSTs deliveries, schedules retries",
      timeout: deliverTimeout,
      reservedConcurrentExecutions: reserved.deliver,
      environment: {
        [ENV.deliveriesQueueUrl]: queues.deliveries.queueUrl,
        [ENV.orderedDeliveriesQueueUrl]: queues.orderedDeliveries.queueUrl,
        [ENV.deliveriesDeadLetterQueueUrl]: queues.deliveriesDeadLetter.queueUrl,
        [ENV.eventsQueueUrl]: queues.events.queueUrl,
        [ENV.retrySchedule]: formatRetrySchedule(retrySchedule),
        [ENV.endpointDisableAfterSeconds]: String(props.endpointDisableAfterSeconds ?? DEFAULT_DISABLE_AFTER_SECONDS),
        [ENV.configCacheSeconds]: configCacheSeconds,
        ...deliveryTimeout,
      },
    });
    // Retries read where events go now (tenant, config, subscriptions by type) to stop unwanted
    // ones; first attempts' log lines go in one BatchWriteItem, later ones as conditional puts;
    // an endpoint's health changes state, and deliveries to an endpoint with a rate limit take
    // their slots, with conditional updates.
    tableAccess(deliver, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"], true);
    // Each retry is queued as a new message for its step; an exhausted delivery goes to the DLQ;
    // a message back before its time is hidden until it is due.
    sendsTo(deliver, queues.deliveries);
    sendsTo(deliver, queues.deliveriesDeadLetter);
    // Operational events (a delivery exhausted, an endpoint disabled or recovered) go through the
    // events queue like producers' events, so dispatch fans them out.
    sendsTo(deliver, queues.events);
    consumes(deliver, queues.deliveries, "deliver");
    // An ordered delivery waits for its retry in the queue, holding its group back (its visibility
    // changes; no new message, which would go behind the document's later events).
    consumes(deliver, queues.orderedDeliveries, "deliver");
    deliver.addToRolePolicy(
      new PolicyStatement({ actions: ["sqs:ChangeMessageVisibility"], resources: [queues.deliveries.queueArn, queues.orderedDeliveries.queueArn] }),
    );

    // The DLQ: indexed per tenant as dead messages arrive; bulk operations continue as jobs.
    const deadLetterIndex = worker("DeadLetterIndex", {
      entry: "workers/dlq-index.ts",
      description: "Indexes dead deliveries per tenant, then lets SQS delete them",
      timeout: Duration.seconds(30),
      reservedConcurrentExecutions: reserved.deadLetters,
    });
    tableAccess(deadLetterIndex, ["dynamodb:GetItem", "dynamodb:PutItem"]);
    consumes(deadLetterIndex, queues.deliveriesDeadLetter, "deadLetters");
    const deadLetterJobs = worker("DeadLetterJobs", {
      entry: "workers/dlq-jobs.ts",
      description: "Continues DLQ retry-all and purge beyond an API call",
      timeout: Duration.minutes(1),
      reservedConcurrentExecutions: reserved.deadLetters,
      environment: deadLetterEnvironment,
    });
    deadLetterAccess(deadLetterJobs, false);
    consumes(deadLetterJobs, queues.deadLetterJobs, "deadLetters", 1);

    // Operations: alarms paging one topic, the dashboard, producer access.
    const metrics = new PipelineMetrics(api);
    const successRatioThreshold = props.deliverySuccessRatioThreshold ?? DEFAULT_DELIVERY_SUCCESS_RATIO_THRESHOLD;
    const { topic, alarms } = new OperationsAlarms(this, "Alarms", {
      queues,
      metrics,
      dispatch,
      deliver,
      retrySchedule,
      eventRetryWindow: Duration.seconds(eventsVisibilityTimeout.toSeconds() * eventAttempts),
      successRatioThreshold,
      alarmEmail: props.alarmEmail,
    });
    const { dashboard } = new OperationsDashboard(this, "Dashboard", {
      metrics,
      queues,
      functions: { authorizer, dispatch, deliver, "DLQ index": deadLetterIndex, "DLQ jobs": deadLetterJobs, ...families },
      alarms,
      successRatioThreshold,
    });
    const producers = new ProducerAccess(this, "Producers", { queues: [queues.events, queues.orderedEvents], producerAccountIds: props.producerAccountIds });

    new CfnOutput(this, OUTPUTS.apiUrl, { value: api.apiEndpoint, description: "Base URL of the HTTP API" });
    new CfnOutput(this, OUTPUTS.consoleUrl, { value: `${api.apiEndpoint}/console/`, description: "The web console: sign in with an API token" });
    new CfnOutput(this, OUTPUTS.eventsQueueUrl, {
      value: queues.events.queueUrl,
      description: "Producers send fiscal events to this SQS queue",
    });
    new CfnOutput(this, OUTPUTS.deliveriesDeadLetterQueueUrl, {
      value: queues.deliveriesDeadLetter.queueUrl,
      description: "Deliveries that exhausted their attempts",
    });
    new CfnOutput(this, OUTPUTS.eventsQueueArn, { value: queues.events.queueArn, description: "ARN of the events queue, for producers' IAM" });
    new CfnOutput(this, OUTPUTS.orderedEventsQueueUrl, {
      value: queues.orderedEvents.queueUrl,
      description: "Producers send the events of a fiscal document here (FIFO; MessageGroupId: the documentKey) to have them delivered in the order sent",
    });
    new CfnOutput(this, OUTPUTS.producerPolicyArn, {
      value: producers.policy.managedPolicyArn,
      description: "Attach to a producer's role or user: sqs:SendMessage on the events queues",
    });
    new CfnOutput(this, OUTPUTS.alarmTopicArn, { value: topic.topicArn, description: "Every alarm notifies this SNS topic: subscribe your pager" });
    new CfnOutput(this, OUTPUTS.dashboardName, { value: dashboard.dashboardName, description: "The CloudWatch dashboard of the pipeline" });
    new CfnOutput(this, OUTPUTS.tableName, { value: table.tableName, description: "The product's DynamoDB table" });
    new CfnOutput(this, OUTPUTS.region, { value: this.region, description: "Region of the stack" });
  }
}
