import { signDelivery } from "./signing.ts";

/**
 * What every endpoint receives as the body, for a fiscal event and for a test event alike; the
 * event's documentKey, cnpj and sequence only when its producer sent them.
 */
export interface WebhookEnvelope {
  readonly id: string;
  readonly type: string;
  readonly createdAt: string;
  readonly documentKey?: string | undefined;
  readonly cnpj?: string | undefined;
  readonly sequence?: number | undefined;
  readonly data: unknown;
}

/** The exact JSON bytes POSTed (signatures cover these bytes, so they are built once). */
export function webhookEnvelope({ id, type, createdAt, documentKey, cnpj, sequence, data }: WebhookEnvelope): string {
  return JSON.stringify({
    id,
    type,
    createdAt,
    ...(documentKey === undefined ? {} : { documentKey }),
    ...(cnpj === undefined ? {} : { cnpj }),
    ...(sequence === undefined ? {} : { sequence }),
    data,
  });
}

export interface WebhookToSign {
  readonly secret: string;
  /** A replaced secret still in its grace period, signing beside `secret`. */
  readonly alsoSignedBy?: readonly string[] | undefined;
  /** The delivery id: `webhook-id`, the key receivers deduplicate on. */
  readonly webhookId: string;
  readonly eventType: string;
  /** 1-based, carried on across retries from the dead-letter queue. */
  readonly attempt: number;
  readonly timestamp: Date;
  readonly body: string;
}

/** Every header a delivery carries: both signatures, the event type and the attempt number. */
export function webhookHeaders(webhook: WebhookToSign): Record<string, string> {
  return {
    ...signDelivery(webhook),
    "x-webhook-event": webhook.eventType,
    "x-webhook-attempt": String(webhook.attempt),
  };
}
