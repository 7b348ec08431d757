import { Duration } from "aws-cdk-lib";
import type { IHttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import { MathExpression, Metric, Stats, type IMetric } from "aws-cdk-lib/aws-cloudwatch";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { DIMENSION, METRIC, METRICS_NAMESPACE, type DeliveryOutcome } from "../../lambdas/contract/metrics.ts";

/** The period every alarm and graph of the pipeline looks at. */
export const METRICS_PERIOD = Duration.minutes(5);

/**
 * The pipeline's metrics as the alarms and the dashboard read them: the functions' own
 * (`lambdas/contract/metrics.ts`, embedded metric format) and the ones AWS publishes.
 */
export class PipelineMetrics {
  constructor(private readonly api: IHttpApi) {}

  /** Delivery attempts that ended with `outcome`, summed over every event type. */
  deliveries(outcome: DeliveryOutcome): Metric {
    return this.product(METRIC.deliveries, Stats.SUM, { [DIMENSION.outcome]: outcome }).with({ label: outcome });
  }

  /**
   * Delivered attempts over attempts that were delivered, will be retried or gave up (canceled
   * ones wanted nothing sent). No data without traffic, so a quiet night is not an outage.
   */
  successRatio(): MathExpression {
    return new MathExpression({
      label: "delivered / (delivered + retrying + exhausted)",
      expression: "IF(delivered + retrying + exhausted > 0, delivered / (delivered + retrying + exhausted))",
      usingMetrics: {
        delivered: this.filled("delivered"),
        retrying: this.filled("retrying"),
        exhausted: this.filled("exhausted"),
      },
      period: METRICS_PERIOD,
    });
  }

  /** Milliseconds from an event's acceptance to its webhook's 2xx. */
  endToEndLatency(statistic: string): Metric {
    return this.product(METRIC.endToEndLatency, statistic).with({ label: `end to end ${statistic}` });
  }

  /** Milliseconds receivers took to answer, whatever they answered. */
  receiverResponseTime(statistic: string): Metric {
    return this.product(METRIC.receiverResponseTime, statistic).with({ label: `receivers ${statistic}` });
  }

  deliveriesExhausted(): Metric {
    return this.product(METRIC.deliveriesExhausted, Stats.SUM).with({ label: "deliveries exhausted" });
  }

  eventsRejected(): Metric {
    return this.product(METRIC.eventsRejected, Stats.SUM).with({ label: "events rejected" });
  }

  eventsDispatched(): Metric {
    return this.product(METRIC.eventsDispatched, Stats.SUM).with({ label: "events dispatched" });
  }

  apiErrors(): { clientErrors: Metric; serverErrors: Metric } {
    return {
      clientErrors: this.api.metricClientError({ period: METRICS_PERIOD, statistic: Stats.SUM, label: "4xx" }),
      serverErrors: this.api.metricServerError({ period: METRICS_PERIOD, statistic: Stats.SUM, label: "5xx" }),
    };
  }

  apiLatency(statistic: string): Metric {
    return this.api.metricLatency({ period: METRICS_PERIOD, statistic, label: `latency ${statistic}` });
  }

  /** One Lambda metric of a function, labelled with the function's role in the pipeline. */
  lambda(fn: IFunction, name: "Errors" | "Throttles" | "ConcurrentExecutions", label: string): Metric {
    const statistic = name === "ConcurrentExecutions" ? Stats.MAXIMUM : Stats.SUM;
    return fn.metric(name, { period: METRICS_PERIOD, statistic, label });
  }

  private filled(outcome: DeliveryOutcome): IMetric {
    return new MathExpression({ expression: `FILL(${outcome}_count, 0)`, usingMetrics: { [`${outcome}_count`]: this.deliveries(outcome) }, period: METRICS_PERIOD });
  }

  private product(name: string, statistic: string, dimensionsMap?: Record<string, string>): Metric {
    return new Metric({ namespace: METRICS_NAMESPACE, metricName: name, statistic, period: METRICS_PERIOD, dimensionsMap });
  }
}
