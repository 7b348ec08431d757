import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { DIMENSION, METRIC, METRICS_NAMESPACE, type DeliveryOutcome } from "../contract/metrics.ts";
import { logger } from "./logger.ts";

/**
 * The functions' CloudWatch metrics, written as embedded metric format lines in their logs
 * (no API call, no added latency). Only the dimensions the contract names: Powertools'
 * default `service` dimension would make every alarm name one more.
 */
const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  logger: {
    debug: (message: string) => logger.debug(message),
    info: (message: string) => logger.info(message),
    error: (message: string) => logger.error(message),
    // Powertools warns when one key is in two dimension sets, which is exactly what
    // [Outcome] + [Outcome, EventType] means; every other warning still reaches the logs.
    warn: (message: string) => {
      if (!message.startsWith("EMF key")) logger.warn(message);
    },
  },
});
metrics.clearDefaultDimensions();

/** What a batch of attempts measured, published as one line plus one per (outcome, event type). */
export interface AttemptMeasure {
  readonly outcome: DeliveryOutcome;
  readonly eventType: string;
  readonly attempt: number;
  readonly responseMs?: number | undefined;
  /** Event accepted → 2xx, for delivered ones. */
  readonly endToEndMs?: number | undefined;
}

export function publishAttempts(measures: readonly AttemptMeasure[]): void {
  if (measures.length === 0) return;
  const counts = new Map<string, { outcome: DeliveryOutcome; eventType: string; count: number }>();
  for (const measure of measures) {
    const key = `${measure.outcome}\n${measure.eventType}`;
    const entry = counts.get(key) ?? { outcome: measure.outcome, eventType: measure.eventType, count: 0 };
    entry.count += 1;
    counts.set(key, entry);
    if (measure.outcome === "canceled") continue;
    metrics.addMetric(METRIC.deliveryAttempt, MetricUnit.Count, measure.attempt);
    if (measure.responseMs !== undefined) metrics.addMetric(METRIC.receiverResponseTime, MetricUnit.Milliseconds, measure.responseMs);
    if (measure.endToEndMs !== undefined) metrics.addMetric(METRIC.endToEndLatency, MetricUnit.Milliseconds, measure.endToEndMs);
    if (measure.outcome === "exhausted") metrics.addMetric(METRIC.deliveriesExhausted, MetricUnit.Count, 1);
  }
  if (measures.some((measure) => measure.outcome !== "canceled")) metrics.publishStoredMetrics();
  for (const { outcome, eventType, count } of counts.values()) {
    const single = metrics.singleMetric();
    single.clearDefaultDimensions();
    single.addDimensions({ [DIMENSION.outcome]: outcome });
    single.addDimensions({ [DIMENSION.outcome]: outcome, [DIMENSION.eventType]: eventType });
    single.addMetric(METRIC.deliveries, MetricUnit.Count, count);
  }
}

/** Events of a dispatch batch: fanned out, and set aside. */
export function publishEvents(dispatched: number, rejected: number): void {
  if (dispatched > 0) metrics.addMetric(METRIC.eventsDispatched, MetricUnit.Count, dispatched);
  if (rejected > 0) metrics.addMetric(METRIC.eventsRejected, MetricUnit.Count, rejected);
  if (dispatched > 0 || rejected > 0) metrics.publishStoredMetrics();
}
