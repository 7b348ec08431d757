import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { EventType } from "../domain/catalogue.ts";
import { newSigningSecret } from "../domain/signing.ts";
import {
  WebhookUrlRequiredError,
  type SigningSecret,
  type WebhookConfig,
  type WebhookConfigChange,
} from "../domain/webhook-config.ts";
import { keys } from "./keys.ts";

export interface ConfigWithSecret {
  readonly config: WebhookConfig;
  /** The full secret when this call is the one that reveals it, otherwise undefined. */
  readonly revealedSecret: string | undefined;
  readonly secret: SigningSecret;
}

/** The account webhook configuration and the tenant's signing secret. */
export class WebhookConfigStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

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
        createdAt: at,
        updatedAt: at,
      };
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...keys.webhookConfig(tenantId), ...config },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
        const secret = await this.ensureSecret(tenantId, now);
        const revealedSecret = await this.reveal(tenantId, secret);
        return { config, secret, revealedSecret };
      } catch (error) {
        // A concurrent first PATCH created it: apply ours as a change.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
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
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.webhookConfig(tenantId),
        UpdateExpression: `SET ${sets.join(", ")}`,
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: values,
        ReturnValues: "ALL_NEW",
      }),
    );
    const secret = await this.ensureSecret(tenantId, now);
    return { config: toConfig(Attributes ?? {}), secret, revealedSecret: undefined };
  }

  /** Replaces the secret: the old one stops signing with the next delivery. Returns the new one. */
  async regenerateSecret(tenantId: string, now = new Date()): Promise<string> {
    const secret = newSigningSecret();
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.signingSecret(tenantId), secret, revealed: true, createdAt: now.toISOString() },
      }),
    );
    return secret;
  }

  /** The tenant's secret, created on first need (a Portal subscription needs one to be signed). */
  async ensureSecret(tenantId: string, now = new Date()): Promise<SigningSecret> {
    const fresh: SigningSecret = { secret: newSigningSecret(), revealed: false, createdAt: now.toISOString() };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.signingSecret(tenantId), ...fresh },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return fresh;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.getSecret(tenantId);
      if (!existing) throw error;
      return existing;
    }
  }

  async getSecret(tenantId: string): Promise<SigningSecret | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.signingSecret(tenantId), ConsistentRead: true }),
    );
    return Item
      ? { secret: String(Item["secret"]), revealed: Item["revealed"] === true, createdAt: String(Item["createdAt"]) }
      : undefined;
  }

  /**
   * The configuration alone. The fan-out reads it eventually consistent (half the price; a
   * change reaches deliveries within about a second); the API reads its own writes.
   */
  async getConfig(tenantId: string, consistent = true): Promise<WebhookConfig | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.webhookConfig(tenantId), ConsistentRead: consistent }),
    );
    return Item ? toConfig(Item) : undefined;
  }

  /** Marks the secret as shown; only the call that flips the flag gets the full secret. */
  private async reveal(tenantId: string, secret: SigningSecret): Promise<string | undefined> {
    if (secret.revealed) return undefined;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.signingSecret(tenantId),
          UpdateExpression: "SET revealed = :yes",
          ConditionExpression: "secret = :secret AND revealed = :no",
          ExpressionAttributeValues: { ":yes": true, ":no": false, ":secret": secret.secret },
        }),
      );
      return secret.secret;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}

function toConfig(item: Record<string, unknown>): WebhookConfig {
  return {
    tenantId: String(item["tenantId"]),
    webhookUrl: String(item["webhookUrl"]),
    events: (item["events"] as EventType[] | undefined) ?? [],
    createdAt: String(item["createdAt"]),
    updatedAt: String(item["updatedAt"]),
  };
}

