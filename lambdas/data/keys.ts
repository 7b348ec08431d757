import { createHash } from "node:crypto";
import { endpointKey } from "../domain/endpoint-url.ts";
import type { KeyQuery, Listing, ShardedListing } from "./query.ts";
import { GSI1_SK, indexKey, PK, SK, tableKey } from "./table.ts";

/**
 * Key layout of the single table. Every item's keys and every query's partition are built
 * here, so the access patterns can be read in one place:
 *
 *   tenant              pk TENANT#<tenantId>        sk TENANT                       gsi1 TENANTS / <createdAt>#<tenantId>
 *   api token           pk TOKEN#<sha256 of token>  sk TOKEN                        gsi1 TENANT#<tenantId>#TOKENS / <createdAt>
 *   portal link         pk LINK#<sha256 of token>   sk LINK   (TTL)       gsi1 TENANT#<tenantId>#LINKS / <createdAt>#<sha256 of token>
 *     a short-lived token of the tenant (domain/portal-links.ts); the hash is the link's id in the API
 *     (it cannot be turned back into the token). Refused from `validUntil` on, not only when TTL
 *     deletes it (DynamoDB may take days), and once its tenant is revoked
 *   subscription        pk TENANT#<tenantId>        sk SUB#<id, 10 digits>          gsi1 TENANT#<tenantId>#EVENT#<type> / SUB#<id>
 *   subscription guard  pk TENANT#<tenantId>        sk UNIQUE#SUB#<type>#<sha256 of normalized endpoint>
 *   subscription slot   pk TENANT#<tenantId>        sk SLOT#SUB#<0 .. cap - 1, 5 digits>
 *   id counter          pk COUNTER#subscription     sk COUNTER
 *   webhook config      pk TENANT#<tenantId>        sk WEBHOOK_CONFIG
 *   signing secret      pk TENANT#<tenantId>        sk SIGNING_SECRET
 *     + endpoint health   attributes ENDPOINT#<sha256 of the endpoint's WHATWG URL> of that item (deliver
 *                         reads the item once per batch for the secret: health costs no read of its own)
 *   delivery log        pk TENANT#<tenantId>#LOG#<deliveryId's first hex digit>   sk LOG#<createdAt>#<deliveryId>   (TTL)
 *                       (before sharding: pk TENANT#<tenantId>; still read, see queries.deliveryLogs)
 *   failure record      pk TENANT#<tenantId>#FAIL#<ddMMyyyy>#<shard its id names>   sk <id, 10 digits>   (TTL)
 *                       (before sharding: pk TENANT#<tenantId>#FAIL#<ddMMyyyy>; still read)
 *   dispatched event    pk TENANT#<tenantId>#EVENT#<first hex digit of sha256(id)>   sk EVENT#<producer event id>   (TTL)
 *   document event      pk TENANT#<tenantId>#DOC#<documentKey>   sk EVENT#<acceptedAt>#<eventId>   (TTL)
 *     one per event with a documentKey, written by dispatch before its deliveries leave; names
 *     each delivery's id, URL and log line createdAt, so its log line's key can be rebuilt
 *   dead letter         pk TENANT#<tenantId>        sk DEAD#<deliveryId>   gsi1 TENANT#<tenantId>#DEAD / <failedAt>#<deliveryId>
 *   rate window         pk TENANT#<tenantId>        sk RATE#<action>#<window start, epoch seconds>   (TTL)
 *   rate schedule       pk TENANT#<tenantId>        sk RATE#<action>                  (TTL)
 *     actions: test-webhook (one-minute windows); ENDPOINT#<sha256 of the URL> (the schedule of
 *     deliveries to an endpoint with a rate limit)
 *
 * A tenant's portal links: Query gsi1 newest first, the expired ones filtered out by `validUntil`.
 * Logs newest first: Query each of the tenant's 16 log partitions (and the pre-sharding one)
 * from the page's position, descending, and merge (query.ts queryShardedPage). Failures of a Brazilian
 * date: Query their partition. A document's history: Query its partition, oldest first (the order
 * the events were injected); the newest 100, newest first, name each endpoint's last delivery,
 * whose log lines are read with one BatchGetItem. Subscriptions of a tenant: Query pk, begins_with(sk, "SUB#"). Subscriptions of a tenant
 * for one event type: Query gsi1. The guard item makes (type, endpoint) unique per tenant
 * and the slot items make the per-tenant cap exact, without transactions (see data/subscriptions.ts).
 * A subscription and the webhook config may hold a receiver credential in their `authentication`
 * attribute (domain/receiver-credential.ts): the only place it is kept, encrypted at rest with the table.
 * Their CNPJ scope is the `cnpjs` attribute (a list of 14- and 8-character entries), read with
 * them by the fan-out's one query per tenant and type and matched in memory (domain/fiscal-event.ts).
 */
