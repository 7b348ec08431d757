import { AlarmStatusWidget, Dashboard, GraphWidget, Stats, type GraphWidgetProps, type IAlarm, type IWidget } from "aws-cdk-lib/aws-cloudwatch";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { DELIVERY_OUTCOMES } from "../../lambdas/contract/metrics.ts";
import { METRICS_PERIOD, type PipelineMetrics } from "./pipeline-metrics.ts";
import type { PipelineQueues } from "./queues.ts";

export interface OperationsDashboardProps {
  readonly metrics: PipelineMetrics;
  readonly queues: PipelineQueues;
  /** The functions whose errors, throttles and concurrency are graphed, by their role. */
  readonly functions: Readonly<Record<string, IFunction>>;
  readonly alarms: readonly IAlarm[];
  /** Where the success ratio graph draws its alarm line. */
  readonly successRatioThreshold: number;
}

/** The pipeline's health on one screen: deliveries, latency, queues, functions, API, dead letters. */
export class OperationsDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const { metrics, queues } = props;
    const graph = (title: string, left: GraphWidgetProps["left"], extra: Omit<GraphWidgetProps, "title" | "left"> = {}) =>
      new GraphWidget({ title, left, width: 8, height: 6, period: METRICS_PERIOD, ...extra });
    const functions = Object.entries(props.functions);
    const perFunction = (name: "Errors" | "Throttles" | "ConcurrentExecutions") =>
      functions.map(([label, fn]) => metrics.lambda(fn, name, label));
    const depth = (label: string, queue: PipelineQueues["events"]) =>
      queue.metricApproximateNumberOfMessagesVisible({ period: METRICS_PERIOD, statistic: Stats.MAXIMUM, label });
    const age = (label: string, queue: PipelineQueues["events"]) =>
      queue.metricApproximateAgeOfOldestMessage({ period: METRICS_PERIOD, statistic: Stats.MAXIMUM, label });
    const { clientErrors, serverErrors } = metrics.apiErrors();

    const rows: IWidget[][] = [
      [new AlarmStatusWidget({ title: "Alarms", alarms: [...props.alarms], width: 24, height: 4 })],
      [
        graph("Deliveries by outcome", DELIVERY_OUTCOMES.map((outcome) => metrics.deliveries(outcome)), { stacked: true }),
        graph("Delivery success ratio", [metrics.successRatio()], {
          leftYAxis: { min: 0, max: 1 },
          leftAnnotations: [{ value: props.successRatioThreshold, label: "alarm below" }],
        }),
        graph("Events dispatched and rejected", [metrics.eventsDispatched(), metrics.eventsRejected()]),
      ],
      [
        graph("End-to-end latency (ms)", [metrics.endToEndLatency(Stats.p(50)), metrics.endToEndLatency(Stats.p(99))]),
        graph("Receiver response time (ms)", [metrics.receiverResponseTime(Stats.p(50)), metrics.receiverResponseTime(Stats.p(99))]),
        graph("Dead letters", [metrics.deliveriesExhausted(), depth("deliveries DLQ", queues.deliveriesDeadLetter)], {
          right: [depth("events DLQ", queues.eventsDeadLetter), depth("unindexable", queues.unindexable), depth("ordered DLQ", queues.orderedDeadLetter)],
        }),
      ],
      [
        graph("Queue depth (visible messages)", [
          depth("events", queues.events),
          depth("deliveries", queues.deliveries),
          depth("DLQ jobs", queues.deadLetterJobs),
        ]),
        graph("Age of oldest message (s)", [
          age("events", queues.events),
          age("deliveries", queues.deliveries),
          age("deliveries DLQ", queues.deliveriesDeadLetter),
        ]),
        graph("API requests: 4xx and 5xx", [clientErrors, serverErrors], {
          right: [metrics.apiLatency(Stats.p(50)), metrics.apiLatency(Stats.p(99))],
        }),
      ],
      [
        graph("Function errors", perFunction("Errors")),
        graph("Function throttles", perFunction("Throttles")),
        graph("Function concurrency (max)", perFunction("ConcurrentExecutions")),
      ],
    ];
    this.dashboard = new Dashboard(this, "Dashboard", { widgets: rows });
  }
}
