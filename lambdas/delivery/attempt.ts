import { isDue, type Delivery, type DeliveryAttempt } from "../domain/delivery.ts";
import { nextRetryDelay, type RetrySchedule } from "../domain/retry-schedule.ts";
import { credentialHeaders, type ReceiverCredential } from "../domain/receiver-credential.ts";
import { webhookHeaders, type WebhookToSign } from "../domain/webhook-message.ts";
import type { WebhookResponse, WebhookSender } from "./sender.ts";

/**
 * Signs a webhook with every delivery header and POSTs it, with the receiver's credential
 * when it has one: deliveries and test events alike. The product's own headers come last, so
 * no credential can stand in for them (validation refuses their names anyway).
 */
export function postWebhook(
  sender: WebhookSender,
  webhook: WebhookToSign & { readonly url: string; readonly credential?: ReceiverCredential | undefined },
  timeoutMs: number,
): Promise<WebhookResponse> {
  const headers = { ...credentialHeaders(webhook.credential), ...webhookHeaders(webhook) };
  return sender.send({ url: webhook.url, body: webhook.body, timeoutMs, headers });
}

export interface AttemptSetup {
  readonly sender: WebhookSender;
  readonly schedule: RetrySchedule;
  readonly timeoutMs: number;
  readonly now?: () => Date;
  /** Jitter source for the retry delay. */
  readonly random?: () => number;
}

/** What the worker learnt about the delivery's tenant and endpoint before attempting it. */
export interface AttemptContext {
  /** The tenant's signing secret, if it has one. */
  readonly secret: string | undefined;
  /** The secret it replaced, while that one's grace period lasts. */
  readonly previousSecret?: string | undefined;
  /** Why the delivery is no longer wanted, if it is not: nothing is sent. */
  readonly unwanted?: string | undefined;
  /** Why its endpoint is disabled, if it is: nothing is sent and the delivery is set aside. */
  readonly disabled?: string | undefined;
  /** What the endpoint is sent to authenticate the delivery, read for this attempt. */
  readonly credential?: ReceiverCredential | undefined;
}

/**
 * One attempt of a delivery. `step` is the attempt's place in the current schedule (1-based;
 * a retry from the dead-letter queue starts a fresh schedule), while the attempt number the
 * receiver and the logs see carries on from the attempts made before.
 */
export async function attemptDelivery(
  setup: AttemptSetup,
  delivery: Delivery,
  step: number,
  { secret, previousSecret, unwanted, disabled, credential }: AttemptContext,
): Promise<DeliveryAttempt> {
  const now = setup.now ?? (() => new Date());
  const attempt = delivery.attemptsBefore + step;
  const startedAt = now();
  if (!isDue(delivery, startedAt)) return { kind: "deferred", until: String(delivery.notBefore) };
  if (unwanted !== undefined) return { kind: "canceled", attempt: attempt - 1, reason: unwanted };
  if (disabled !== undefined) return { kind: "set-aside", attempt: attempt - 1, reason: disabled };
  const response = secret
    ? await postWebhook(
        setup.sender,
        { url: delivery.url, secret, alsoSignedBy: previousSecret ? [previousSecret] : [], webhookId: delivery.deliveryId, eventType: delivery.eventType, attempt, timestamp: startedAt, body: delivery.body, credential },
        setup.timeoutMs,
      )
    : undefined;
  if (response?.ok) {
    return { kind: "delivered", attempt, statusCode: response.statusCode, deliveredAt: now().toISOString(), responseMs: response.durationMs };
  }
  const failure = {
    reason: response ? (response.failure ?? "delivery failed") : "the tenant has no signing secret",
    statusCode: response?.statusCode,
    failedAt: startedAt.toISOString(),
    responseMs: response?.durationMs,
  };
  const delaySeconds = nextRetryDelay(setup.schedule, step, response?.retryAfterSeconds, setup.random);
  return delaySeconds === undefined ? { kind: "exhausted", attempt, failure } : { kind: "retry-at", attempt, failure, delaySeconds };
}
