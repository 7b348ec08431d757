import { Duration } from "aws-cdk-lib";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { RESOURCE_IDS } from "../../lambdas/contract/resources.ts";

export interface QueuesProps {
  /**
   * Receives after which SQS itself moves a delivery to the dead-letter queue: a safety net
   * for a message no invocation can finish. The deliver function moves exhausted deliveries
   * there itself; this stays above what a full schedule takes.
   */
  readonly deliveryMaxReceives: number;
  /** Receives an event gets before it is parked in the events dead-letter queue. */
  readonly eventAttempts: number;
  readonly eventsVisibilityTimeout: Duration;
  readonly deliveriesVisibilityTimeout: Duration;
  readonly deadLetterIndexVisibilityTimeout: Duration;
  readonly deadLetterJobsVisibilityTimeout: Duration;
}

/**
 * The pipeline's queues: `events` (producers write fiscal events here) and `deliveries`
 * (one message per endpoint delivery), each with a dead-letter queue; the deliveries DLQ is
 * drained into a per-tenant index and has its own DLQ for what cannot be indexed; DLQ jobs. All encrypted with
 * SQS-managed keys, TLS required, dead letters kept the 14 days SQS allows.
 */
export class PipelineQueues extends Construct {
  readonly events: Queue;
  readonly eventsDeadLetter: Queue;
  readonly deliveries: Queue;
  readonly deliveriesDeadLetter: Queue;
  /** Dead letters the indexer cannot read (not deliveries at all): for the operator. */
  readonly unindexable: Queue;
  /** Continuations of DLQ retry-all and purge that outlast an API call. */
  readonly deadLetterJobs: Queue;
  readonly deadLetterJobsDeadLetter: Queue;

  constructor(scope: Construct, id: string, props: QueuesProps) {
    super(scope, id);
    const secure = { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true } as const;
    const retention = Duration.days(14);
    this.eventsDeadLetter = new Queue(this, RESOURCE_IDS.eventsDeadLetterQueue, { ...secure, retentionPeriod: retention });
    this.events = new Queue(this, RESOURCE_IDS.eventsQueue, {
      ...secure,
      retentionPeriod: retention,
      visibilityTimeout: props.eventsVisibilityTimeout,
      deadLetterQueue: { queue: this.eventsDeadLetter, maxReceiveCount: props.eventAttempts },
    });
    this.unindexable = new Queue(this, RESOURCE_IDS.unindexableDeadLetterQueue, { ...secure, retentionPeriod: retention });
    this.deliveriesDeadLetter = new Queue(this, RESOURCE_IDS.deliveriesDeadLetterQueue, {
      ...secure,
      retentionPeriod: retention,
      visibilityTimeout: props.deadLetterIndexVisibilityTimeout,
      deadLetterQueue: { queue: this.unindexable, maxReceiveCount: 5 },
    });
    this.deadLetterJobsDeadLetter = new Queue(this, RESOURCE_IDS.deadLetterJobsDeadLetterQueue, { ...secure, retentionPeriod: retention });
    this.deadLetterJobs = new Queue(this, RESOURCE_IDS.deadLetterJobsQueue, {
      ...secure,
      retentionPeriod: retention,
      visibilityTimeout: props.deadLetterJobsVisibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterJobsDeadLetter, maxReceiveCount: 5 },
    });
    this.deliveries = new Queue(this, RESOURCE_IDS.deliveriesQueue, {
      ...secure,
      retentionPeriod: retention,
      visibilityTimeout: props.deliveriesVisibilityTimeout,
      deadLetterQueue: { queue: this.deliveriesDeadLetter, maxReceiveCount: props.deliveryMaxReceives },
    });
  }
}
