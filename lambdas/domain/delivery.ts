import { z } from "zod";
import { EVENT_TYPES, type EventType } from "./catalogue.ts";

/** One webhook to one endpoint, as it travels through the deliveries queue. */
export interface Delivery {
  readonly deliveryId: string;
  readonly tenantId: string;
  readonly eventId: string;
  readonly eventType: EventType;
  readonly url: string;
  /** The exact bytes POSTed (and signed). */
  readonly body: string;
  /** When the delivery was created: orders the logs. */
  readonly createdAt: string;
  /** Attempts made before this message was queued (non-zero after a retry from the DLQ). */
  readonly attemptsBefore: number;
}

export type DeliveryStatus = "pending" | "retrying" | "success" | "failed";

/** The log line of a delivery, overwritten by each outcome. */
export interface DeliveryLogEntry {
  readonly deliveryId: string;
  readonly tenantId: string;
  readonly eventId: string;
  readonly eventType: EventType;
  readonly url: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly createdAt: string;
  readonly deliveredAt?: string | undefined;
  readonly lastError?: string | undefined;
  readonly lastStatusCode?: number | undefined;
}

/** One failed attempt, as the Portal's `falhas` search lists it. */
export interface FailureRecord {
  readonly tenantId: string;
  readonly deliveryId: string;
  readonly attempt: number;
  readonly evento: EventType;
  readonly url: string;
  readonly descricao: string;
  /** The exact body sent. */
  readonly conteudo: string;
  readonly failedAt: string;
}

/** Deliveries queue messages are validated like any input: a malformed one is set aside, not retried. */
export const deliveryMessageSchema = z.strictObject({
  deliveryId: z.uuid(),
  tenantId: z.string().min(1),
  eventId: z.string().min(1),
  eventType: z.enum(EVENT_TYPES),
  url: z.string().min(1),
  body: z.string(),
  createdAt: z.iso.datetime(),
  attemptsBefore: z.number().int().min(0),
});

/** Reads a deliveries-queue message, or says why it is not one. */
export function parseDeliveryMessage(body: string): { ok: true; delivery: Delivery } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: "not a delivery message: not JSON" };
  }
  const parsed = deliveryMessageSchema.safeParse(json);
  return parsed.success
    ? { ok: true, delivery: parsed.data }
    : { ok: false, reason: `not a delivery message: ${parsed.error.issues[0]?.message ?? "invalid"}` };
}
