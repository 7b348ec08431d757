import { createHash } from "node:crypto";
import { boundedText, parseUntrustedJson } from "../shared/json.ts";
import * as z from "../shared/validation.ts";
import { EVENT_TYPES, isOperationalEventType, type EventType } from "./catalogue.ts";
import { inCnpjScope, parseCnpj } from "./cnpj.ts";
import { modelMismatch, parseDocumentKey } from "./document-key.ts";
import { endpointKey } from "./endpoint-url.ts";
import type { CredentialReference } from "./receiver-credential.ts";

/** Largest event (UTF-8 bytes of the queue message) accepted: its webhook must fit in one SQS message. */
export const MAX_EVENT_BYTES = 128 * 1024;

/** Highest `sequence` (nSeqEvento and the like): a signed 32-bit integer, what receivers' databases hold. */
export const MAX_SEQUENCE = 2 ** 31 - 1;

/** A string field read by a parser that normalizes it or says why it is not one. */
function parsedString<T>(parse: (value: string) => { ok: true; value: T } | { ok: false; reason: string }) {
  return z.pipe(
    z.string({ error: "must be a string" }),
    z.transform((value: string, ctx) => {
      const parsed = parse(value);
      if (parsed.ok) return parsed.value;
      ctx.issues.push({ code: "custom", message: parsed.reason, input: value });
      return z.NEVER;
    }),
  );
}

const SEQUENCE_ERROR = `must be a positive integer (at most ${MAX_SEQUENCE})`;

/**
 * What producers send to the events queue. `tenantId`, `type` and `data` are required;
 * `id` makes re-injection idempotent; `occurredAt` becomes the webhook's createdAt.
 * `documentKey` (the chave de acesso), `cnpj` (whose event it is: scoped endpoints receive
 * only their CNPJs') and `sequence` (e.g. nSeqEvento) are optional; each is validated, and a
 * documentKey's model must fit the type (invoice.* NF-e/NFC-e, cte.* CT-e/CT-e OS, mdfe.* MDF-e).
 */
function buildFiscalEventSchema() {
  return z
    .strictObject({
      tenantId: z.string().check(z.regex(/^ten_[0-9a-f]{20}$/, { error: "must be a tenant id (ten_…)" })),
      type: z.enum(EVENT_TYPES, { error: "must be one of the event catalogue's types" }),
      id: z.optional(z.string().check(z.minLength(1), z.maxLength(200), z.regex(/^[\x21-\x7e]+$/, { error: "must be printable ASCII without spaces" }))),
      occurredAt: z.optional(z.iso.datetime({ offset: true, error: "must be an ISO-8601 date-time" })),
      documentKey: z.optional(
        parsedString((value) => {
          const parsed = parseDocumentKey(value);
          return parsed.ok ? { ok: true, value: parsed.documentKey } : parsed;
        }),
      ),
      cnpj: z.optional(
        parsedString((value) => {
          const parsed = parseCnpj(value);
          return parsed.ok ? { ok: true, value: parsed.cnpj } : parsed;
        }),
      ),
      sequence: z.optional(
        z.number({ error: SEQUENCE_ERROR }).check(z.int({ error: SEQUENCE_ERROR }), z.gte(1, { error: SEQUENCE_ERROR }), z.lte(MAX_SEQUENCE, { error: SEQUENCE_ERROR })),
      ),
      data: z.record(z.string(), z.unknown(), { error: "must be a JSON object" }),
    })
    .check(
      z.superRefine(({ type, documentKey }, ctx) => {
        const mismatch = documentKey && modelMismatch(documentKey, type);
        if (mismatch) ctx.addIssue({ code: "custom", message: mismatch, path: ["documentKey"] });
      }),
    );
}

let builtFiscalEventSchema: ReturnType<typeof buildFiscalEventSchema> | undefined;
/**
 * The event contract's schema, built at first use: deliver imports this module for its helpers and
 * never parses an event, so its cold start does not build the schema (nor its bundle hold it).
 */
