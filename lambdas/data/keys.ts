import { createHash } from "node:crypto";

/**
 * Key layout of the single table. Every item's keys are built here, so the access
 * patterns can be read in one place:
 *
 *   tenant              pk TENANT#<tenantId>        sk TENANT                       gsi1 TENANTS / <createdAt>#<tenantId>
 *   api token           pk TOKEN#<sha256 of token>  sk TOKEN                        gsi1 TENANT#<tenantId>#TOKENS / <createdAt>
 *   subscription        pk TENANT#<tenantId>        sk SUB#<id, 10 digits>          gsi1 TENANT#<tenantId>#EVENT#<type> / SUB#<id>
 *   subscription guard  pk TENANT#<tenantId>        sk UNIQUE#SUB#<type>#<sha256 of normalized endpoint>
 *   id counter          pk COUNTER#subscription     sk COUNTER
 *   webhook config      pk TENANT#<tenantId>        sk WEBHOOK_CONFIG
 *   signing secret      pk TENANT#<tenantId>        sk SIGNING_SECRET
 *   delivery log        pk TENANT#<tenantId>        sk LOG#<createdAt>#<deliveryId>   (TTL)
 *   failure record      pk TENANT#<tenantId>#FAIL#<ddMMyyyy>   sk <id, 10 digits>     (TTL)
 *   dispatched event    pk TENANT#<tenantId>        sk EVENT#<producer event id>      (TTL)
 *   dead letter         pk TENANT#<tenantId>        sk DEAD#<deliveryId>   gsi1 TENANT#<tenantId>#DEAD / <failedAt>#<deliveryId>
 *
 * Logs newest first: Query pk, begins_with(sk, "LOG#"), descending. Failures of a Brazilian
 * date: Query their partition. Subscriptions of a tenant: Query pk, begins_with(sk, "SUB#"). Subscriptions of a tenant
 * for one event type: Query gsi1. The guard item makes (type, endpoint) unique per tenant
 * without transactions (see data/subscriptions.ts).
 */
const tenantPk = (tenantId: string) => `TENANT#${tenantId}`;
const paddedId = (id: number) => String(id).padStart(10, "0");

export const keys = {
  tenant: (tenantId: string) => ({ pk: tenantPk(tenantId), sk: "TENANT" }),
  tenantListing: (tenantId: string, createdAt: string) => ({
    gsi1pk: "TENANTS",
    gsi1sk: `${createdAt}#${tenantId}`,
  }),
  tenantsIndex: () => "TENANTS",
  apiToken: (tokenHash: string) => ({ pk: `TOKEN#${tokenHash}`, sk: "TOKEN" }),
  apiTokenListing: (tenantId: string, createdAt: string) => ({
    gsi1pk: `TENANT#${tenantId}#TOKENS`,
    gsi1sk: createdAt,
  }),
  apiTokensIndex: (tenantId: string) => `TENANT#${tenantId}#TOKENS`,

  tenantPartition: tenantPk,
  subscriptionPrefix: "SUB#",
  subscription: (tenantId: string, id: number) => ({ pk: tenantPk(tenantId), sk: `SUB#${paddedId(id)}` }),
  subscriptionByEvent: (tenantId: string, eventType: string, id: number) => ({
    gsi1pk: keys.subscriptionsForEvent(tenantId, eventType),
    gsi1sk: `SUB#${paddedId(id)}`,
  }),
  subscriptionsForEvent: (tenantId: string, eventType: string) => `TENANT#${tenantId}#EVENT#${eventType}`,
  subscriptionGuard: (tenantId: string, eventType: string, normalizedEndpoint: string) => ({
    pk: tenantPk(tenantId),
    sk: `UNIQUE#SUB#${eventType}#${createHash("sha256").update(normalizedEndpoint).digest("hex")}`,
  }),
  subscriptionIdCounter: () => ({ pk: "COUNTER#subscription", sk: "COUNTER" }),

  webhookConfig: (tenantId: string) => ({ pk: tenantPk(tenantId), sk: "WEBHOOK_CONFIG" }),
  signingSecret: (tenantId: string) => ({ pk: tenantPk(tenantId), sk: "SIGNING_SECRET" }),

  logPrefix: "LOG#",
  deliveryLog: (tenantId: string, createdAt: string, deliveryId: string) => ({
    pk: tenantPk(tenantId),
    sk: `LOG#${createdAt}#${deliveryId}`,
  }),
  failures: (tenantId: string, brazilDate: string) => `${tenantPk(tenantId)}#FAIL#${brazilDate}`,
  failure: (tenantId: string, brazilDate: string, id: number) => ({ pk: keys.failures(tenantId, brazilDate), sk: paddedId(id) }),
  dispatchedEvent: (tenantId: string, eventId: string) => ({ pk: tenantPk(tenantId), sk: `EVENT#${eventId}` }),
  deadLetter: (tenantId: string, deliveryId: string) => ({ pk: tenantPk(tenantId), sk: `DEAD#${deliveryId}` }),
  deadLetterListing: (tenantId: string, failedAt: string, deliveryId: string) => ({
    gsi1pk: keys.deadLettersIndex(tenantId),
    gsi1sk: `${failedAt}#${deliveryId}`,
  }),
  deadLettersIndex: (tenantId: string) => `${tenantPk(tenantId)}#DEAD`,
};
