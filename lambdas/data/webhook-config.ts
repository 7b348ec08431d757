import { reenabled, type EndpointHealth } from "../domain/endpoint-health.ts";
import { newSigningSecret } from "../domain/signing.ts";
import {
  WebhookUrlRequiredError,
  type SigningSecret,
  type WebhookConfig,
  type WebhookConfigChange,
} from "../domain/webhook-config.ts";
import { conditionally } from "./conditional.ts";
import { keys } from "./keys.ts";
import { attributeUpdate, entityOf, IF_ABSENT, IF_PRESENT, TableStore, type Item } from "./table.ts";

export interface DeliveryState {
  readonly secret: SigningSecret | undefined;
  /** Endpoint health records by their attribute (keys.endpointHealth). */
  readonly endpoints: ReadonlyMap<string, EndpointHealth>;
}

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
        ...(change.authentication ? { authentication: change.authentication } : {}),
        ...(typeof change.maxPerSecond === "number" ? { maxPerSecond: change.maxPerSecond } : {}),
        ...(change.cnpjs ? { cnpjs: change.cnpjs } : {}),
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
    const { Attributes } = await this.table.update({
      Key: keys.webhookConfig(tenantId),
      ...attributeUpdate(
        { updatedAt: at, ...(change.webhookUrl === undefined ? {} : { webhookUrl: change.webhookUrl }), ...(change.events === undefined ? {} : { events: change.events }) },
        { authentication: change.authentication, maxPerSecond: change.maxPerSecond, cnpjs: change.cnpjs },
      ),
      ConditionExpression: IF_PRESENT,
      ReturnValues: "ALL_NEW",
    });
    const secret = await this.ensureSecret(tenantId, now);
    return { config: toConfig(Attributes ?? {}), secret, revealedSecret: undefined };
  }

  /**
   * A new secret, signing from now on. With a grace period the one it replaces keeps signing
   * beside it until the period ends, so receivers can switch without a gap; without one it
   * stops at once. (An update, not a put: the item also holds the endpoints' health.)
   */
  async regenerateSecret(tenantId: string, graceSeconds = 0, now = new Date()): Promise<SigningSecret> {
    const current = graceSeconds > 0 ? await this.getSecret(tenantId, now) : undefined;
    const fresh: SigningSecret = {
      secret: newSigningSecret(),
      revealed: true,
      createdAt: now.toISOString(),
      ...(current ? { previous: { secret: current.secret, until: new Date(now.getTime() + graceSeconds * 1000).toISOString() } } : {}),
    };
    await this.table.update({
      Key: keys.signingSecret(tenantId),
      UpdateExpression: `SET secret = :secret, revealed = :revealed, createdAt = :createdAt${fresh.previous ? ", previous = :previous" : " REMOVE previous"}`,
      ExpressionAttributeValues: {
        ":secret": fresh.secret,
        ":revealed": fresh.revealed,
        ":createdAt": fresh.createdAt,
        ...(fresh.previous ? { ":previous": fresh.previous } : {}),
      },
    });
    return fresh;
  }

  /** The tenant's secret, created on first need (a Portal subscription needs one to be signed). */
  async ensureSecret(tenantId: string, now = new Date()): Promise<SigningSecret> {
    const fresh: SigningSecret = { secret: newSigningSecret(), revealed: false, createdAt: now.toISOString() };
    const creation = await conditionally(
      this.table.update({
        Key: keys.signingSecret(tenantId),
        UpdateExpression: "SET secret = :secret, revealed = :revealed, createdAt = :createdAt",
        ConditionExpression: "attribute_not_exists(secret)",
        ExpressionAttributeValues: { ":secret": fresh.secret, ":revealed": fresh.revealed, ":createdAt": fresh.createdAt },
      }),
    );
    if (creation.written) return fresh;
    const existing = await this.getSecret(tenantId);
    if (!existing) throw new Error(`the signing secret of tenant ${tenantId} blocked its creation yet cannot be read`);
    return existing;
  }

  /** The tenant's secret, with the one it replaced while that one's grace period lasts. */
  async getSecret(tenantId: string, now = new Date()): Promise<SigningSecret | undefined> {
    return (await this.deliveryState(tenantId, now)).secret;
  }

  /**
   * What deliver needs of a tenant, in one read: the secret and the health of every endpoint
   * that has ever failed (see domain/endpoint-health.ts). `consistent: false` halves the read's
   * price where the caller already accepts an older copy (deliver's warm cache).
   */
  async deliveryState(tenantId: string, now = new Date(), consistent = true): Promise<DeliveryState> {
    const item = await this.table.get(keys.signingSecret(tenantId), consistent);
    const endpoints = new Map<string, EndpointHealth>();
    for (const [name, value] of Object.entries(item ?? {})) {
      if (name.startsWith(keys.endpointHealthPrefix)) endpoints.set(name, value as EndpointHealth);
    }
    if (typeof item?.["secret"] !== "string") return { secret: undefined, endpoints };
    const previous = item["previous"] as SigningSecret["previous"];
    return {
      secret: {
        secret: item["secret"],
        revealed: item["revealed"] === true,
        createdAt: String(item["createdAt"]),
        ...(previous && Date.parse(previous.until) > now.getTime() ? { previous } : {}),
      },
      endpoints,
    };
  }

  /**
   * Moves an endpoint's health record from `from` (as the writer read it) to `to`. Only one of
   * several writers starting from the same record wins; the others learn it (false) and leave
   * the transition, and whatever it tells the tenant, to the winner.
   */
  async recordHealth(tenantId: string, from: EndpointHealth | undefined, to: EndpointHealth | undefined): Promise<boolean> {
    const url = to?.url ?? from?.url;
    if (url === undefined || from === to) return false;
    const names = { "#health": keys.endpointHealth(url), ...(from ? { "#at": "at" } : {}) };
    const { written } = await conditionally(
      this.table.update({
        Key: keys.signingSecret(tenantId),
        UpdateExpression: to ? "SET #health = :to" : "REMOVE #health",
        ConditionExpression: from ? "#health.#at = :from" : "attribute_exists(secret) AND attribute_not_exists(#health)",
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...(to ? { ":to": to } : {}), ...(from ? { ":from": from.at } : {}) },
      }),
    );
    return written;
  }

  /** The health of one endpoint of the tenant (what the API shows of it). */
  async endpointHealth(tenantId: string): Promise<(url: string) => EndpointHealth | undefined> {
    const { endpoints } = await this.deliveryState(tenantId);
    return (url) => endpoints.get(keys.endpointHealth(url));
  }

  /**
   * The tenant re-enables an endpoint: a disabled or failing one starts afresh (its retried
   * dead letters and new events are delivered again). Returns its health now.
   */
  async reenableEndpoint(tenantId: string, url: string, now = new Date()): Promise<EndpointHealth | undefined> {
    // Deliveries may move the record at the same moment: read again and retry on a lost race.
    for (let tries = 0; tries < 5; tries++) {
      const current = (await this.endpointHealth(tenantId))(url);
      const next = reenabled(current, url, now);
      if (next === current || (await this.recordHealth(tenantId, current, next))) return next;
    }
    throw new Error("the endpoint's health kept changing while it was being re-enabled");
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
  entityOf<WebhookConfig>(item, { tenantId: true, webhookUrl: true, events: true, authentication: true, maxPerSecond: true, cnpjs: true, createdAt: true, updatedAt: true });

