import { Duration, RemovalPolicy } from "aws-cdk-lib";
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Stats,
  TreatMissingData,
  type AlarmProps,
  type IAlarm,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";
import { METRICS_PERIOD, type PipelineMetrics } from "./pipeline-metrics.ts";
import { longestWaitSeconds, type PipelineQueues } from "./queues.ts";

export interface OperationsAlarmsProps {
  readonly queues: PipelineQueues;
  readonly metrics: PipelineMetrics;
  readonly dispatch: IFunction;
  readonly deliver: IFunction;
  /** Seconds before each delivery attempt: sets how old a healthy deliveries message can be. */
  readonly retrySchedule: readonly number[];
  /** How long a failing event is retried before SQS sets it aside (receives × visibility timeout). */
  readonly eventRetryWindow: Duration;
  /** Alarm when delivered / (delivered + retrying + exhausted) stays below this (0 to 1) for 15 minutes. */
  readonly successRatioThreshold: number;
  /**
   * An address the alarm topic e-mails (AWS asks it to confirm the subscription first).
   * @default no subscription: subscribe a pager, chat or e-mail to the `AlarmTopicArn` output
   */
  readonly alarmEmail?: string;
}

/**
 * The alarms an operator is paged for, each notifying (alarm and back to OK) one SNS topic the
 * stack creates. Every description says what the alarm means and what to do; the README's runbook
 * has the details. Alarms on a rate of arrivals clear by themselves; alarms on messages an operator
 * must act on (unindexable letters, failed DLQ jobs) stay red until they are dealt with.
 */
export class OperationsAlarms extends Construct {
  readonly topic: Topic;
  readonly alarms: IAlarm[] = [];

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    super(scope, id);
    const { queues, metrics } = props;
    if (!(props.successRatioThreshold > 0 && props.successRatioThreshold <= 1)) {
      throw new RangeError(`the delivery success ratio threshold must be above 0 and at most 1, got ${props.successRatioThreshold}`);
    }

