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

/** How trackHealth reads a tenant's delivery state. */
export interface HealthReads {
  /** As this batch read it first: possibly from the warm cache, so possibly a few seconds old. */
  readonly cached: (tenantId: string) => Promise<DeliveryState>;
  /** Read from the table now. */
  readonly fresh: (tenantId: string) => Promise<DeliveryState>;
  /** This batch changed the tenant's state: whatever is cached of it is out of date. */
  readonly changed: (tenantId: string) => void;
}

/**
 * After a batch's attempts: each endpoint's observations folded into its health record, and
 * one conditional write per endpoint whose record changed state — never one per success.
 * A cached copy is trusted only while it says the endpoint is healthy (the common case, which
 * costs no read): an endpoint failing, disabled or re-enabled is judged on its record read
 * afresh, since a success or a re-enabling since the copy would change the decision. The
 * write's condition is the record it started from; when it fails, that record may have been
 * an old copy, so it is read again from the table and the decision made again on it.
 * Whichever writer then wins tells the tenant, once: a transition is neither lost to a stale
 * copy nor made twice. (What a healthy copy can miss: a streak another environment started
 * under configCacheSeconds ago and a success since, which would have restarted it.) Returns
 * what the tenants must be told and why each endpoint this batch disabled is disabled, keyed
 * by tenantEndpoint.
 */
export async function trackHealth(
  attempts: readonly { readonly delivery: Delivery; readonly outcome: DeliveryAttempt }[],
  reads: HealthReads,
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
      /** Moves the record from `state`'s: "unchanged", "lost" (its condition failed) or the transition made. */
      const transition = async (state: DeliveryState) => {
        const current = healthOf(state, url);
        const next = healthAfter(current, url, observations, policy);
        if (next.health === current) return "unchanged" as const;
        return (await store.recordHealth(tenantId, current, next.health)) ? next : ("lost" as const);
      };
      const cached = await reads.cached(tenantId);
      let made = await transition(unsettled(healthOf(cached, url)) ? await reads.fresh(tenantId) : cached);
      if (made === "lost") made = await transition(await reads.fresh(tenantId));
      if (made === "unchanged" || made === "lost") return;
      reads.changed(tenantId);
      const reason = disabledReason(made.health);
      if (reason) disabled.set(id, reason);
      notices.push(...made.notices.map((notice) => ({ ...notice, tenantId })));
    }),
  );
  return { notices, disabled };
}

/** Failing, disabled, or re-enabled and awaiting its first success: anything but healthy. */
function unsettled(health: EndpointHealth | undefined): boolean {
  return Boolean(health?.failingSince || health?.disabledAt || health?.reenabledAt);
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
