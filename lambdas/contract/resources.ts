/**
 * Names of the stack's resources and of the environment variables through which the
 * functions find them. The stack sets them, the handlers read them, the local runtime
 * resolves them: each is spelled here once.
 */
export const STACK_NAME = "FiscalWebhooks";

/** Construct ids of the stateful resources (they become the CloudFormation logical id prefixes). */
export const RESOURCE_IDS = {
  table: "Data",
  eventsQueue: "EventsQueue",
  eventsDeadLetterQueue: "EventsDeadLetterQueue",
  deliveriesQueue: "DeliveriesQueue",
  deliveriesDeadLetterQueue: "DeliveriesDeadLetterQueue",
  unindexableDeadLetterQueue: "UnindexableDeadLetterQueue",
  deadLetterJobsQueue: "DeadLetterJobsQueue",
  deadLetterJobsDeadLetterQueue: "DeadLetterJobsDeadLetterQueue",
  orderedEventsQueue: "OrderedEventsQueue",
  orderedDeliveriesQueue: "OrderedDeliveriesQueue",
  orderedDeadLetterQueue: "OrderedDeadLetterQueue",
  api: "HttpApi",
} as const;

/** Environment variables the functions are configured by (besides the standard AWS SDK ones). */
export const ENV = {
  tableName: "TABLE_NAME",
  eventsQueueUrl: "EVENTS_QUEUE_URL",
  deliveriesQueueUrl: "DELIVERIES_QUEUE_URL",
  orderedDeliveriesQueueUrl: "ORDERED_DELIVERIES_QUEUE_URL",
  deliveriesDeadLetterQueueUrl: "DELIVERIES_DLQ_URL",
  eventsDeadLetterQueueUrl: "EVENTS_DLQ_URL",
  deadLetterJobsQueueUrl: "DEAD_LETTER_JOBS_QUEUE_URL",
  deliveryTimeoutMs: "DELIVERY_TIMEOUT_MS",
  retrySchedule: "RETRY_SCHEDULE_SECONDS",
  eventMaxReceives: "EVENT_MAX_RECEIVES",
  maxSubscriptionsPerTenant: "MAX_SUBSCRIPTIONS_PER_TENANT",
  testWebhooksPerMinute: "TEST_WEBHOOKS_PER_MINUTE",
  endpointDisableAfterSeconds: "ENDPOINT_DISABLE_AFTER_SECONDS",
  configCacheSeconds: "CONFIG_CACHE_SECONDS",
  /** Set only by the local runtime: lets deliveries reach loopback receivers. The stack never sets it. */
  allowLoopbackTargets: "DELIVERY_ALLOW_LOOPBACK",
} as const;

/** Stack outputs, shaped like `cdk deploy --outputs-file`. */
export const OUTPUTS = {
  apiUrl: "ApiUrl",
  consoleUrl: "ConsoleUrl",
  eventsQueueUrl: "EventsQueueUrl",
  eventsQueueArn: "EventsQueueArn",
  orderedEventsQueueUrl: "OrderedEventsQueueUrl",
  producerPolicyArn: "ProducerPolicyArn",
  alarmTopicArn: "AlarmTopicArn",
  dashboardName: "DashboardName",
  deliveriesDeadLetterQueueUrl: "DeliveriesDeadLetterQueueUrl",
  tableName: "TableName",
  region: "Region",
} as const;

/** Table key schema: one table, overloaded keys, one overloaded global secondary index. */
export const TABLE_KEYS = {
  partitionKey: "pk",
  sortKey: "sk",
  gsi1: { indexName: "gsi1", partitionKey: "gsi1pk", sortKey: "gsi1sk" },
  timeToLive: "expiresAt",
} as const;
