import type { EventType } from "../domain/catalogue.ts";
import { deliveryTargets, type DeliveryTarget } from "../domain/fiscal-event.ts";
import type { ReceiverCredential } from "../domain/receiver-credential.ts";
import { credentialFor, type CredentialReads } from "./credentials.ts";
import { onceEach } from "../shared/once-each.ts";
import type { SubscriptionStore } from "../data/subscriptions.ts";
import type { TenantStore } from "../data/tenants.ts";
import type { WebhookConfigStore } from "../data/webhook-config.ts";

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

/**
 * The reads that decide where events go, each made once per batch (dispatch fans out with
 * them; deliver checks a retry is still wanted and reads the credentials deliveries refer
 * to). Eventually consistent: a change reaches deliveries within about a second.
 */
export function batchTargets(stores: TargetStores): BatchTargets {
  const tenantProblem = onceEach(async (tenantId: string) => {
    const tenant = await stores.tenants.get(tenantId, false);
    if (!tenant) return `unknown tenant ${tenantId}`;
    return tenant.status === "active" ? undefined : `tenant ${tenantId} is revoked`;
  });
  const reads: CredentialReads = {
    subscribed: onceEach(
      ({ tenantId, type }: { tenantId: string; type: EventType }) => stores.subscriptions.listForEvent(tenantId, type),
      ({ tenantId, type }) => `${tenantId}\n${type}`,
    ),
    config: onceEach((tenantId: string) => stores.configs.getConfig(tenantId, false)),
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
