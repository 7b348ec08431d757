import { createHash } from "node:crypto";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { sendMessages, type OutgoingMessage } from "../../lib/aws/sqs-batch.ts";
import { isOperationalEventType, type OperationalEventType } from "../domain/catalogue.ts";
import type { Delivery, Exhausted } from "../domain/delivery.ts";
import { endpointKey } from "../domain/endpoint-url.ts";
import { PRODUCT_ORIGIN } from "../domain/fiscal-event.ts";
import { logger } from "../shared/logger.ts";
import type { BatchTargets } from "./targets.ts";

/**
 * Operational events: what the product tells a tenant about its own webhooks. They travel
 * the way producers' fiscal events do — on the events queue, in the producers' contract
 * (lambdas/domain/fiscal-event.ts), marked with the product's origin attribute — so dispatch
 * fans them out to the tenant's subscriptions and account webhook, and they are signed,
 * retried and logged like any delivery. Dispatch leaves out the endpoint an event is about
 * (`data.endpoint`). Their data names the endpoint and the delivery, never the body of the
 * webhook that failed.
 */

/** The data of each operational type (README, Operational events). */
export interface OperationalEventData {
  /** A delivery used its last attempt and went to the dead-letter queue. */
  readonly "webhook.delivery.exhausted": {
    /** Where the delivery was going. */
    readonly endpoint: string;
    /** Why its last attempt failed, as its log line and `falhas` say it. */
    readonly reason: string;
    /** The delivery's id (its `webhook-id`, log id and dead letter id: POST /webhooks/dlq/{deliveryId}/retry). */
    readonly deliveryId: string;
    /** The id of the event it carried, and its type. */
    readonly eventId: string;
    readonly eventType: string;
    /** Attempts made, those before a retry from the dead-letter queue included. */
    readonly attempts: number;
  };
  /** The endpoint receives nothing until re-enabled; what it would have received becomes dead letters. */
  readonly "webhook.endpoint.disabled": {
    readonly endpoint: string;
    /** Why it was disabled (failing continuously for the configured period, or answering 410). */
    readonly reason: string;
    /** When its failures began (ISO-8601). */
    readonly since: string;
  };
  /** The endpoint receives deliveries again. */
  readonly "webhook.endpoint.recovered": {
    readonly endpoint: string;
    /** How it recovered (re-enabled through the API, for one). */
    readonly reason: string;
  };
}

/** An operational event as it goes on the events queue: the producers' contract, with a deterministic producer id. */
export interface OperationalEvent<T extends OperationalEventType = OperationalEventType> {
  readonly tenantId: string;
  readonly type: T;
  /** Deterministic: the same fact yields the same id, so dispatch's producer-id claim delivers it once. */
  readonly id: string;
  readonly occurredAt: string;
  readonly data: OperationalEventData[T];
}

export function operationalEvent<T extends OperationalEventType>(
  type: T,
  tenantId: string,
  data: OperationalEventData[T],
  id: string,
  occurredAt: string,
): OperationalEvent<T> {
  return { tenantId, type, id, occurredAt, data };
}

/** An endpoint in an id: short, fixed length, the same for every spelling of the URL. */
const endpointTag = (url: string) => createHash("sha256").update(endpointKey(url)).digest("hex").slice(0, 16);

/**
 * `webhook.delivery.exhausted` for a delivery whose last attempt failed; none for the delivery
 * of an operational event itself, so a failing notice never begets another.
 */
export function deliveryExhaustedEvent(delivery: Delivery, outcome: Exhausted): OperationalEvent<"webhook.delivery.exhausted"> | undefined {
  if (isOperationalEventType(delivery.eventType)) return undefined;
  return operationalEvent(
    "webhook.delivery.exhausted",
    delivery.tenantId,
    {
      endpoint: delivery.url,
      reason: outcome.failure.reason,
      deliveryId: delivery.deliveryId,
      eventId: delivery.eventId,
      eventType: delivery.eventType,
      attempts: outcome.attempt,
    },
    // A DLQ retry that is exhausted again has more attempts: a new fact, a new event.
    `op.delivery.exhausted.${delivery.deliveryId}.${outcome.attempt}`,
    outcome.failure.failedAt,
  );
}

/** `webhook.endpoint.disabled`: one per endpoint and failure streak (`since`), however many times it is emitted. */
export function endpointDisabledEvent(tenantId: string, endpoint: string, reason: string, since: Date, at: Date): OperationalEvent<"webhook.endpoint.disabled"> {
  return operationalEvent(
    "webhook.endpoint.disabled",
    tenantId,
    { endpoint, reason, since: since.toISOString() },
    `op.endpoint.disabled.${endpointTag(endpoint)}.${since.getTime()}`,
    at.toISOString(),
  );
}

/** `webhook.endpoint.recovered`: one per endpoint and recovery instant `at`. */
export function endpointRecoveredEvent(tenantId: string, endpoint: string, reason: string, at: Date): OperationalEvent<"webhook.endpoint.recovered"> {
  return operationalEvent(
    "webhook.endpoint.recovered",
    tenantId,
    { endpoint, reason },
    `op.endpoint.recovered.${endpointTag(endpoint)}.${at.getTime()}`,
    at.toISOString(),
  );
}

/** The events-queue message of an operational event: the contract's JSON, marked as the product's. */
export function operationalEventMessage(event: OperationalEvent): OutgoingMessage {
  return { body: JSON.stringify(event), attributes: { [PRODUCT_ORIGIN.attribute]: PRODUCT_ORIGIN.value } };
}

export interface OperationalEventsOutlet {
  readonly sqs: SQSClient;
  /** The events queue. */
  readonly queueUrl: string;
  /** The batch's targets: an event no endpoint would receive is not sent at all. */
  readonly targets: Pick<BatchTargets, "urlsFor">;
}

/**
 * Sends the events to the events queue, in as few batch calls as SQS allows, leaving out those
 * no endpoint of the tenant would receive (the reads are the batch's own, made once per tenant
 * and type, and only when there is an event: tenants that subscribe to none pay no SQS message
 * and no dispatch). Never throws: an event that could not be sent is logged and lost, because
 * a delivery is never held back or retried for want of its notice.
 */
export async function emitOperationalEvents(events: readonly OperationalEvent[], outlet: OperationalEventsOutlet): Promise<void> {
  if (events.length === 0) return;
  const wanted = await Promise.all(
    events.map(async (event) => {
      try {
        return (await outlet.targets.urlsFor(event.tenantId, event.type, event.data.endpoint)).length > 0;
      } catch (error) {
        // Dispatch reads the targets again: when in doubt, send.
        logger.warn("operational event targets not read; sending it", { tenantId: event.tenantId, type: event.type, id: event.id, error: error as Error });
        return true;
      }
    }),
  );
  const messages = events.filter((_, index) => wanted[index]).map((event) => ({ event, ...operationalEventMessage(event) }));
  for (const { entry, reason } of await sendMessages(outlet.sqs, outlet.queueUrl, messages)) {
    logger.error("operational event not emitted", { tenantId: entry.event.tenantId, type: entry.event.type, id: entry.event.id, reason });
  }
}