export function fiscalEventSchema(): ReturnType<typeof buildFiscalEventSchema> {
  return (builtFiscalEventSchema ??= buildFiscalEventSchema());
}

export interface FiscalEvent {
  readonly tenantId: string;
  readonly type: EventType;
  /** The producer's id, or the queue message's id when the producer sent none. */
  readonly id: string;
  /** Whether the producer gave the id (and so asked for re-injections to be ignored). */
  readonly idFromProducer: boolean;
  readonly createdAt: string;
  /** The chave de acesso (44 characters, upper case) of the document the event is about: its events reach each endpoint in order. */
  readonly documentKey?: string | undefined;
  /** The CNPJ the event is for (14 characters, upper case): scoped endpoints receive only their CNPJs'. */
  readonly cnpj?: string | undefined;
  /** The event's place among the document's events (e.g. nSeqEvento), as the producer numbered it. */
  readonly sequence?: number | undefined;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * Who sent an events-queue message. The product marks its operational events with this
 * message attribute (lambdas/delivery/operational-events.ts); producers may not send
 * operational types. The mark guards against a producer sending them by mistake (the
 * catalogue lists them beside the fiscal types), not against one that forges it: producers
 * are trusted with any tenant, type and data already (README, Operational events).
 */
export const PRODUCT_ORIGIN = { attribute: "fiscal-webhooks-origin", value: "product" } as const;
export type EventOrigin = "producer" | "product";

/** What every operational event's data names: the endpoint it is about, which never receives it. */
let operationalDataSchema: z.ZodMiniObject<{ endpoint: z.ZodMiniString<string> }, z.core.$loose> | undefined;

export type EventParse = { readonly ok: true; readonly event: FiscalEvent } | { readonly ok: false; readonly reason: string };

/** Reads one queue message as a fiscal event, or says exactly why it is not one. */
export function parseFiscalEvent(body: string, messageId: string, receivedAt: Date, origin: EventOrigin = "producer"): EventParse {
  const size = Buffer.byteLength(body, "utf8");
  if (size > MAX_EVENT_BYTES) return { ok: false, reason: `event has ${size} bytes; at most ${MAX_EVENT_BYTES} are accepted` };
  const json = parseUntrustedJson(body);
  if (!json.ok) return { ok: false, reason: `not JSON: ${json.reason}` };
  const parsed = fiscalEventSchema().safeParse(json.value);
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
  const { tenantId, type, id, occurredAt, documentKey, cnpj, sequence, data } = parsed.data;
  if (isOperationalEventType(type)) {
    if (origin !== "product") return { ok: false, reason: `breaks the event contract: type ${type} is an operational event only the product emits` };
    operationalDataSchema ??= z.looseObject({ endpoint: z.string({ error: "must name the endpoint (a string)" }) });
    const operational = operationalDataSchema.safeParse(data);
    if (!operational.success) return { ok: false, reason: `breaks the event contract: data.endpoint ${operational.error.issues[0]?.message ?? "is invalid"}` };
  }
  return {
    ok: true,
    event: {
      tenantId,
      type,
      id: id ?? messageId,
      idFromProducer: id !== undefined,
      createdAt: occurredAt ? new Date(occurredAt).toISOString() : receivedAt.toISOString(),
      ...(documentKey ? { documentKey: documentKey.key } : {}),
      ...(cnpj === undefined ? {} : { cnpj }),
      ...(sequence === undefined ? {} : { sequence }),
      data,
    },
  };
}

/**
 * Where a delivery queues. One of an event with a `documentKey` goes in the FIFO message group
 * of its (tenant, document, endpoint), so the endpoint receives the document's events one at a
 * time, in order, while other documents and endpoints go on; SQS drops a copy dispatched again
 * within five minutes (same delivery id). Without a `documentKey`: nothing, the standard queue,
 * unordered and fastest.
 */
export function orderedRoute(
  event: Pick<FiscalEvent, "tenantId" | "documentKey">,
  delivery: { readonly deliveryId: string; readonly url: string },
): { readonly groupId: string; readonly deduplicationId: string } | Record<string, never> {
  if (event.documentKey === undefined) return {};
  const groupId = createHash("sha256").update(`${event.tenantId}\n${event.documentKey}\n${endpointKey(delivery.url)}`).digest("hex");
  return { groupId, deduplicationId: delivery.deliveryId };
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

/** The endpoint an operational event is about (its `data.endpoint`): it never receives the event. */
export function failingEndpoint(event: Pick<FiscalEvent, "type" | "data">): string | undefined {
  const endpoint = event.data["endpoint"];
  return isOperationalEventType(event.type) && typeof endpoint === "string" ? endpoint : undefined;
}

/** One endpoint an event goes to, with where its credential comes from and the rate limit (deliveries per second) it is held to, if any. */
export interface DeliveryTarget {
  readonly url: string;
  /** Where the credential the endpoint is sent is read from, when it has one. */
  readonly credential?: CredentialReference | undefined;
  readonly maxPerSecond?: number | undefined;
}

/** What decides whether a scoped target takes an event: the CNPJs it is limited to, if any. */
interface Scoped {
  readonly cnpjs?: readonly string[] | undefined;
}

/**
 * Whether a subscription or the config takes an event for `cnpj` (README, CNPJ scoping): an
 * unscoped one takes every event; a scoped one only events whose CNPJ is in its scope (an
 * event without one goes to unscoped targets only). Operational events are about the tenant's
 * own endpoints, not a company's documents: scoping never holds them back.
 */
function takes({ cnpjs }: Scoped, type: EventType, cnpj: string | undefined): boolean {
  return cnpjs === undefined || isOperationalEventType(type) || (cnpj !== undefined && inCnpjScope(cnpj, cnpjs));
}

/**
 * Where an event goes: the tenant's Portal subscriptions to its type, plus the account
 * webhook when it lists the type, each only if its CNPJ scope takes the event's `cnpj`; each
 * distinct URL once, and never `except` (the failing endpoint an operational event is about,
 * however it is spelled). A URL goes if any subscription or the config naming it takes the
 * event; of those, the subscription's credential is the one sent, the config's only when the
 * subscription has none; the URL is held to the smallest rate limit among them.
 */
export function deliveryTargets(
  type: EventType,
  subscriptions: readonly ({ readonly id: number; readonly endpoint: string; readonly authentication?: unknown; readonly maxPorSegundo?: number | undefined } & Scoped)[],
  config: ({ readonly webhookUrl: string; readonly events: readonly string[]; readonly authentication?: unknown; readonly maxPerSecond?: number | undefined } & Scoped) | undefined,
  except?: string,
  cnpj?: string,
): DeliveryTarget[] {
  const named: { url: string; credential: CredentialReference | undefined; limit: number | undefined }[] = subscriptions
    .filter((subscription) => takes(subscription, type, cnpj))
    .map((subscription) => ({
      url: subscription.endpoint,
      credential: subscription.authentication ? { subscription: subscription.id } : undefined,
      limit: subscription.maxPorSegundo,
    }));
  if (config?.events.includes(type) && takes(config, type, cnpj)) {
    named.push({ url: config.webhookUrl, credential: config.authentication ? { config: true } : undefined, limit: config.maxPerSecond });
  }
  const excluded = except === undefined ? undefined : endpointKey(except);
  const targets = new Map<string, { credential: CredentialReference | undefined; limit: number | undefined }>();
  for (const { url, credential, limit } of named) {
    if (excluded !== undefined && endpointKey(url) === excluded) continue;
    const known = targets.get(url);
    const smallest = known?.limit === undefined ? limit : limit === undefined ? known.limit : Math.min(known.limit, limit);
    targets.set(url, { credential: known?.credential ?? credential, limit: smallest });
  }
  return [...targets].map(([url, { credential, limit }]) => ({
    url,
    ...(credential ? { credential } : {}),
    ...(limit === undefined ? {} : { maxPerSecond: limit }),
  }));
}
