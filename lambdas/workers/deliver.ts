import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { changeVisibilities, MAX_DELAY_SECONDS, sendMessages } from "../../lib/aws/sqs-batch.ts";
import { ENV } from "../contract/resources.ts";
import { attemptDelivery, type AttemptSetup } from "../delivery/attempt.ts";
import { admitAtEndpointRates, heldBackMessage } from "../delivery/endpoint-rate.ts";
import { batchTargets, targetCaches, WARM_CACHE_CAPACITY } from "../delivery/targets.ts";
import { disabledReason, healthOf, noticeEvent, tenantEndpoint, trackHealth } from "../delivery/health-tracking.ts";
import { createWebhookSender } from "../delivery/sender.ts";
import { deliveryExhaustedEvent, emitOperationalEvents } from "../delivery/operational-events.ts";
import {
  deadDelivery,
  deliveryLogEntry,
  deliveryMessage,
  failedAttempt,
  failureRecord,
  isDue,
  madeAttempt,
  isHeldBack,
  nextStep,
  parseDeliveryMessage,
  type Delivery,
  type DeliveryAttempt,
  type HeldBack,
} from "../domain/delivery.ts";
import { MAX_RETRY_DELAY_SECONDS, parseRetrySchedule } from "../domain/retry-schedule.ts";
import { requiredEnv } from "../shared/env.ts";
import { boundedText, MAX_REASON_CHARACTERS } from "../shared/json.ts";
import { logger } from "../shared/logger.ts";
import { publishAttempts, type AttemptMeasure } from "../shared/metrics.ts";
import { inGroupOrder, messageGroup } from "../shared/message-groups.ts";
import { sqsWorker } from "../shared/worker.ts";
import { onceEach } from "../shared/once-each.ts";
import { addressPolicy } from "../shared/policy.ts";
import { ExpiringCache } from "../shared/expiring-cache.ts";
import type { DeliveryState } from "../data/webhook-config.ts";
import { sqs } from "../shared/sqs.ts";
import { configs, deliveryLogs as logs, failures, rateLimits, subscriptions, tenants } from "../shared/stores.ts";

const deliveriesQueueUrl = requiredEnv(ENV.deliveriesQueueUrl);
const orderedDeliveriesQueueUrl = requiredEnv(ENV.orderedDeliveriesQueueUrl);
const deadLetterQueueUrl = requiredEnv(ENV.deliveriesDeadLetterQueueUrl);
const eventsQueueUrl = requiredEnv(ENV.eventsQueueUrl);
const healthPolicy = { disableAfterSeconds: Number(requiredEnv(ENV.endpointDisableAfterSeconds)) };
/**
 * What this execution environment read of where events go and of each tenant's secret and
 * endpoint health, used by first attempts for configCacheSeconds (0: read per batch).
 */
const cacheSeconds = Number(requiredEnv(ENV.configCacheSeconds));
const caches = targetCaches(cacheSeconds);
const states = new ExpiringCache<DeliveryState>({ ttlSeconds: cacheSeconds, capacity: WARM_CACHE_CAPACITY.records, weigh: (state) => state.endpoints.size });
const setup: AttemptSetup = {
  schedule: parseRetrySchedule(requiredEnv(ENV.retrySchedule)),
  timeoutMs: Number(requiredEnv(ENV.deliveryTimeoutMs)),
  // One keep-alive agent for the life of the execution environment. Local receivers' CAs
  // arrive through the standard NODE_EXTRA_CA_CERTS variable.
  sender: createWebhookSender({
    allowLoopback: addressPolicy.allowLoopback,
    ...(process.env["NODE_EXTRA_CA_CERTS"] ? { extraCaFile: process.env["NODE_EXTRA_CA_CERTS"] } : {}),
  }),
};

interface Attempted {
  readonly record: SQSRecord;
  readonly delivery: Delivery;
  /** The schedule step this receive was on. */
  readonly step: number;
  readonly outcome: DeliveryAttempt;
  /** Another message carries this delivery on (see DeliveryLogStore.recordAttempt): this one stops. */
  readonly superseded: boolean;
}

