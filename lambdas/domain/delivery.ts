import { parseUntrustedJson } from "../shared/json.ts";
import * as z from "../shared/validation.ts";
import { EVENT_TYPES, type EventType } from "./catalogue.ts";
import type { CredentialReference } from "./receiver-credential.ts";

/** Which delivery: one event of one tenant to one endpoint. */
export interface DeliveryIdentity {
  readonly deliveryId: string;
  readonly tenantId: string;
  readonly eventId: string;
  readonly eventType: EventType;
  readonly url: string;
  /** When the delivery was created: orders the logs. */
  readonly createdAt: string;
}

/** One webhook to one endpoint, as it travels through the deliveries queue. */
export interface Delivery extends DeliveryIdentity {
  /** The exact bytes POSTed (and signed). */
  readonly body: string;
  /** Attempts made before this schedule began (non-zero after a retry from the DLQ). */
  readonly attemptsBefore: number;
  /**
   * The attempt of the retry schedule this message carries (1-based). The product counts
   * attempts itself, not SQS receives: a receive that ends without an attempt (a throttle, a
   * crash, a timeout) leaves it unchanged. Absent on messages queued before it existed, whose
   * receive count stands in for it.
   */
  readonly step?: number | undefined;
  /** Not to be attempted before this instant (a retry's scheduled time). */
  readonly notBefore?: string | undefined;
  /** When the event was accepted on the events queue: end-to-end latency runs from here. */
  readonly acceptedAt?: string | undefined;
  /** Where the endpoint's credential is read from at each attempt; never the credential itself. */
  readonly credential?: CredentialReference | undefined;
  /**
   * The endpoint's rate limit (deliveries per second) when its subscription or the account
   * config sets one, as dispatch found it; absent for the rest, which are never counted.
   */
  readonly maxPerSecond?: number | undefined;
  /** The event's CNPJ, when it has one: a retry is still wanted if a target scoped to it still takes it. */
  readonly cnpj?: string | undefined;
}

/** Highest rate limit an endpoint may set: above it a limit protects a receiver from little. */
export const MAX_RATE_PER_SECOND = 1000;

export type DeliveryStatus = "pending" | "retrying" | "success" | "failed" | "canceled";

