import type { EventType } from "./catalogue.ts";
import type { CredentialChange, ReceiverCredential } from "./receiver-credential.ts";

/** The account-level webhook: one URL receiving the event types the tenant chose. */
export interface WebhookConfig {
  readonly tenantId: string;
  readonly webhookUrl: string;
  readonly events: readonly EventType[];
  /** What webhookUrl is sent to authenticate deliveries and test events, if anything. */
  readonly authentication?: ReceiverCredential | undefined;
  /** At most this many deliveries a second to webhookUrl; absent: no limit. */
  readonly maxPerSecond?: number | undefined;
  /** Only events of these CNPJs (full, or 8-character roots) reach webhookUrl; absent: every event. */
  readonly cnpjs?: readonly string[] | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface WebhookConfigChange {
  readonly webhookUrl?: string | undefined;
  readonly events?: readonly EventType[] | undefined;
  /** Absent keeps the credential, null removes it. */
  readonly authentication?: CredentialChange;
  /** A number sets the rate limit, null removes it, absent leaves it as it is. */
  readonly maxPerSecond?: number | null | undefined;
  /** A list sets the CNPJ scope, null removes it, absent leaves it as it is. */
  readonly cnpjs?: readonly string[] | null | undefined;
}

/** The tenant's one signing secret, used for every delivery (Portal subscriptions included). */
export interface SigningSecret {
  readonly secret: string;
  /** Whether the tenant has been shown it in full; it is shown at most once. */
  readonly revealed: boolean;
  readonly createdAt: string;
  /** The secret it replaced, still signing beside it until `until` (a rotation with a grace period). */
  readonly previous?: { readonly secret: string; readonly until: string } | undefined;
}

/** Longest a replaced secret may keep signing: a week. */
export const MAX_SECRET_GRACE_SECONDS = 7 * 24 * 3600;

/** The first PATCH must say where to deliver: a configuration without a URL delivers nothing. */
export class WebhookUrlRequiredError extends Error {
  constructor() {
    super("webhookUrl is required when the configuration is created");
    this.name = "WebhookUrlRequiredError";
  }
}
