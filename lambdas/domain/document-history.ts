import type { EventType } from "./catalogue.ts";
import type { DeliveryIdentity, DeliveryLogEntry, DeliveryStatus } from "./delivery.ts";
import type { FiscalEvent } from "./fiscal-event.ts";

/**
 * A document key as the history route accepts it: 44 characters, digits or, in the issuer's
 * CNPJ positions, the letters of the 2026 alphanumeric CNPJ. Looser than the event contract on
 * purpose: a key nobody sent is answered 404, not 400. Upper-cased, as keys are stored.
 */
const DOCUMENT_KEY_PATTERN = /^[0-9A-Z]{44}$/;

export function documentKeyOf(raw: string): string | undefined {
  const key = raw.toUpperCase();
  return DOCUMENT_KEY_PATTERN.test(key) ? key : undefined;
}

/** One delivery an event fanned out to, enough to find its log line (keys.deliveryLog). */
export interface DocumentDelivery {
  readonly deliveryId: string;
  readonly url: string;
  /** The log line's createdAt: part of its key. */
  readonly createdAt: string;
}

/** An event received for a fiscal document, as dispatch accepted it, and where it went. */
export interface DocumentEvent {
  readonly tenantId: string;
  readonly documentKey: string;
  readonly eventId: string;
  readonly type: EventType;
  readonly sequence?: number | undefined;
  /** The webhook's createdAt (the producer's occurredAt, or when the event was received). */
  readonly createdAt: string;
  /** When the event reached the events queue: the history's order. */
  readonly acceptedAt: string;
  readonly deliveries: readonly DocumentDelivery[];
}

/** The history entry of an event with a document key and the deliveries planned for it; none for an event without. */
export function documentEventOf(event: FiscalEvent, acceptedAt: string, deliveries: readonly DeliveryIdentity[]): DocumentEvent | undefined {
  if (event.documentKey === undefined) return undefined;
  return {
    tenantId: event.tenantId,
    documentKey: event.documentKey,
    eventId: event.id,
    type: event.type,
    ...(event.sequence === undefined ? {} : { sequence: event.sequence }),
    createdAt: event.createdAt,
    acceptedAt,
    deliveries: deliveries.map(({ deliveryId, url, createdAt }) => ({ deliveryId, url, createdAt })),
  };
}

/** The newest delivery of the document to one endpoint, with the event it carried. */
export interface LatestDelivery {
  readonly event: DocumentEvent;
  readonly delivery: DocumentDelivery;
}

/** For each endpoint the events went to, its newest delivery; `newestFirst` is the history read backwards. */
export function latestPerEndpoint(newestFirst: readonly DocumentEvent[]): LatestDelivery[] {
  const latest = new Map<string, LatestDelivery>();
  for (const event of newestFirst) {
    for (const delivery of event.deliveries) if (!latest.has(delivery.url)) latest.set(delivery.url, { event, delivery });
  }
  return [...latest.values()];
}

/** Where an endpoint stands on the document: its newest delivery and that delivery's log line. */
export interface EndpointState {
  readonly endpoint: string;
  readonly webhookId: string;
  readonly eventId: string;
  readonly type: EventType;
  readonly sequence: number | null;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly deliveredAt: string | null;
  readonly lastError: string | null;
}

/** A delivery without a log line yet is queued and not attempted: `pending`, no attempts. */
export function endpointState({ event, delivery }: LatestDelivery, line: DeliveryLogEntry | undefined): EndpointState {
  return {
    endpoint: delivery.url,
    webhookId: delivery.deliveryId,
    eventId: event.eventId,
    type: event.type,
    sequence: event.sequence ?? null,
    status: line?.status ?? "pending",
    attempts: line?.attempts ?? 0,
    deliveredAt: line?.deliveredAt ?? null,
    lastError: line?.lastError ?? null,
  };
}