const tenantPk = (tenantId: string) => `TENANT#${tenantId}`;
const paddedId = (id: number) => String(id).padStart(10, "0");
const SUBSCRIPTION_PREFIX = "SUB#";
const SLOT_PREFIX = "SLOT#SUB#";
const LOG_PREFIX = "LOG#";
/**
 * Hot keys are spread over 16 partitions per tenant (a hex digit): DynamoDB takes about 1,000
 * writes a second per partition key, and one tenant's log lines and producer-id claims come one
 * per delivery or event. Log lines by their delivery id's first digit (a UUID), claims by the
 * first digit of their id's SHA-256.
 */
const SHARDS = [..."0123456789abcdef"];
const logShard = (tenantId: string, shard: string) => `${tenantPk(tenantId)}#LOG#${shard}`;
/**
 * Failure record ids are milliseconds since Brazilian midnight × 100 plus two digits; each of the
 * 16 shards of a date owns six of those (shard × 6 .. shard × 6 + 5), so ids stay unique across
 * shards and name their shard.
 */
export const FAILURE_IDS_PER_SHARD = 6;
/** The ids a failure of this delivery may take in its millisecond `base` (a multiple of 100), in order. */
export function failureIds(deliveryId: string, base: number): number[] {
  const shard = Math.max(0, SHARDS.indexOf(deliveryId.charAt(0).toLowerCase()));
  return Array.from({ length: FAILURE_IDS_PER_SHARD }, (_, k) => base + shard * FAILURE_IDS_PER_SHARD + k);
}
const ENDPOINT_HEALTH_PREFIX = "ENDPOINT#";
const TENANTS_INDEX = "TENANTS";
const apiTokensIndex = (tenantId: string) => `${tenantPk(tenantId)}#TOKENS`;
const portalLinksIndex = (tenantId: string) => `${tenantPk(tenantId)}#LINKS`;
const subscriptionsForEvent = (tenantId: string, eventType: string) => `${tenantPk(tenantId)}#EVENT#${eventType}`;
const failures = (tenantId: string, brazilDate: string) => `${tenantPk(tenantId)}#FAIL#${brazilDate}`;
const deadLettersIndex = (tenantId: string) => `${tenantPk(tenantId)}#DEAD`;
const documentPk = (tenantId: string, documentKey: string) => `${tenantPk(tenantId)}#DOC#${documentKey}`;
const DOCUMENT_EVENT_PREFIX = "EVENT#";

export const keys = {
  tenant: (tenantId: string) => tableKey(tenantPk(tenantId), "TENANT"),
  tenantListing: (tenantId: string, createdAt: string) => indexKey(TENANTS_INDEX, `${createdAt}#${tenantId}`),
  apiToken: (tokenHash: string) => tableKey(`TOKEN#${tokenHash}`, "TOKEN"),
  apiTokenListing: (tenantId: string, createdAt: string) => indexKey(apiTokensIndex(tenantId), createdAt),
  portalLink: (tokenHash: string) => tableKey(`LINK#${tokenHash}`, "LINK"),
  portalLinkListing: (tenantId: string, createdAt: string, tokenHash: string) => indexKey(portalLinksIndex(tenantId), `${createdAt}#${tokenHash}`),

  tenantPartition: tenantPk,
  subscription: (tenantId: string, id: number) => tableKey(tenantPk(tenantId), `${SUBSCRIPTION_PREFIX}${paddedId(id)}`),
  subscriptionByEvent: (tenantId: string, eventType: string, id: number) =>
    indexKey(subscriptionsForEvent(tenantId, eventType), `${SUBSCRIPTION_PREFIX}${paddedId(id)}`),
  subscriptionsForEvent,
  subscriptionGuard: (tenantId: string, eventType: string, normalizedEndpoint: string) =>
    tableKey(tenantPk(tenantId), `UNIQUE#SUB#${eventType}#${createHash("sha256").update(normalizedEndpoint).digest("hex")}`),
  subscriptionSlot: (tenantId: string, slot: number) => tableKey(tenantPk(tenantId), `${SLOT_PREFIX}${String(slot).padStart(5, "0")}`),
  subscriptionIdCounter: () => tableKey("COUNTER#subscription", "COUNTER"),

  webhookConfig: (tenantId: string) => tableKey(tenantPk(tenantId), "WEBHOOK_CONFIG"),
  signingSecret: (tenantId: string) => tableKey(tenantPk(tenantId), "SIGNING_SECRET"),
  endpointHealthPrefix: ENDPOINT_HEALTH_PREFIX,
  /** The attribute of the signing-secret item that holds one endpoint's health. */
  endpointHealth: (endpoint: string) => `${ENDPOINT_HEALTH_PREFIX}${createHash("sha256").update(endpointKey(endpoint)).digest("hex")}`,

  logPrefix: LOG_PREFIX,
  deliveryLog: (tenantId: string, createdAt: string, deliveryId: string) =>
    tableKey(logShard(tenantId, deliveryId.charAt(0).toLowerCase()), `${LOG_PREFIX}${createdAt}#${deliveryId}`),
  /** Where a log line was written before logs were sharded: read while such lines may live (30 days). */
  legacyDeliveryLog: (tenantId: string, createdAt: string, deliveryId: string) => tableKey(tenantPk(tenantId), `${LOG_PREFIX}${createdAt}#${deliveryId}`),
  /** A failure record, in the shard its id names (see failureIds). */
  failure: (tenantId: string, brazilDate: string, id: number) =>
    tableKey(`${failures(tenantId, brazilDate)}#${SHARDS[Math.floor((id % 100) / FAILURE_IDS_PER_SHARD)]}`, paddedId(id)),
  dispatchedEvent: (tenantId: string, eventId: string) =>
    tableKey(`${tenantPk(tenantId)}#EVENT#${createHash("sha256").update(eventId).digest("hex").charAt(0)}`, `EVENT#${eventId}`),
  documentEvent: (tenantId: string, documentKey: string, acceptedAt: string, eventId: string) =>
    tableKey(documentPk(tenantId, documentKey), `${DOCUMENT_EVENT_PREFIX}${acceptedAt}#${eventId}`),
  rateWindow: (tenantId: string, action: string, windowStart: number) => tableKey(tenantPk(tenantId), `RATE#${action}#${windowStart}`),
  rateSchedule: (tenantId: string, action: string) => tableKey(tenantPk(tenantId), `RATE#${action}`),
  /** The rate action of deliveries to one endpoint: the URL hashed, so any URL makes a short key. */
  endpointRateAction: (url: string) => `ENDPOINT#${createHash("sha256").update(url).digest("hex")}`,
  deadLetter: (tenantId: string, deliveryId: string) => tableKey(tenantPk(tenantId), `DEAD#${deliveryId}`),
  deadLetterListing: (tenantId: string, failedAt: string, deliveryId: string) =>
    indexKey(deadLettersIndex(tenantId), `${failedAt}#${deliveryId}`),
};

