import { Duration } from "aws-cdk-lib";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { MAX_MESSAGE_BYTES } from "../aws/sqs-batch.ts";
import { RESOURCE_IDS } from "../../lambdas/contract/resources.ts";
import { MAX_RETRY_AFTER_SECONDS, nextRetryDelay } from "../../lambdas/domain/retry-schedule.ts";

/** SQS's largest maxReceiveCount. */
const MAX_RECEIVE_COUNT = 1000;
/** How much higher the FIFO queues' safety net sits than the standard ones' (see PipelineQueues). */
export const ORDERED_RECEIVES_FACTOR = 10;

/** The longest SQS keeps a message; a delivery's whole retry schedule must fit in it. */
export const QUEUE_RETENTION = Duration.days(14);

export interface QueuesProps {
  /**
   * Receives after which SQS itself moves a delivery to the dead-letter queue: a safety net
   * for a message no invocation can finish. The deliver function moves exhausted deliveries
   * there itself; this stays above what a full schedule takes.
   */
  readonly deliveryMaxReceives: number;
  /** Seconds before each delivery attempt: a delivery's whole life must fit in the queues' retention. */
  readonly retrySchedule: readonly number[];
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
 * SQS-managed keys, TLS required, dead letters kept the 14 days SQS allows, and the
 * 256 KiB message size the functions assume (`MAX_MESSAGE_BYTES`) set explicitly.
 *
 * SQS deletes a message past its retention without redriving it, so a retry schedule that could
 * outlast the deliveries queue's retention would lose deliveries silently: synthesis refuses it.
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
  /**
   * FIFO: events whose order matters (those of one fiscal document, in one message group),
   * and the deliveries made from events with a `documentKey`, one group per (tenant, document,
   * endpoint), so each endpoint receives a document's events one at a time, in order.
   */
  readonly orderedEvents: Queue;
  readonly orderedDeliveries: Queue;
  /** What no invocation could finish on the two FIFO queues (a FIFO queue's DLQ is FIFO): for the operator. */
  readonly orderedDeadLetter: Queue;

  constructor(scope: Construct, id: string, props: QueuesProps) {
    super(scope, id);
    assertScheduleFitsRetention(props.retrySchedule, props.deliveriesVisibilityTimeout);
    const secure = {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
    } as const;
    const retention = QUEUE_RETENTION;
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
    const fifo = { ...secure, fifo: true, retentionPeriod: retention } as const;
    // A message waiting behind its group's first is received again with it at each of that one's
    // attempts (and released): the safety net counts those receives too, so it sits ten times higher.
    const behindItsGroup = (receives: number) => Math.min(MAX_RECEIVE_COUNT, ORDERED_RECEIVES_FACTOR * receives);
    this.orderedDeadLetter = new Queue(this, RESOURCE_IDS.orderedDeadLetterQueue, fifo);
    this.orderedEvents = new Queue(this, RESOURCE_IDS.orderedEventsQueue, {
      ...fifo,
      // Producers may name each event's MessageDeduplicationId (its id); without one, equal bodies within 5 minutes are one event.
      contentBasedDeduplication: true,
      visibilityTimeout: props.eventsVisibilityTimeout,
      deadLetterQueue: { queue: this.orderedDeadLetter, maxReceiveCount: behindItsGroup(props.eventAttempts) },
    });
    this.orderedDeliveries = new Queue(this, RESOURCE_IDS.orderedDeliveriesQueue, {
      ...fifo,
      visibilityTimeout: props.deliveriesVisibilityTimeout,
      deadLetterQueue: { queue: this.orderedDeadLetter, maxReceiveCount: behindItsGroup(props.deliveryMaxReceives) },
    });
  }
}

/**
 * The longest a delivery can wait for all its attempts: the initial delay, then every retry
 * delay at its worst (a receiver's longest Retry-After, the full jitter).
 */
export function worstCaseWaitSeconds(schedule: readonly number[]): number {
  return schedule.reduce((total, _, step) => total + worstWait(schedule, step), 0);
}

/** The longest a single attempt of the schedule waits, jitter and a receiver's Retry-After included. */
export function longestWaitSeconds(schedule: readonly number[]): number {
  return Math.max(...schedule.map((_, step) => worstWait(schedule, step)));
}

/** The wait before attempt `step + 1` at its worst (the first attempt waits its delay as given). */
function worstWait(schedule: readonly number[], step: number): number {
  return step === 0 ? (schedule[0] ?? 0) : (nextRetryDelay(schedule, step, MAX_RETRY_AFTER_SECONDS, () => 1) ?? 0);
}

function assertScheduleFitsRetention(schedule: readonly number[], visibilityTimeout: Duration): void {
  // Plus, per attempt, a visibility timeout for a function that died holding the message.
  const worst = worstCaseWaitSeconds(schedule) + schedule.length * visibilityTimeout.toSeconds();
  const retention = QUEUE_RETENTION.toSeconds();
  if (worst > retention) {
    throw new RangeError(
      `retry schedule takes up to ${worst} s (delays with jitter and Retry-After, plus a visibility timeout per attempt); ` +
        `the deliveries queue keeps a message ${retention} s (14 days): shorten it`,
    );
  }
}
