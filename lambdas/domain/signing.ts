import { createHmac, randomBytes } from "node:crypto";

/**
 * Each tenant signs its deliveries with one secret, `whsec_` + base64 of 32 random bytes.
 * Every delivery carries two signatures made with it, so receivers can verify either way:
 * - `x-webhook-signature`: hex HMAC-SHA256 of the body, keyed by the whole secret string,
 *   the simplest check a receiver can write with its language's HMAC function;
 * - Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), keyed by
 *   the decoded secret and covering id and timestamp too, so that replays can be refused.
 */
const SECRET_PREFIX = "whsec_";

export function newSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

/** How the API shows a secret after the answer that created it: `whsec_ab...xy`. */
export function maskSigningSecret(secret: string): string {
  // Padding is the same for every secret: the last two characters shown are data.
  const encoded = secret.slice(SECRET_PREFIX.length).replace(/=+$/, "");
  return `${SECRET_PREFIX}${encoded.slice(0, 2)}...${encoded.slice(-2)}`;
}

export interface DeliveryToSign {
  readonly secret: string;
  /** Secrets still in their grace period: the Standard Webhooks header carries a signature for each too. */
  readonly alsoSignedBy?: readonly string[] | undefined;
  readonly webhookId: string;
  readonly timestamp: Date;
  /** Exactly the bytes that will be sent: any re-serialization would break the signature. */
  readonly body: string;
}

export function signDelivery({ secret, alsoSignedBy = [], webhookId, timestamp, body }: DeliveryToSign): Record<string, string> {
  const seconds = Math.floor(timestamp.getTime() / 1000).toString();
  // Standard Webhooks lets the header carry several space-separated signatures: receivers
  // verify with whichever secret they hold, so a rotation with a grace period has no gap.
  const standard = [secret, ...alsoSignedBy].map((key) => `v1,${standardSignature(key, `${webhookId}.${seconds}.${body}`)}`);
  return {
    "x-webhook-signature": createHmac("sha256", secret).update(body).digest("hex"),
    "webhook-id": webhookId,
    "webhook-timestamp": seconds,
    "webhook-signature": standard.join(" "),
  };
}

function standardSignature(secret: string, content: string): string {
  if (!secret.startsWith(SECRET_PREFIX)) throw new TypeError("a signing secret starts with whsec_");
  return createHmac("sha256", Buffer.from(secret.slice(SECRET_PREFIX.length), "base64")).update(content).digest("base64");
}