/** A received message after its attempt: attempted, failed before it could be, or found already finished. */
type Settled = Omit<Attempted, "superseded"> | { readonly record: SQSRecord; readonly failed: true } | { readonly record: SQSRecord; readonly finished: true };

/** A message that stays in the queue, hidden for `visibilityTimeout` seconds. */
interface Stay {
  readonly record: SQSRecord;
  readonly receiptHandle: string;
  readonly visibilityTimeout: number;
}

/**
 * Signs and POSTs each delivery of the batch concurrently, then records every outcome in its
 * log line (plus a failure record per failed attempt; see recordOutcomes). The product counts the
 * attempts, not SQS: a failed attempt queues the next step of the schedule as a new message
 * due at its time; the last failed attempt queues the delivery on the dead-letter queue; the
 * received message is then deleted. A receive that attempts nothing (a throttled or crashed
 * invocation, a message back before its time, a delivery over its endpoint's rate limit, which
 * goes back to the queue as a new message due in a later second) uses up no attempt. The queue's
 * maxReceiveCount is only a safety net above the schedule.
 */
async function handle(event: SQSEvent): Promise<SQSBatchResponse> {
  const startedAt = Date.now();
  const valid: { record: SQSRecord; delivery: Delivery }[] = [];
  const malformed: { record: SQSRecord; reason: string; body: string; attributes: Record<string, string> }[] = [];
  for (const record of event.Records) {
    const parsed = parseDeliveryMessage(record.body);
    if (parsed.ok) valid.push({ record, delivery: parsed.delivery });
    else {
      const reason = boundedText(parsed.reason, MAX_REASON_CHARACTERS);
      malformed.push({ record, reason, body: record.body, attributes: { "rejection-reason": reason } });
    }
  }

  // A first attempt takes the warm environment's reads (at most configCacheSeconds old; eventually
  // consistent, since a copy that old is accepted anyway); a retry reads afresh, so a secret
  // regenerated since the first attempt signs it, and a deleted subscription stops it.
  const cachedState = onceEach((tenantId: string) => states.get(tenantId, () => configs.deliveryState(tenantId, new Date(), cacheSeconds === 0)));
  // Without caching the batch's one read of each is as fresh as it gets.
  const freshState = cacheSeconds === 0 ? cachedState : onceEach((tenantId: string) => states.refresh(tenantId, () => configs.deliveryState(tenantId)));
  const stores = { tenants, subscriptions, configs };
  const targets = batchTargets(stores, caches);
  const freshTargets = cacheSeconds === 0 ? targets : batchTargets(stores, caches, { fresh: true });
  const stateFor = async (delivery: Delivery, retry: boolean): Promise<DeliveryState> => {
    const state = await (retry ? freshState : cachedState)(delivery.tenantId);
    // Nothing is set aside on a cached copy: an endpoint re-enabled since gets its delivery.
    return !retry && disabledReason(healthOf(state, delivery.url)) ? freshState(delivery.tenantId) : state;
  };
  /**
   * A retry checks that its delivery is still wanted (for its event's CNPJ, as dispatch judged
   * it); a first attempt follows its dispatch by moments.
   */
  const unwanted = async (delivery: Delivery): Promise<string | undefined> =>
    (await freshTargets.tenantProblem(delivery.tenantId)) ??
    ((await freshTargets.urlsFor(delivery.tenantId, delivery.eventType, undefined, delivery.cnpj)).includes(delivery.url)
      ? undefined
      : `no subscription or account webhook sends ${delivery.eventType} to this endpoint any more`);
  // Deliveries to endpoints with a rate limit: one reservation per endpoint for the batch; the rest cost nothing.
  const admission = await admitAtEndpointRates(rateLimits, valid, new Date());

  /** One delivery: attempted, or failed before it could be (its message alone fails), or already finished. */
  const attemptOne = async ({ record, delivery }: { record: SQSRecord; delivery: Delivery }): Promise<Settled> => {
    try {
      const step = await stepOf(record, delivery);
      if (step === "finished") return { record, finished: true as const };
      const retry = step > 1 || delivery.attemptsBefore > 0;
      const held = admission.check(delivery);
      if (held) return { record, delivery, step, outcome: held };
      // Nothing is read for a message back before its time.
      const due = isDue(delivery, new Date());
      const [state, stop, credential] = due
        ? await Promise.all([stateFor(delivery, retry), retry ? unwanted(delivery) : undefined, (retry ? freshTargets : targets).credentialOf(delivery)])
        : [undefined, undefined, undefined];
      // A cached copy may outlive the old secret's grace period: it signs only until its end.
      const previous = state?.secret?.previous;
      const outcome = await attemptDelivery(setup, delivery, step, {
        secret: state?.secret?.secret,
        previousSecret: previous && Date.parse(previous.until) > Date.now() ? previous.secret : undefined,
        unwanted: stop,
        disabled: state && disabledReason(healthOf(state, delivery.url)),
        credential,
      });
      if (outcome.kind === "canceled") logger.info("delivery canceled", { deliveryId: delivery.deliveryId, reason: outcome.reason });
      else if (outcome.kind === "retry-at" || outcome.kind === "exhausted") {
        const retryIn = outcome.kind === "retry-at" ? outcome.delaySeconds : undefined;
        logger.info("delivery attempt failed", { deliveryId: delivery.deliveryId, attempts: outcome.attempt, reason: outcome.failure.reason, retryIn });
      }
      return { record, delivery, step, outcome };
    } catch (error) {
      logger.error("delivery not attempted", { deliveryId: delivery.deliveryId, error: error as Error });
      return { record, failed: true as const };
    }
  };
  // Each delivery on its own: a failed read or write fails its message only, never its batch-mates.
  // An ordered delivery (a FIFO message group: one document to one endpoint) goes only once the
  // one before it in its group is done: delivered, exhausted or stopped.
  const { results: settled, held } = await inGroupOrder(valid, attemptOne, (result) =>
    "finished" in result || ("outcome" in result && FINISHED.has(result.outcome.kind)),
  );
  const notAttempted = settled.flatMap((entry) => ("failed" in entry ? [entry.record] : []));
  const outcomes = settled.flatMap((entry) => ("outcome" in entry ? [entry] : []));
  // Health is told what the attempts showed; a retry to an endpoint that this disabled goes
  // to the dead-letter queue now rather than waiting for its turn.
  const healthReads = { cached: cachedState, fresh: freshState, changed: (tenantId: string) => states.delete(tenantId) };
  const health = await trackHealth(outcomes, healthReads, configs, healthPolicy).catch((error: unknown) => {
    logger.error("endpoint health not recorded", { error: error as Error });
    return { notices: [], disabled: new Map<string, string>() };
  });
  for (const notice of health.notices) logger.info(`endpoint ${notice.kind}`, { tenantId: notice.tenantId, url: notice.url });
  const attempted = await recordOutcomes(
    outcomes.map((entry) => {
      const disabled = entry.outcome.kind === "retry-at" ? health.disabled.get(tenantEndpoint(entry.delivery.tenantId, entry.delivery.url)) : undefined;
      return disabled && entry.outcome.kind === "retry-at"
        ? { ...entry, outcome: { kind: "set-aside" as const, attempt: entry.outcome.attempt, reason: disabled, failure: entry.outcome.failure } }
        : entry;
    }),
  );
  const now = new Date();

  // What comes next: the next step of the schedule, or the dead-letter queue. An ordered
  // delivery waits for its next step in the queue itself, holding its group back (below).
  const retries = attempted.flatMap(({ record, delivery, step, outcome }) =>
    messageGroup(record) !== undefined
      ? []
      : outcome.kind === "retry-at"
        ? [{ record, delay: outcome.delaySeconds, ...deliveryMessage(nextStep(delivery, step, outcome.delaySeconds, now)), delaySeconds: Math.min(outcome.delaySeconds, MAX_DELAY_SECONDS) }]
        : outcome.kind === "throttled"
          ? [{ record, ...heldBackMessage(delivery, step, outcome, now) }]
          : [],
  );
  const dead = attempted.flatMap(({ record, delivery, outcome }) =>
    outcome.kind === "exhausted" || outcome.kind === "set-aside"
      ? [{ record, notice: outcome.kind === "exhausted" ? deliveryExhaustedEvent(delivery, outcome) : undefined, ...deliveryMessage(deadDelivery(delivery, outcome.attempt)) }]
      : [],
  );
  const [retriesRefused, deadRefused] = await Promise.all([
    sendMessages(sqs, deliveriesQueueUrl, retries),
    sendMessages(sqs, deadLetterQueueUrl, dead),
  ]);

  // SQS refuses a visibility reaching past 12 h from the receive; this batch was received
  // about when the invocation began.
  const latest = MAX_RETRY_DELAY_SECONDS - Math.ceil((Date.now() - startedAt) / 1000) - 60;
  const stay = (record: SQSRecord, seconds: number): Stay => ({ record, receiptHandle: record.receiptHandle, visibilityTimeout: Math.max(0, Math.min(seconds, latest)) });
  const secondsUntil = (instant: string) => Math.ceil((Date.parse(instant) - now.getTime()) / 1000);
  const stays: Stay[] = [
    // Back before its time: hidden until it is due, no attempt used.
    ...attempted.flatMap(({ record, outcome }) => (outcome.kind === "deferred" ? [stay(record, secondsUntil(outcome.until))] : [])),
    // An ordered delivery's next step, or its slot under the endpoint's rate limit: the same
    // message, hidden until then, its group behind it.
    ...attempted.flatMap(({ record, outcome }) =>
      messageGroup(record) === undefined
        ? []
        : outcome.kind === "retry-at"
          ? [stay(record, outcome.delaySeconds)]
          : outcome.kind === "throttled"
            ? [stay(record, secondsUntil(outcome.until))]
            : [],
    ),
    // The rest of such a group, not attempted: back in the queue now, behind it. Released last
    // first: SQS keeps a group in order whatever the order of releases, and so does the local
    // emulator, which puts each message it is given back at the front of its group.
    ...held.toReversed().map(({ record }) => stay(record, 0)),
    // Its successor could not be queued: this message comes back when the retry is due and
    // attempts its step again (the receiver sees that attempt number twice, same webhook-id).
    ...retriesRefused.map(({ entry, reason }) => {
      logger.warn("next attempt not queued; this message repeats its step when it is due", { messageId: entry.record.messageId, reason });
      return stay(entry.record, entry.delay);
    }),
    // Likewise a dead letter not queued: the last attempt is made again in a minute.
    ...deadRefused.map(({ entry, reason }) => {
      logger.warn("dead letter not queued; the last attempt is made again in a minute", { messageId: entry.record.messageId, reason });
      return stay(entry.record, 60);
    }),
  ];
  // Such a message comes back after the queue's own visibility timeout instead: sooner, never lost.
  const ordered = (entry: Stay) => messageGroup(entry.record) !== undefined;
  const unchanged = await Promise.all([
    changeVisibilities(sqs, deliveriesQueueUrl, stays.filter((entry) => !ordered(entry))),
    changeVisibilities(sqs, orderedDeliveriesQueueUrl, stays.filter(ordered)),
  ]);
  for (const { reason } of unchanged.flat()) logger.warn("visibility not changed", { reason });
  // The tenant hears of each delivery now in the DLQ (a letter not queued is noticed when its last attempt is made again).
  const deadQueued = new Set(dead);
  for (const { entry } of deadRefused) deadQueued.delete(entry);
  // And of each endpoint this batch disabled or saw recover.
  const notices = [...[...deadQueued].flatMap(({ notice }) => notice ?? []), ...health.notices.map(noticeEvent)];
  await emitOperationalEvents(notices, { sqs, queueUrl: eventsQueueUrl, targets });

  const notSetAside = await sendMessages(sqs, deadLetterQueueUrl, malformed);
  for (const { record, reason } of malformed) logger.warn("delivery message set aside", { messageId: record.messageId, reason });
  publishAttempts(attempted.flatMap(({ delivery, outcome }) => (isHeldBack(outcome) ? [] : [measureOf(delivery, outcome, now)])));
  return {
    batchItemFailures: [...stays.map((s) => s.record), ...notAttempted, ...notSetAside.map((failed) => failed.entry.record)].map((record) => ({
      itemIdentifier: record.messageId,
    })),
  };
}

