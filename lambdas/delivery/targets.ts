import type { EventType } from "../domain/catalogue.ts";
import { deliveryTargets } from "../domain/fiscal-event.ts";
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
  /** The distinct endpoints that receive the tenant's events of this type, `except` left out (see deliveryTargets). */
  urlsFor(tenantId: string, type: EventType, except?: string): Promise<string[]>;
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
      (await stores.subscriptions.listForEvent(tenantId, type)).map((s) => s.endpoint),
    ({ tenantId, type }) => `${tenantId}\n${type}`,
  );
  const config = onceEach((tenantId: string) => stores.configs.getConfig(tenantId, false));
  return {
    tenantProblem,
    async urlsFor(tenantId, type, except) {
      const [endpoints, account] = await Promise.all([subscribed({ tenantId, type }), config(tenantId)]);
      return deliveryTargets(type, endpoints, account, except);
    },
  };
}
