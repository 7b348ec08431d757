import { newSigningSecret } from "../domain/signing.ts";
import {
  WebhookUrlRequiredError,
  type SigningSecret,
  type WebhookConfig,
  type WebhookConfigChange,
} from "../domain/webhook-config.ts";
import { conditionally } from "./conditional.ts";
import { keys } from "./keys.ts";
import { entityOf, IF_ABSENT, IF_PRESENT, TableStore, type Item } from "./table.ts";

export interface ConfigWithSecret {
  readonly config: WebhookConfig;
  /** The full secret when this call is the one that reveals it, otherwise undefined. */
  readonly revealedSecret: string | undefined;
  readonly secret: SigningSecret;
}

/** The account webhook configuration and the tenant's signing secret. */
export class WebhookConfigStore extends TableStore {
  async get(tenantId: string): Promise<{ config: WebhookConfig; secret: SigningSecret | undefined } | undefined> {
    const [config, secret] = await Promise.all([this.getConfig(tenantId), this.getSecret(tenantId)]);
    return config ? { config, secret } : undefined;
  }

  /**
   * PATCH semantics: creates the configuration (webhookUrl required) or changes the fields
   * given. Creating it also makes sure the tenant has a secret, and reveals it if nobody has
   * seen it yet.
   */
  async patch(tenantId: string, change: WebhookConfigChange, now = new Date()): Promise<ConfigWithSecret> {
    const at = now.toISOString();
    const existing = await this.getConfig(tenantId);
    if (!existing) {
      if (change.webhookUrl === undefined) throw new WebhookUrlRequiredError();
      const config: WebhookConfig = {
        tenantId,
        webhookUrl: change.webhookUrl,
        events: change.events ?? [],
        ...(typeof change.maxPerSecond === "number" ? { maxPerSecond: change.maxPerSecond } : {}),
        createdAt: at,
        updatedAt: at,
      };
      const creation = await conditionally(
        this.table.put({ Item: { ...keys.webhookConfig(tenantId), ...config }, ConditionExpression: IF_ABSENT }),
      );
      if (creation.written) {
        const secret = await this.ensureSecret(tenantId, now);
        const revealedSecret = await this.reveal(tenantId, secret);
        return { config, secret, revealedSecret };
      }
      // A concurrent first PATCH created it: apply ours as a change.
    }
    const sets = ["updatedAt = :now"];
    const values: Record<string, unknown> = { ":now": at };
    if (change.webhookUrl !== undefined) {
      sets.push("webhookUrl = :url");
      values[":url"] = change.webhookUrl;
    }
    if (change.events !== undefined) {
      sets.push("events = :events");
      values[":events"] = change.events;
    }
    if (typeof change.maxPerSecond === "number") {
      sets.push("maxPerSecond = :rate");
      values[":rate"] = change.maxPerSecond;
    }
    const { Attributes } = await this.table.update({
      Key: keys.webhookConfig(tenantId),
      UpdateExpression: `SET ${sets.join(", ")}${change.maxPerSecond === null ? " REMOVE maxPerSecond" : ""}`,
      ConditionExpression: IF_PRESENT,
      ExpressionAttributeValues: values,
      ReturnValues: "ALL_NEW",
    });
    const secret = await this.ensureSecret(tenantId, now);
    return { config: toConfig(Attributes ?? {}), secret, revealedSecret: undefined };
  }

  /** Replaces the secret: the old one stops signing with the next delivery. Returns the new one. */
  /**
   * A new secret, signing from now on. With a grace period the one it replaces keeps signing
   * beside it until the period ends, so receivers can switch without a gap; without one it
   * stops at once.
   */
  async regenerateSecret(tenantId: string, graceSeconds = 0, now = new Date()): Promise<SigningSecret> {
    const current = graceSeconds > 0 ? await this.getSecret(tenantId, now) : undefined;
    const fresh: SigningSecret = {
      secret: newSigningSecret(),
      revealed: true,
      createdAt: now.toISOString(),
      ...(current ? { previous: { secret: current.secret, until: new Date(now.getTime() + graceSeconds * 1000).toISOString() } } : {}),
    };
    await this.table.put({ Item: { ...keys.signingSecret(tenantId), ...fresh } });
    return fresh;
  }

  /** The tenant's secret, created on first need (a Portal subscription needs one to be signed). */
  async ensureSecret(tenantId: string, now = new Date()): Promise<SigningSecret> {
    const fresh: SigningSecret = { secret: newSigningSecret(), revealed: false, createdAt: now.toISOString() };
    const creation = await conditionally(
      this.table.put({ Item: { ...keys.signingSecret(tenantId), ...fresh }, ConditionExpression: IF_ABSENT }),
    );
    if (creation.written) return fresh;
    const existing = await this.getSecret(tenantId);
    if (!existing) throw new Error(`the signing secret of tenant ${tenantId} blocked its creation yet cannot be read`);
    return existing;
  }

  /** The tenant's secret, with the one it replaced while that one's grace period lasts. */
  async getSecret(tenantId: string, now = new Date()): Promise<SigningSecret | undefined> {
    const item = await this.table.get(keys.signingSecret(tenantId));
    if (!item) return undefined;
    const previous = item["previous"] as SigningSecret["previous"];
    return {
      secret: String(item["secret"]),
      revealed: item["revealed"] === true,
      createdAt: String(item["createdAt"]),
      ...(previous && Date.parse(previous.until) > now.getTime() ? { previous } : {}),
    };
  }

  /**
   * The configuration alone. The fan-out reads it eventually consistent (half the price; a
   * change reaches deliveries within about a second); the API reads its own writes.
   */
  async getConfig(tenantId: string, consistent = true): Promise<WebhookConfig | undefined> {
    const item = await this.table.get(keys.webhookConfig(tenantId), consistent);
    return item ? toConfig(item) : undefined;
  }

  /** Marks the secret as shown; only the call that flips the flag gets the full secret. */
  private async reveal(tenantId: string, secret: SigningSecret): Promise<string | undefined> {
    if (secret.revealed) return undefined;
    const flip = await conditionally(
      this.table.update({
        Key: keys.signingSecret(tenantId),
        UpdateExpression: "SET revealed = :yes",
        ConditionExpression: "secret = :secret AND revealed = :no",
        ExpressionAttributeValues: { ":yes": true, ":no": false, ":secret": secret.secret },
      }),
    );
    return flip.written ? secret.secret : undefined;
  }
}

const toConfig = (item: Item) =>
  entityOf<WebhookConfig>(item, { tenantId: true, webhookUrl: true, events: true, maxPerSecond: true, createdAt: true, updatedAt: true });

