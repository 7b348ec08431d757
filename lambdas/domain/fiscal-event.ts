import { createHash } from "node:crypto";
import { z } from "zod";
import { boundedText, parseUntrustedJson } from "../shared/json.ts";
import { EVENT_TYPES, type EventType } from "./catalogue.ts";

/** Largest event (UTF-8 bytes of the queue message) accepted: its webhook must fit in one SQS message. */
export const MAX_EVENT_BYTES = 128 * 1024;

/**
 * What producers send to the events queue. `tenantId`, `type` and `data` are required;
 * `id` makes re-injection idempotent; `occurredAt` becomes the webhook's createdAt.
 */
export const fiscalEventSchema = z.strictObject({
  tenantId: z.string().regex(/^ten_[0-9a-f]{20}$/, { error: "must be a tenant id (ten_…)" }),
  type: z.enum(EVENT_TYPES, { error: "must be one of the event catalogue's types" }),
  id: z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, { error: "must be printable ASCII without spaces" }).optional(),
  occurredAt: z.iso.datetime({ offset: true, error: "must be an ISO-8601 date-time" }).optional(),
  data: z.record(z.string(), z.unknown(), { error: "must be a JSON object" }),
});

export interface FiscalEvent {
  readonly tenantId: string;
  readonly type: EventType;
  /** The producer's id, or the queue message's id when the producer sent none. */
  readonly id: string;
  /** Whether the producer gave the id (and so asked for re-injections to be ignored). */
  readonly idFromProducer: boolean;
  readonly createdAt: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export type EventParse = { readonly ok: true; readonly event: FiscalEvent } | { readonly ok: false; readonly reason: string };

/** Reads one queue message as a fiscal event, or says exactly why it is not one. */
export function parseFiscalEvent(body: string, messageId: string, receivedAt: Date): EventParse {
  const size = Buffer.byteLength(body, "utf8");
  if (size > MAX_EVENT_BYTES) return { ok: false, reason: `event has ${size} bytes; at most ${MAX_EVENT_BYTES} are accepted` };
  const json = parseUntrustedJson(body);
  if (!json.ok) return { ok: false, reason: `not JSON: ${json.reason}` };
  const parsed = fiscalEventSchema.safeParse(json.value);
  if (!parsed.success) {
    // Field names are the producer's too: each is shown bounded.
    const reason = parsed.error.issues
      .slice(0, 5)
      .map((issue) =>
        issue.code === "unrecognized_keys"
          ? `unknown field(s) ${issue.keys
              .slice(0, 5)
              .map((key) => boundedText(key, 40))
              .join(", ")}${issue.keys.length > 5 ? ` and ${issue.keys.length - 5} more` : ""}`
          : `${issue.path.join(".") || "event"} ${issue.message}`,
      )
      .join("; ");
    return { ok: false, reason: `breaks the event contract: ${reason}` };
  }
  const { tenantId, type, id, occurredAt, data } = parsed.data;
  return {
    ok: true,
    event: {
      tenantId,
      type,
      id: id ?? messageId,
      idFromProducer: id !== undefined,
      createdAt: occurredAt ? new Date(occurredAt).toISOString() : receivedAt.toISOString(),
      data,
    },
  };
}

/**
 * Delivery ids are UUIDs derived from (tenant, event, endpoint): re-dispatching an event
 * yields the same ids, so receivers can deduplicate on `webhook-id`. Version 8 marks a
 * UUID built from a hash other than SHA-1 (RFC 9562).
 */
export function deliveryIdFor(tenantId: string, eventId: string, url: string): string {
  const bytes = createHash("sha256").update(`${tenantId}\n${eventId}\n${url}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** One endpoint an event goes to, with the rate limit (deliveries per second) it is held to, if any. */
export interface DeliveryTarget {
  readonly url: string;
  readonly maxPerSecond?: number | undefined;
}

/**
 * Where an event goes: the tenant's Portal subscriptions to its type, plus the account
 * webhook when it lists the type; each distinct URL once. A URL that several of them name is
 * held to the smallest rate limit any of them sets.
 */
export function deliveryTargets(
  type: EventType,
  subscriptions: readonly { readonly endpoint: string; readonly maxPorSegundo?: number | undefined }[],
  config: { readonly webhookUrl: string; readonly events: readonly string[]; readonly maxPerSecond?: number | undefined } | undefined,
): DeliveryTarget[] {
  const named = subscriptions.map((subscription) => ({ url: subscription.endpoint, limit: subscription.maxPorSegundo }));
  if (config?.events.includes(type)) named.push({ url: config.webhookUrl, limit: config.maxPerSecond });
  const limits = new Map<string, number | undefined>();
  for (const { url, limit } of named) {
    const known = limits.get(url);
    limits.set(url, known === undefined ? limit : limit === undefined ? known : Math.min(known, limit));
  }
  return [...limits].map(([url, limit]) => (limit === undefined ? { url } : { url, maxPerSecond: limit }));
}
