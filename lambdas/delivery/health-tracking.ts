import type { DeliveryState, WebhookConfigStore } from "../data/webhook-config.ts";
import { keys } from "../data/keys.ts";
import type { Delivery, DeliveryAttempt } from "../domain/delivery.ts";
import { endpointDisabledEvent, endpointRecoveredEvent, type OperationalEvent } from "./operational-events.ts";
import {
  ENDPOINT_DISABLED,
  healthAfter,
  type EndpointHealth,
  type EndpointNotice,
  type EndpointObservation,
  type HealthPolicy,
} from "../domain/endpoint-health.ts";

/** A notice for one tenant. */
export type TenantNotice = EndpointNotice & { readonly tenantId: string };

/** Why deliveries to a disabled endpoint are set aside, as their dead letters record it. */
export function disabledReason(health: EndpointHealth | undefined): string | undefined {
  return health?.disabledAt ? `${ENDPOINT_DISABLED}: ${health.disabledReason ?? "disabled"} (since ${health.disabledAt})` : undefined;
}

/** The health record of an endpoint in a tenant's delivery state. */
export function healthOf(state: DeliveryState, url: string): EndpointHealth | undefined {
  return state.endpoints.get(keys.endpointHealth(url));
}

/** What an attempt showed of its endpoint; nothing when nothing reached it (no secret to sign with, not attempted). */
function observationOf(outcome: DeliveryAttempt): EndpointObservation | undefined {
  switch (outcome.kind) {
    case "delivered":
      return { kind: "success", at: outcome.deliveredAt };
    case "retry-at":
    case "exhausted":
      return outcome.failure.responseMs === undefined
        ? undefined
        : { kind: "failure", at: outcome.failure.failedAt, reason: outcome.failure.reason, statusCode: outcome.failure.statusCode };
    default:
      return undefined;
  }
}

/**
 * After a batch's attempts: each endpoint's observations folded into its health record (as
 * read at the start of the batch), and one conditional write per endpoint whose record
 * changed state — never one per success. Returns what the tenants must be told (only the
 * writer that won a transition tells it) and why each endpoint this batch disabled is
 * disabled, keyed by tenantEndpoint.
 */
export async function trackHealth(
  attempts: readonly { readonly delivery: Delivery; readonly outcome: DeliveryAttempt }[],
  stateOf: (tenantId: string) => Promise<DeliveryState>,
  store: Pick<WebhookConfigStore, "recordHealth">,
  policy: HealthPolicy,
): Promise<{ readonly notices: TenantNotice[]; readonly disabled: ReadonlyMap<string, string> }> {
  const byEndpoint = new Map<string, { tenantId: string; url: string; observations: EndpointObservation[] }>();
  for (const { delivery, outcome } of attempts) {
    const observation = observationOf(outcome);
    if (!observation) continue;
    const id = tenantEndpoint(delivery.tenantId, delivery.url);
    const group = byEndpoint.get(id) ?? { tenantId: delivery.tenantId, url: delivery.url, observations: [] };
    group.observations.push(observation);
    byEndpoint.set(id, group);
  }
  const notices: TenantNotice[] = [];
  const disabled = new Map<string, string>();
  await Promise.all(
    [...byEndpoint].map(async ([id, { tenantId, url, observations }]) => {
      observations.sort((a, b) => a.at.localeCompare(b.at));
      const current = healthOf(await stateOf(tenantId), url);
      const next = healthAfter(current, url, observations, policy);
      if (next.health === current) return;
      if (!(await store.recordHealth(tenantId, current, next.health))) return;
      const reason = disabledReason(next.health);
      if (reason) disabled.set(id, reason);
      notices.push(...next.notices.map((notice) => ({ ...notice, tenantId })));
    }),
  );
  return { notices, disabled };
}

/** The key trackHealth's `disabled` set uses. */
export function tenantEndpoint(tenantId: string, url: string): string {
  return `${tenantId}\n${keys.endpointHealth(url)}`;
}

/** The operational event that tells the tenant of a notice. */
export function noticeEvent(notice: TenantNotice): OperationalEvent {
  return notice.kind === "disabled"
    ? endpointDisabledEvent(notice.tenantId, notice.url, notice.reason, new Date(notice.failingSince ?? notice.since), new Date(notice.since))
    : endpointRecoveredEvent(notice.tenantId, notice.url, `delivered to again after being re-enabled at ${notice.reenabledAt}`, new Date(notice.at));
}