/** Outcomes after which the next ordered delivery of the group may go. */
const FINISHED: ReadonlySet<DeliveryAttempt["kind"]> = new Set(["delivered", "exhausted", "canceled", "set-aside"]);

/**
 * The attempt of the schedule a message carries. A standard-queue message says so itself (each
 * step is a new message). An ordered one is the same message at every step, so when it comes
 * back its log line tells how many attempts were made; a log line already finished (delivered,
 * failed or canceled by a receive that died before deleting the message) leaves nothing to do.
 */
async function stepOf(record: SQSRecord, delivery: Delivery): Promise<number | "finished"> {
  // Messages queued before the product counted steps fall back on the receive count.
  if (messageGroup(record) === undefined) return delivery.step ?? Number(record.attributes.ApproximateReceiveCount);
  if (record.attributes.ApproximateReceiveCount === "1") return 1;
  const line = await logs.get(delivery.tenantId, delivery.createdAt, delivery.deliveryId);
  if (line && line.status !== "retrying" && line.status !== "pending") return "finished";
  return (line ? line.attempts - delivery.attemptsBefore : 0) + 1;
}

/**
 * Writes each outcome's log line and failure record, and drops the deliveries another message
 * carries on. A fresh message's first attempt — the common case — is written in one batch; any
 * other under the conditional protocol that keeps a delivery one chain
 * (DeliveryLogStore.recordAttempt). A copy of a first attempt (dispatch re-sent after a crash)
 * goes on to step 2, where that protocol stops it. A write that fails is logged and the
 * delivery goes on: its next outcome rewrites the line.
 */
