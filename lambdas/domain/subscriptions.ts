import type { EventType } from "./catalogue.ts";
import { endpointSituacao, type EndpointHealth } from "./endpoint-health.ts";
import { portalCredentialView, type CredentialChange, type ReceiverCredential } from "./receiver-credential.ts";

/** A Portal Único subscription: deliver events of one type to one endpoint. */
export interface Subscription {
  readonly id: number;
  readonly tenantId: string;
  readonly evento: EventType;
  /** As the tenant wrote it. */
  readonly endpoint: string;
  /** WHATWG serialization of the endpoint: what uniqueness is judged on. */
  readonly endpointKey: string;
  /** What the endpoint is sent to authenticate the delivery, if anything. */
  readonly authentication?: ReceiverCredential | undefined;
  /** At most this many deliveries a second to the endpoint; absent: no limit. */
  readonly maxPorSegundo?: number | undefined;
  /** Only events of these CNPJs (full, or 8-character roots) reach the endpoint; absent: every event. */
  readonly cnpjs?: readonly string[] | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface SubscriptionDraft {
  readonly evento: EventType;
  readonly endpoint: string;
  readonly endpointKey: string;
  /** Creating: the credential, if any (null: none). Changing: absent keeps it, null removes it. */
  readonly authentication?: CredentialChange;
  /**
   * The rate limit: a number sets it, null removes it, absent leaves it as it is (a client of
   * the original document never sends it). A new subscription has none unless it sets one.
   */
  readonly maxPorSegundo?: number | null | undefined;
  /** The CNPJ scope, normalized: a list sets it, null removes it, absent leaves it as it is. */
  readonly cnpjs?: readonly string[] | null | undefined;
}

/**
 * The view both the API and its documentation promise, `{id, evento, endpoint}`, plus its
 * endpoint's `situacao` and the options set: the credential (masked), the rate limit and the CNPJ scope.
 */
export function subscriptionView(subscription: Subscription, health: EndpointHealth | undefined) {
  return {
    id: subscription.id,
    evento: subscription.evento,
    endpoint: subscription.endpoint,
    situacao: endpointSituacao(health),
    ...(subscription.authentication ? { autenticacao: portalCredentialView(subscription.authentication) } : {}),
    ...(subscription.maxPorSegundo === undefined ? {} : { maxPorSegundo: subscription.maxPorSegundo }),
    ...(subscription.cnpjs === undefined ? {} : { cnpjs: subscription.cnpjs }),
  };
}

export class DuplicateSubscriptionError extends Error {
  constructor(readonly existingId: number) {
    super(`subscription ${existingId} already delivers this event to this endpoint`);
    this.name = "DuplicateSubscriptionError";
  }
}

export class SubscriptionLimitError extends Error {
  constructor(readonly limit: number) {
    super(`a tenant may have at most ${limit} subscriptions`);
    this.name = "SubscriptionLimitError";
  }
}

export class SubscriptionNotFoundError extends Error {
  constructor(readonly id: number) {
    super(`no subscription ${id}`);
    this.name = "SubscriptionNotFoundError";
  }
}

/**
 * Default per-tenant cap: enough for one event to fan out to 1,000 endpoints (a platform with a
 * subscription per customer company); each create reads the tenant's slots and subscriptions
 * (a few hundred KB at the cap), which keeps the cap exact under concurrency.
 */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_TENANT = 1000;