    // CloudWatch can publish to an encrypted topic only through a customer managed key it may use.
    const key = new Key(this, "TopicKey", {
      description: "Encrypts the Fiscal Webhooks alarm topic",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    const cloudWatch = new ServicePrincipal("cloudwatch.amazonaws.com");
    key.grant(cloudWatch, "kms:Decrypt", "kms:GenerateDataKey*");
    this.topic = new Topic(this, "Topic", { displayName: "Fiscal Webhooks alarms", masterKey: key, enforceSSL: true });
    // The topic policy replaces SNS's default one: let this account's alarms publish, nothing else.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        actions: ["sns:Publish"],
        principals: [cloudWatch],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { "aws:SourceAccount": this.topic.stack.account } },
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const notify = new SnsAction(this.topic);

    const page = (alarmId: string, alarm: Omit<AlarmProps, "evaluationPeriods"> & { evaluationPeriods?: number }) => {
      const created = new Alarm(this, alarmId, {
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        ...alarm,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
    };

    page("DeliverySuccessRatio", {
      alarmDescription:
        `Fewer than ${props.successRatioThreshold * 100} % of delivery attempts succeeded for 15 minutes. ` +
        "Receivers are failing or the deliver function is: look at the Deliver logs' failure reasons and the dashboard's receiver response time.",
      metric: metrics.successRatio(),
      threshold: props.successRatioThreshold,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
    });
    for (const [name, fn] of [["Dispatch", props.dispatch], ["Deliver", props.deliver]] as const) {
      page(`${name}Errors`, {
        alarmDescription:
          `The ${name} function failed whole invocations (it reports single messages as batch item failures, so any error is a crash or a timeout). ` +
          `Read its log group for the error; SQS retries the batch.`,
        metric: metrics.lambda(fn, "Errors", name),
        threshold: 1,
      });
      page(`${name}Throttles`, {
        alarmDescription:
          `Lambda throttled the ${name} function: the account's concurrency is exhausted or its reserved concurrency is below its queue's maximum concurrency. ` +
          "Throttled receives use up no delivery attempt but delay deliveries, and enough of them set events aside: raise the quota or lower the maxConcurrency settings (README, Concurrency).",
        metric: metrics.lambda(fn, "Throttles", name),
        threshold: 1,
      });
    }
    const eventsAgeLimit = props.eventRetryWindow.plus(Duration.minutes(5));
    page("EventsQueueAge", {
      alarmDescription:
        `An event has waited over ${eventsAgeLimit.toMinutes()} minutes to be dispatched: longer than retrying one failing event takes. ` +
        "Dispatch is down, throttled or too slow for the traffic: check the Dispatch errors and throttles, then raise dispatchMaxConcurrency.",
      metric: queues.events.metricApproximateAgeOfOldestMessage({ period: METRICS_PERIOD, statistic: Stats.MAXIMUM }),
      threshold: eventsAgeLimit.toSeconds(),
    });
    // Each attempt of the schedule is its own message, queued when the one before failed: a
    // healthy one is at most as old as the longest single wait of the schedule.
    const deliveriesAgeLimit = Duration.seconds(longestWaitSeconds(props.retrySchedule)).plus(Duration.minutes(15));
    page("DeliveriesQueueAge", {
      alarmDescription:
        `A delivery has waited over ${deliveriesAgeLimit.toMinutes()} minutes, longer than the longest wait of the retry schedule (with jitter and a receiver's Retry-After). ` +
        "Deliver is down, throttled or saturated: check the Deliver errors and throttles, then raise deliverMaxConcurrency.",
      metric: queues.deliveries.metricApproximateAgeOfOldestMessage({ period: METRICS_PERIOD, statistic: Stats.MAXIMUM }),
      threshold: deliveriesAgeLimit.toSeconds(),
    });
    // Retries wait hidden in the queue, so the age above only catches a very old backlog; a
    // pile of messages ready to go catches a stalled or saturated Deliver within 15 minutes.
    page("DeliveriesBacklog", {
      alarmDescription:
        "Over 1,000 deliveries have been ready to go for 15 minutes: Deliver is down, throttled or saturated. " +
        "Check the Deliver errors, throttles and concurrency graph, then raise deliverMaxConcurrency.",
      metric: queues.deliveries.metricApproximateNumberOfMessagesVisible({ period: METRICS_PERIOD, statistic: Stats.MINIMUM }),
      threshold: 1000,
      evaluationPeriods: 3,
    });
    page("Api5xx", {
      alarmDescription:
        "The HTTP API answered 5 or more 5xx in 5 minutes: a route family or the authorizer is failing. Read the API access logs for the route, then that family's log group.",
      metric: metrics.apiErrors().serverErrors,
      threshold: 5,
    });
    page("DeliveriesExhausted", {
      alarmDescription:
        "100 or more deliveries used their last attempt within an hour and went to the dead-letter queue: a widespread receiver outage or a delivery bug. " +
        "Tenants see and retry them with the DLQ API (POST /webhooks/dlq/retry-all) once their receivers are back.",
      metric: metrics.deliveriesExhausted().with({ period: Duration.hours(1) }),
      threshold: 100,
    });
    page("DeadLettersNotIndexed", {
      alarmDescription:
        "Dead deliveries have waited in the deliveries DLQ for over 15 minutes: the DLQ indexer is failing, so tenants cannot see them. Read the DeadLetterIndex log group.",
      metric: queues.deliveriesDeadLetter.metricApproximateAgeOfOldestMessage({ period: METRICS_PERIOD, statistic: Stats.MAXIMUM }),
      threshold: 900,
    });
    page("DeadLettersBacklog", {
      alarmDescription:
        "Over 1,000 dead deliveries are waiting to be indexed: the DLQ indexer is behind or failing. Read the DeadLetterIndex log group.",
      metric: queues.deliveriesDeadLetter.metricApproximateNumberOfMessagesVisible({ period: METRICS_PERIOD, statistic: Stats.MAXIMUM }),
      threshold: 1000,
    });
    page("UnindexableDeadLetters", {
      alarmDescription:
        "Messages that are not deliveries reached the deliveries DLQ and were set aside in the unindexable queue. " +
        "Inspect them (aws sqs receive-message), fix whoever sent them, delete them; the alarm clears when the queue is empty.",
      metric: queues.unindexable.metricApproximateNumberOfMessagesVisible({ period: METRICS_PERIOD, statistic: Stats.MAXIMUM }),
      threshold: 1,
    });
    page("RejectedEvents", {
      alarmDescription:
        "Producer events were set aside in the events DLQ in the last 5 minutes: they broke the contract (see their rejection-reason attribute) or failed every dispatch. " +
        "Fix the producer, or redrive them with aws sqs start-message-move-task once the cause is gone. Clears by itself.",
      // Rejections are sent by dispatch (NumberOfMessagesSent); events SQS moves after their last
      // receive are not counted there, but raise the queue's depth.
      metric: new MathExpression({
        label: "events set aside",
        expression: "MAX([FILL(sent, 0), DIFF(FILL(visible, 0))])",
        usingMetrics: {
          sent: queues.eventsDeadLetter.metricNumberOfMessagesSent({ period: METRICS_PERIOD, statistic: Stats.SUM }),
          visible: queues.eventsDeadLetter.metricApproximateNumberOfMessagesVisible({ period: METRICS_PERIOD, statistic: Stats.MAXIMUM }),
        },
        period: METRICS_PERIOD,
      }),
      threshold: 1,
    });
    page("StuckOrderedMessages", {
      alarmDescription:
        "An ordered event or delivery (FIFO) failed every receive and was set aside in the ordered dead-letter queue: its document's later events for that endpoint went on without it. " +
        "Read the Dispatch and Deliver log groups, then redrive it (aws sqs start-message-move-task) or delete it; the alarm clears when the queue is empty.",
      metric: queues.orderedDeadLetter.metricApproximateNumberOfMessagesVisible({ period: METRICS_PERIOD, statistic: Stats.MAXIMUM }),
      threshold: 1,
    });
    page("StuckDeadLetterJobs", {
      alarmDescription:
        "A DLQ retry-all or purge job failed 5 times and was set aside in the jobs DLQ. Read the DeadLetterJobs log group; the tenant can start the operation again. " +
        "Delete the job message once handled; the alarm clears when the queue is empty.",
      metric: queues.deadLetterJobsDeadLetter.metricApproximateNumberOfMessagesVisible({ period: METRICS_PERIOD, statistic: Stats.MAXIMUM }),
      threshold: 1,
    });
  }
}