async function recordOutcomes(outcomes: readonly Omit<Attempted, "superseded">[]): Promise<Attempted[]> {
  const logged = outcomes.flatMap((entry) => (isHeldBack(entry.outcome) ? [] : [{ ...entry, outcome: entry.outcome }]));
  const fresh = (entry: (typeof logged)[number]) =>
    entry.step === 1 && entry.delivery.attemptsBefore === 0 && entry.record.attributes.ApproximateReceiveCount === "1";
  const guard = <T>(write: Promise<T>, fallback: T, what: string): Promise<T> =>
    write.catch((error: unknown) => {
      logger.error(what, { error: error as Error });
      return fallback;
    });
  await guard(
    logs.recordAll(logged.filter(fresh).map((entry) => ({ ...deliveryLogEntry(entry.delivery, entry.outcome), recordedBy: entry.record.messageId }))),
    undefined,
    "log lines not written",
  );
  const carriedOn = new Set(
    await Promise.all(
      logged
        .filter((entry) => !fresh(entry))
        .map(async (entry) =>
          (await guard(logs.recordAttempt(deliveryLogEntry(entry.delivery, entry.outcome), entry.record.messageId, madeAttempt(entry.outcome)), true, "log line not written"))
            ? undefined
            : entry.record,
        ),
    ),
  );
  const attempted = outcomes.map((entry) => ({ ...entry, superseded: carriedOn.has(entry.record) }));
  for (const { delivery, record } of attempted.filter((entry) => entry.superseded)) {
    logger.warn("delivery carried on by another message; this one stops", { deliveryId: delivery.deliveryId, messageId: record.messageId });
  }
  await Promise.all(
    attempted.flatMap(({ delivery, outcome, superseded }) => {
      const failed = failedAttempt(outcome);
      return !superseded && failed ? [guard(failures.record(failureRecord(delivery, failed)), undefined, "failure record not written")] : [];
    }),
  );
  return attempted.filter((entry) => !entry.superseded);
}

const OUTCOME_NAMES = { delivered: "delivered", "retry-at": "retrying", exhausted: "exhausted", canceled: "canceled", "set-aside": "disabled" } as const;

function measureOf(delivery: Delivery, outcome: Exclude<DeliveryAttempt, HeldBack>, now: Date): AttemptMeasure {
  const responseMs = outcome.kind === "delivered" ? outcome.responseMs : outcome.kind === "canceled" ? undefined : outcome.failure?.responseMs;
  return {
    outcome: OUTCOME_NAMES[outcome.kind],
    eventType: delivery.eventType,
    attempt: outcome.attempt,
    responseMs,
    endToEndMs: outcome.kind === "delivered" ? now.getTime() - Date.parse(delivery.acceptedAt ?? delivery.createdAt) : undefined,
  };
}
export const handler = sqsWorker(handle);
