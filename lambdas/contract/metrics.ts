/**
 * The pipeline's CloudWatch metrics (embedded metric format, so emitting one costs no API
 * call). The functions emit them; the stack's alarms and dashboard read them. No tenant id
 * is ever a dimension: per-tenant facts stay in the logs API.
 */
export const METRICS_NAMESPACE = "FiscalWebhooks";

/** How a delivery attempt ended: the `Outcome` dimension. */
export const DELIVERY_OUTCOMES = ["delivered", "retrying", "exhausted", "canceled", "disabled"] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

export const METRIC = {
  /** Count per attempt outcome; dimension sets [Outcome] and [Outcome, EventType]. */
  deliveries: "Deliveries",
  /** The attempt number of each attempt made (1 = first); no dimension. */
  deliveryAttempt: "DeliveryAttempt",
  /** Milliseconds from the event's acceptance on the events queue to its 2xx; no dimension. */
  endToEndLatency: "EndToEndLatency",
  /** Milliseconds the receiver took to answer, whatever it answered; no dimension. */
  receiverResponseTime: "ReceiverResponseTime",
  /** Deliveries that used their last attempt and went to the dead-letter queue; no dimension. */
  deliveriesExhausted: "DeliveriesExhausted",
  /** Events set aside in the events dead-letter queue (contract breaches, unknown tenants); no dimension. */
  eventsRejected: "EventsRejected",
  /** Events fanned out; no dimension. */
  eventsDispatched: "EventsDispatched",
} as const;

export const DIMENSION = { outcome: "Outcome", eventType: "EventType" } as const;