const ISO_INSTANT = String.raw`\d{4}-\d{2}-\d{2}T[0-9:.]+Z`;
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const SHA256 = "[0-9a-f]{64}";
/** An event id: the producer's (printable ASCII, fiscal-event.ts) or its SQS message id. */
const EVENT_ID = String.raw`[\x21-\x7e]{1,200}`;

/** The access patterns that read more than one item; the paged ones name the key positions their cursors carry. */
export const queries = {
  tenants: (): KeyQuery => ({ byIndex: true, partition: TENANTS_INDEX }),
  apiTokens: (tenantId: string): KeyQuery => ({ byIndex: true, partition: apiTokensIndex(tenantId) }),
  /** The tenant's portal links, newest first (expired ones too, until TTL deletes them). */
  portalLinks: (tenantId: string): Listing => ({
    name: "portal-links",
    byIndex: true,
    partition: portalLinksIndex(tenantId),
    newestFirst: true,
    implied: { [SK]: "LINK" },
    position: { [GSI1_SK]: new RegExp(`^${ISO_INSTANT}#${SHA256}$`), [PK]: new RegExp(`^LINK#${SHA256}$`) },
  }),
  subscriptions: (tenantId: string): KeyQuery => ({ partition: tenantPk(tenantId), sortKeyPrefix: SUBSCRIPTION_PREFIX }),
  subscriptionSlots: (tenantId: string): KeyQuery => ({ partition: tenantPk(tenantId), sortKeyPrefix: SLOT_PREFIX }),
  subscriptionsForEvent: (tenantId: string, eventType: string): KeyQuery => ({
    byIndex: true,
    partition: subscriptionsForEvent(tenantId, eventType),
  }),
  /** The tenant's log lines: its 16 shards, and where lines were written before sharding. */
  deliveryLogs: (tenantId: string): ShardedListing => ({
    name: "logs",
    partition: tenantPk(tenantId),
    partitions: [...SHARDS.map((shard) => logShard(tenantId, shard)), tenantPk(tenantId)],
    sortKeyPrefix: LOG_PREFIX,
    newestFirst: true,
    position: { [SK]: new RegExp(`^${LOG_PREFIX}${ISO_INSTANT}#[^#]{1,100}$`) },
  }),
  documentEvents: (tenantId: string, documentKey: string): Listing => ({
    name: "document",
    partition: documentPk(tenantId, documentKey),
    sortKeyPrefix: DOCUMENT_EVENT_PREFIX,
    position: { [SK]: new RegExp(`^${DOCUMENT_EVENT_PREFIX}${ISO_INSTANT}#${EVENT_ID}$`) },
  }),
  /** A Brazilian date's failure records: its 16 shards, and where records were written before sharding. */
  failures: (tenantId: string, brazilDate: string): ShardedListing => ({
    name: "falhas",
    partition: failures(tenantId, brazilDate),
    partitions: [...SHARDS.map((shard) => `${failures(tenantId, brazilDate)}#${shard}`), failures(tenantId, brazilDate)],
    position: { [SK]: /^\d{10}$/ },
  }),
  deadLetters: (tenantId: string): Listing => ({
    name: "dlq",
    byIndex: true,
    partition: deadLettersIndex(tenantId),
    newestFirst: true,
    implied: { [PK]: tenantPk(tenantId) },
    position: { [GSI1_SK]: new RegExp(`^${ISO_INSTANT}#${UUID}$`), [SK]: new RegExp(`^DEAD#${UUID}$`) },
  }),
};
