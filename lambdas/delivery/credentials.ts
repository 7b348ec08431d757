import type { EventType } from "../domain/catalogue.ts";
import type { DeliveryIdentity } from "../domain/delivery.ts";
import type { CredentialReference, ReceiverCredential } from "../domain/receiver-credential.ts";
import type { Subscription } from "../domain/subscriptions.ts";
import type { WebhookConfig } from "../domain/webhook-config.ts";

/** The reads a batch already shares (see batchTargets): a credential costs no read of its own. */
export interface CredentialReads {
  subscribed(key: { tenantId: string; type: EventType }): Promise<readonly Subscription[]>;
  config(tenantId: string): Promise<WebhookConfig | undefined>;
}

/**
 * The credential a delivery's reference points to now: read at each attempt, so a credential
 * changed or removed since dispatch applies to the next attempt, retries included. A
 * credential goes only to the endpoint it was set for: once its subscription is gone, follows
 * another event type or points elsewhere (or the config's webhookUrl changed), the delivery
 * goes without one. A delivery without a reference reads nothing.
 */
export async function credentialFor(
  reads: CredentialReads,
  delivery: Pick<DeliveryIdentity, "tenantId" | "eventType" | "url"> & { readonly credential?: CredentialReference | undefined },
): Promise<ReceiverCredential | undefined> {
  const reference = delivery.credential;
  if (!reference) return undefined;
  if ("subscription" in reference) {
    const subscriptions = await reads.subscribed({ tenantId: delivery.tenantId, type: delivery.eventType });
    return subscriptions.find((s) => s.id === reference.subscription && s.endpoint === delivery.url)?.authentication;
  }
  const config = await reads.config(delivery.tenantId);
  return config?.webhookUrl === delivery.url ? config.authentication : undefined;
}