/** The log line of a delivery, overwritten by each outcome. */
export interface DeliveryLogEntry extends DeliveryIdentity {
  readonly status: DeliveryStatus;
  readonly attempts: number;
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

/**
 * Deliveries queue messages are validated like any input: a malformed one is set aside, not
 * retried. Built at first use: dispatch writes these messages and never reads one.
 */
function buildDeliveryMessageSchema() {
  return z.strictObject({
    deliveryId: z.uuid(),
    tenantId: z.string().check(z.minLength(1)),
    eventId: z.string().check(z.minLength(1)),
    eventType: z.enum(EVENT_TYPES),
    url: z.string().check(z.minLength(1)),
    body: z.string(),
    createdAt: z.iso.datetime(),
    attemptsBefore: z.number().check(z.int(), z.gte(0)),
    step: z.optional(z.number().check(z.int(), z.gte(1))),
    notBefore: z.optional(z.iso.datetime()),
    acceptedAt: z.optional(z.iso.datetime()),
    credential: z.optional(
      z.union([z.strictObject({ subscription: z.number().check(z.int(), z.gte(1)) }), z.strictObject({ config: z.literal(true) })]),
    ),
    maxPerSecond: z.optional(z.number().check(z.int(), z.gte(1), z.lte(MAX_RATE_PER_SECOND))),
    cnpj: z.optional(z.string().check(z.regex(/^[0-9A-Z]{12}[0-9]{2}$/))),
  });
}

let builtDeliveryMessageSchema: ReturnType<typeof buildDeliveryMessageSchema> | undefined;

/**
 * A delivery as a deliveries-queue message: the one writer of what `parseDeliveryMessage`
 * reads. SQS refuses U+FFFE and U+FFFF in a message (JSON.stringify already escapes control
 * characters and lone surrogates); escaped, they travel and parse back the same.
 */
export function deliveryMessage(delivery: Delivery): { readonly body: string } {
  return { body: JSON.stringify(delivery).replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`) };
}

/** Reads a deliveries-queue message, or says why it is not one. */
export function parseDeliveryMessage(body: string): { ok: true; delivery: Delivery } | { ok: false; reason: string } {
  const json = parseUntrustedJson(body);
  if (!json.ok) return { ok: false, reason: `not a delivery message: ${json.reason}` };
  const parsed = (builtDeliveryMessageSchema ??= buildDeliveryMessageSchema()).safeParse(json.value);
  return parsed.success
    ? { ok: true, delivery: parsed.data }
    : { ok: false, reason: `not a delivery message: ${parsed.error.issues[0]?.message ?? "invalid"}` };
}

/** Why an attempt failed, in words for the logs and `falhas`. */
export interface AttemptFailure {
  readonly reason: string;
  readonly statusCode?: number | undefined;
  readonly failedAt: string;
  /** How long the receiver took to answer or fail; absent when nothing was sent. */
  readonly responseMs?: number | undefined;
}

/** The endpoint answered 2xx in time. */
export interface Delivered {
  readonly kind: "delivered";
  readonly attempt: number;
  readonly statusCode: number | undefined;
  readonly deliveredAt: string;
  /** How long the receiver took to answer. */
  readonly responseMs: number;
}

/** The attempt failed and the schedule has another: the next one is due in `delaySeconds`. */
export interface RetryAt {
  readonly kind: "retry-at";
  readonly attempt: number;
  readonly failure: AttemptFailure;
  readonly delaySeconds: number;
}

/** The last attempt of the schedule failed: the delivery goes to the dead-letter queue. */
export interface Exhausted {
  readonly kind: "exhausted";
  readonly attempt: number;
  readonly failure: AttemptFailure;
}

/**
 * Nothing was sent: the delivery is no longer wanted (its subscription was removed or now
 * points elsewhere, or the tenant was revoked). It stops without reaching the dead-letter queue.
 */
export interface Canceled {
  readonly kind: "canceled";
  /** Attempts made before it stopped. */
  readonly attempt: number;
  readonly reason: string;
}

/**
 * The endpoint is disabled (see domain/endpoint-health.ts): the delivery goes to the
 * dead-letter queue with the reason, to be retried from there once the endpoint is re-enabled.
 * `failure` is the attempt that was made, when this one was made before the endpoint was disabled.
 */
export interface SetAside {
  readonly kind: "set-aside";
  /** Attempts made so far. */
  readonly attempt: number;
  readonly reason: string;
  readonly failure?: AttemptFailure | undefined;
}

/** Not due yet: the message came back before its scheduled time, and nothing was sent. */
export interface Deferred {
  readonly kind: "deferred";
  readonly until: string;
}

/**
 * Not sent: its endpoint's rate limit leaves it no slot in this second. It goes back to the
 * queue as a new message due `until`, the second of its slot (the same step: no attempt used).
 */
export interface Throttled {
  readonly kind: "throttled";
  readonly until: string;
}

/** What one attempt to deliver a webhook came to. */
export type DeliveryAttempt = Delivered | RetryAt | Exhausted | Canceled | SetAside | Deferred | Throttled;

/** Outcomes that sent nothing and change nothing a tenant sees: no log line, no failure, no metric. */
export type HeldBack = Deferred | Throttled;

export function isHeldBack(outcome: DeliveryAttempt): outcome is HeldBack {
  return outcome.kind === "deferred" || outcome.kind === "throttled";
}

/** The outcomes a log line records. */
export type LoggedOutcome = Exclude<DeliveryAttempt, HeldBack> | Requeued;

/** A dead letter sent back to the deliveries queue for a fresh attempt budget. */
export interface Requeued {
  readonly kind: "requeued";
  readonly attempts: number;
  readonly lastError?: string | undefined;
}

/** The log line of a delivery after an attempt or a requeue: the one place a log line is derived. */
export function deliveryLogEntry(delivery: DeliveryIdentity, outcome: LoggedOutcome): DeliveryLogEntry {
  const base = {
    deliveryId: delivery.deliveryId,
    tenantId: delivery.tenantId,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    url: delivery.url,
    createdAt: delivery.createdAt,
  };
  switch (outcome.kind) {
    case "delivered":
      return { ...base, status: "success", attempts: outcome.attempt, deliveredAt: outcome.deliveredAt, lastStatusCode: outcome.statusCode };
    case "retry-at":
    case "exhausted":
      return {
        ...base,
        status: outcome.kind === "retry-at" ? "retrying" : "failed",
        attempts: outcome.attempt,
        lastError: outcome.failure.reason,
        lastStatusCode: outcome.failure.statusCode,
      };
    case "canceled":
      return { ...base, status: "canceled", attempts: outcome.attempt, lastError: outcome.reason };
    case "set-aside":
      return { ...base, status: "failed", attempts: outcome.attempt, lastError: outcome.reason, lastStatusCode: outcome.failure?.statusCode };
    case "requeued":
      return { ...base, status: "retrying", attempts: outcome.attempts, lastError: outcome.lastError };
  }
}

/** Whether the outcome made an attempt (a cancellation or a set-aside before sending made none). */
export function madeAttempt(outcome: LoggedOutcome): boolean {
  return outcome.kind !== "canceled" && outcome.kind !== "requeued" && !(outcome.kind === "set-aside" && outcome.failure === undefined);
}

/** An attempt that was made and failed: what `falhas` lists. */
export interface FailedAttempt {
  readonly attempt: number;
  readonly failure: AttemptFailure;
}

/** The failed attempt an outcome records, if it made one. */
export function failedAttempt(outcome: DeliveryAttempt): FailedAttempt | undefined {
  switch (outcome.kind) {
    case "retry-at":
    case "exhausted":
      return outcome;
    case "set-aside":
      return outcome.failure && { attempt: outcome.attempt, failure: outcome.failure };
    default:
      return undefined;
  }
}

/** The `falhas` record of a failed attempt. */
export function failureRecord(delivery: Delivery, outcome: FailedAttempt): FailureRecord {
  return {
    tenantId: delivery.tenantId,
    deliveryId: delivery.deliveryId,
    attempt: outcome.attempt,
    evento: delivery.eventType,
    url: delivery.url,
    descricao: outcome.failure.reason,
    conteudo: delivery.body,
    failedAt: outcome.failure.failedAt,
  };
}

/** Whether the delivery may be attempted at `now` (a second's slack: SQS may hand a message back a moment early). */
export function isDue(delivery: Delivery, now: Date): boolean {
  return delivery.notBefore === undefined || Date.parse(delivery.notBefore) - now.getTime() <= 1000;
}

/** The next scheduled attempt of a delivery, due `delaySeconds` from `now`. */
export function nextStep(delivery: Delivery, step: number, delaySeconds: number, now: Date): Delivery {
  return { ...delivery, step: step + 1, notBefore: new Date(now.getTime() + delaySeconds * 1000).toISOString() };
}

/** A throttled delivery as it goes back to the queue: the same step, due when its endpoint has room. */
export function throttledDelivery(delivery: Delivery, step: number, until: string): Delivery {
  return { ...delivery, step, notBefore: until };
}

/**
 * The delivery as large as its message can grow on its way (a later step, a scheduled time,
 * attempts carried on from DLQ retries): what must fit an SQS message from the start.
 */
export function atLargest(delivery: Delivery): Delivery {
  return { ...delivery, attemptsBefore: 99_999, step: 9_999, notBefore: "9999-12-31T23:59:59.999Z" };
}

/** A delivery as it goes to the dead-letter queue after its attempt number `attempt`. */
export function deadDelivery(delivery: Delivery, attempt: number): Delivery {
  return { ...delivery, attemptsBefore: attempt, step: undefined, notBefore: undefined };
}

/** A dead letter sent back for a fresh schedule: its attempts carried on, the schedule from its start. */
export function requeuedDelivery(delivery: Delivery, attempts: number): Delivery {
  return { ...delivery, attemptsBefore: attempts, step: 1, notBefore: undefined };
}
