import type { EventType } from "../domain/catalogue.ts";
import { deliveryTargets, type DeliveryTarget } from "../domain/fiscal-event.ts";
import type { ReceiverCredential } from "../domain/receiver-credential.ts";
import type { Subscription } from "../domain/subscriptions.ts";
import type { WebhookConfig } from "../domain/webhook-config.ts";
import { credentialFor, type CredentialReads } from "./credentials.ts";
import { ExpiringCache } from "../shared/expiring-cache.ts";
import { onceEach } from "../shared/once-each.ts";
import type { SubscriptionStore } from "../data/subscriptions.ts";
import type { Tenant, TenantStore } from "../data/tenants.ts";
import type { WebhookConfigStore } from "../data/webhook-config.ts";

/** The stack's `configCacheSeconds` default: how old a warm function's reads of where events go may be. */
export const DEFAULT_CONFIG_CACHE_SECONDS = 10;
/** The setting's ceiling: past five minutes a change would wait longer than anyone expects. */
export const MAX_CONFIG_CACHE_SECONDS = 300;
/**
 * What each warm cache holds at most: 256 tenants (a batch names at most ten, so this is
 * dozens of batches' worth), and 10,000 subscriptions or endpoint health records in all, a
 * few MB, however many a tenant has (an item of those is about half a kilobyte).
 */
export const WARM_CACHE_CAPACITY = { tenants: 256, records: 10_000 } as const;

export interface TargetStores {
  readonly tenants: TenantStore;
  readonly subscriptions: SubscriptionStore;
  readonly configs: WebhookConfigStore;
}

/** Where a tenant's events of one type go now, and whether the tenant may send at all. */
export interface BatchTargets {
  /** Why events of this tenant cannot go anywhere (unknown or revoked), if they cannot. */
  tenantProblem(tenantId: string): Promise<string | undefined>;
  /**
   * The distinct endpoints that receive the tenant's events of this type for `cnpj` (none:
   * an event without one), `except` left out (see deliveryTargets).
   */
  urlsFor(tenantId: string, type: EventType, except?: string, cnpj?: string): Promise<string[]>;
  /** The same endpoints, each with where its credential comes from and its rate limit, when it has them. */
  targetsFor(tenantId: string, type: EventType, except?: string, cnpj?: string): Promise<DeliveryTarget[]>;
  /** The credential a delivery is sent with now (see credentialFor), from this batch's reads. */
  credentialOf(delivery: Parameters<typeof credentialFor>[1]): Promise<ReceiverCredential | undefined>;
}

/** The reads that decide where events go, kept by a warm execution environment across its batches. */
export interface TargetCaches {
  readonly tenants: ExpiringCache<Tenant | undefined>;
  readonly subscribed: ExpiringCache<Subscription[]>;
  readonly configs: ExpiringCache<WebhookConfig | undefined>;
}

/** Caches whose reads are used for at most `seconds` (0: none kept, every batch reads). */
export function targetCaches(seconds: number): TargetCaches {
  const perTenant = <V>() => new ExpiringCache<V>({ ttlSeconds: seconds, capacity: WARM_CACHE_CAPACITY.tenants });
  return {
    tenants: perTenant(),
    subscribed: new ExpiringCache({ ttlSeconds: seconds, capacity: WARM_CACHE_CAPACITY.records, weigh: (list) => list.length }),
    configs: perTenant(),
  };
}

/**
 * The reads that decide where events go, each made at most once per batch (dispatch fans out
 * with them; deliver checks a retry is still wanted and reads the credentials deliveries refer
 * to), and taken from `caches` while they are young enough — or, with `fresh`, read from the
 * table whatever the caches hold (and kept there for the next batches). Eventually consistent:
 * a change reaches deliveries within the caches' age plus about a second.
 */
export function batchTargets(stores: TargetStores, caches: TargetCaches, { fresh = false } = {}): BatchTargets {
  const read = <V>(cache: ExpiringCache<V>, key: string, load: () => Promise<V>) => (fresh ? cache.refresh(key, load) : cache.get(key, load));
  const tenantProblem = onceEach(async (tenantId: string) => {
    const tenant = await read(caches.tenants, tenantId, () => stores.tenants.get(tenantId, false));
    if (!tenant) return `unknown tenant ${tenantId}`;
    return tenant.status === "active" ? undefined : `tenant ${tenantId} is revoked`;
  });
  const typeKey = ({ tenantId, type }: { tenantId: string; type: EventType }) => `${tenantId}\n${type}`;
  const reads: CredentialReads = {
    subscribed: onceEach(
      (key: { tenantId: string; type: EventType }) => read(caches.subscribed, typeKey(key), () => stores.subscriptions.listForEvent(key.tenantId, key.type)),
      typeKey,
    ),
    config: onceEach((tenantId: string) => read(caches.configs, tenantId, () => stores.configs.getConfig(tenantId, false))),
  };
  const targetsFor = async (tenantId: string, type: EventType, except?: string, cnpj?: string) => {
    const [subscriptions, account] = await Promise.all([reads.subscribed({ tenantId, type }), reads.config(tenantId)]);
    return deliveryTargets(type, subscriptions, account, except, cnpj);
  };
  return {
    tenantProblem,
    targetsFor,
    urlsFor: async (tenantId, type, except, cnpj) => (await targetsFor(tenantId, type, except, cnpj)).map((target) => target.url),
    credentialOf: (delivery) => credentialFor(reads, delivery),
  };
}
