import type { EventType } from "../domain/catalogue.ts";
import { deliveryTargets, type DeliveryTarget } from "../domain/fiscal-event.ts";
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
  /** The distinct endpoints that receive the tenant's events of this type, with their rate limits. */
  targetsFor(tenantId: string, type: EventType): Promise<DeliveryTarget[]>;
  /** The same endpoints' URLs. */
  urlsFor(tenantId: string, type: EventType): Promise<string[]>;
}

/**
 * The reads that decide where events go, each made once per batch (dispatch fans out with
 * them; deliver checks a retry is still wanted). Eventually consistent: a change reaches
 * deliveries within about a second.
 */
export function batchTargets(stores: TargetStores): BatchTargets {
  const tenantProblem = onceEach(async (tenantId: string) => {
    const tenant = await stores.tenants.get(tenantId, false);
    if (!tenant) return `unknown tenant ${tenantId}`;
    return tenant.status === "active" ? undefined : `tenant ${tenantId} is revoked`;
  });
  const subscribed = onceEach(
    async ({ tenantId, type }: { tenantId: string; type: EventType }) =>
      (await stores.subscriptions.listForEvent(tenantId, type)).map(({ endpoint, maxPorSegundo }) => ({ endpoint, maxPorSegundo })),
    ({ tenantId, type }) => `${tenantId}\n${type}`,
  );
  const config = onceEach((tenantId: string) => stores.configs.getConfig(tenantId, false));
  const targetsFor = async (tenantId: string, type: EventType) => {
    const [endpoints, account] = await Promise.all([subscribed({ tenantId, type }), config(tenantId)]);
    return deliveryTargets(type, endpoints, account);
  };
  return {
    tenantProblem,
    targetsFor,
    urlsFor: async (tenantId, type) => (await targetsFor(tenantId, type)).map((target) => target.url),
  };
}
