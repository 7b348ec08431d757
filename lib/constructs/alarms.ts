import { Duration } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { Construct } from "constructs";
import type { PipelineQueues } from "./queues.ts";

/**
 * The alarm-worthy facts of the pipeline, as CloudWatch alarms an operator can attach
 * actions to (SNS, chat, paging): dead letters that are not being indexed, dead letters
 * that cannot be indexed, and producer events that were set aside.
 */
export class OperationsAlarms extends Construct {
  constructor(scope: Construct, id: string, props: { readonly queues: PipelineQueues }) {
    super(scope, id);
    const { queues } = props;
    const common = {
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    };
    new Alarm(this, "DeadLettersNotIndexed", {
      ...common,
      alarmDescription: "Dead deliveries wait in the DLQ for over 15 minutes: the indexer is failing",
      metric: queues.deliveriesDeadLetter.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5) }),
      threshold: 900,
    });
    new Alarm(this, "DeadLettersBacklog", {
      ...common,
      alarmDescription: "Over 1,000 dead deliveries waiting to be indexed",
      metric: queues.deliveriesDeadLetter.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1000,
    });
    new Alarm(this, "UnindexableDeadLetters", {
      ...common,
      alarmDescription: "Dead letters that are not deliveries were set aside: inspect the unindexable queue",
      metric: queues.unindexable.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
    });
    new Alarm(this, "RejectedEvents", {
      ...common,
      alarmDescription: "Producer events broke the contract and were set aside (see their rejection-reason attribute)",
      metric: queues.eventsDeadLetter.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
    });
    new Alarm(this, "StuckDeadLetterJobs", {
      ...common,
      alarmDescription: "A DLQ retry-all or purge job failed repeatedly",
      metric: queues.deadLetterJobsDeadLetter.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
    });
  }
}
