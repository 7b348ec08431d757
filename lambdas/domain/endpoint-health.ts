/**
 * The health of one endpoint (a tenant's URL, whatever subscriptions name it). The product
 * records transitions only, never each success: an endpoint nobody has seen fail has no
 * record at all, which is what keeps health tracking free on the hot path.
 *
 *   (none) ──failure──▶ failing ──failing for the whole period, or 410 Gone──▶ disabled
 *     ▲                   │                                                   │
 *     └─────success───────┘                     re-enabled through the API ◀──┘
 *                                               (a fresh start: reenabledAt set; the first
 *                                                success after it is a recovery)
 */
export interface EndpointHealth {
  /** The endpoint as deliveries name it. */
  readonly url: string;
  /** The first failure since the last success: the current streak's start. */
  readonly failingSince?: string | undefined;
  /** Why the streak's first failure failed. */
  readonly failure?: string | undefined;
  /** The success that ended the last failure streak (successes of a healthy endpoint are not recorded). */
  readonly lastSuccessAt?: string | undefined;
  readonly disabledAt?: string | undefined;
  readonly disabledReason?: string | undefined;
  /** Re-enabled after being disabled, and not yet delivered to since. */
  readonly reenabledAt?: string | undefined;
  /** When this record was last written: the version concurrent writers condition on. */
  readonly at: string;
}

/** What the tenant sees of an endpoint's health, in the account API's words. */
export interface EndpointStatus {
  readonly state: "enabled" | "failing" | "disabled";
  /** When the state began: the first failure of the streak, or the disabling. */
  readonly since?: string | undefined;
  readonly reason?: string | undefined;
  /** The success that ended the last failure streak, when there was one. */
  readonly lastSuccessAt?: string | undefined;
}

export function endpointStatus(health: EndpointHealth | undefined): EndpointStatus {
  const lastSuccessAt = health?.lastSuccessAt;
  if (health?.disabledAt) return { state: "disabled", since: health.disabledAt, reason: health.disabledReason, lastSuccessAt };
  if (health?.failingSince) return { state: "failing", since: health.failingSince, reason: health.failure, lastSuccessAt };
  return { state: "enabled", lastSuccessAt };
}

const SITUACOES = { enabled: "ativa", failing: "falhando", disabled: "desativada" } as const;

/** The same, in the Portal API's words (`situacao`). */
export function endpointSituacao(health: EndpointHealth | undefined) {
  const { state, since, reason, lastSuccessAt } = endpointStatus(health);
  return { codigo: SITUACOES[state], desde: since, motivo: reason, ultimoSucesso: lastSuccessAt };
}

/** One attempt's result as health sees it. A delivery that sent nothing tells nothing about the endpoint. */
export type EndpointObservation =
  | { readonly kind: "success"; readonly at: string }
  | { readonly kind: "failure"; readonly at: string; readonly reason: string; readonly statusCode?: number | undefined };

/** Something the tenant is told about (as an operational event). */
export type EndpointNotice =
  | { readonly kind: "disabled"; readonly url: string; readonly reason: string; readonly since: string; readonly failingSince?: string | undefined }
  | { readonly kind: "recovered"; readonly url: string; readonly at: string; readonly reenabledAt: string };

export interface HealthPolicy {
  /** How long an endpoint may fail without a single success before it is disabled. */
  readonly disableAfterSeconds: number;
}

/** Default period of continuous failure before an endpoint is disabled: five days. */
export const DEFAULT_DISABLE_AFTER_SECONDS = 5 * 24 * 3600;

/** The reason a dead letter records when its endpoint was disabled. */
export const ENDPOINT_DISABLED = "endpoint disabled";

/**
 * The record after a batch's observations of one endpoint, in the order they were made, and
 * what the tenant should be told. Returns the record unchanged (the same object) when nothing
 * worth a write happened, so callers write transitions only.
 */
export function healthAfter(
  current: EndpointHealth | undefined,
  url: string,
  observations: readonly EndpointObservation[],
  policy: HealthPolicy,
): { readonly health: EndpointHealth | undefined; readonly notices: readonly EndpointNotice[] } {
  let health = current;
  const notices: EndpointNotice[] = [];
  for (const observation of observations) {
    // A disabled endpoint stays so until the tenant re-enables it, whatever answers still in flight say.
    if (health?.disabledAt) break;
    if (observation.kind === "success") {
      if (!health) continue;
      if (health.reenabledAt) notices.push({ kind: "recovered", url, at: observation.at, reenabledAt: health.reenabledAt });
      health = health.failingSince || health.reenabledAt ? { url, lastSuccessAt: observation.at, at: observation.at } : health;
      continue;
    }
    const gone = observation.statusCode === 410;
    const failingSince = health?.failingSince ?? observation.at;
    const failedFor = (Date.parse(observation.at) - Date.parse(failingSince)) / 1000;
    if (gone || failedFor >= policy.disableAfterSeconds) {
      const reason = gone ? "the endpoint answered 410 Gone" : `failed continuously since ${failingSince}`;
      health = { url, failingSince, failure: health?.failure ?? observation.reason, lastSuccessAt: health?.lastSuccessAt, disabledAt: observation.at, disabledReason: reason, at: observation.at };
      notices.push({ kind: "disabled", url, reason, since: observation.at, failingSince });
    } else if (!health?.failingSince) {
      health = { ...health, url, failingSince, failure: observation.reason, at: observation.at };
    }
  }
  return { health, notices };
}

/**
 * The record after the tenant re-enables the endpoint: a disabled or failing one starts
 * afresh (a disabled one is watched for its first success, a recovery); a healthy one is
 * left as it is (the same object).
 */
export function reenabled(current: EndpointHealth | undefined, url: string, now: Date): EndpointHealth | undefined {
  if (!current?.disabledAt && !current?.failingSince) return current;
  const at = now.toISOString();
  return { url, lastSuccessAt: current.lastSuccessAt, ...(current.disabledAt || current.reenabledAt ? { reenabledAt: at } : {}), at };
}

