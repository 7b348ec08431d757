import { ENV } from "../contract/resources.ts";
import { portalLinkCreateSchema, portalLinksQuerySchema, requestSchemas, secretRegenerateQuerySchema } from "../contract/schemas.ts";
import { randomUUID } from "node:crypto";
import { postWebhook } from "../delivery/attempt.ts";
import { createWebhookSender } from "../delivery/sender.ts";
import { portalLinkUrl } from "../domain/portal-links.ts";
import { maskSigningSecret } from "../domain/signing.ts";
import { webhookEnvelope } from "../domain/webhook-message.ts";
import { credentialView } from "../domain/receiver-credential.ts";
import { WebhookUrlRequiredError, type WebhookConfig } from "../domain/webhook-config.ts";
import { endpointStatus, type EndpointHealth } from "../domain/endpoint-health.ts";
import { readJsonBody, validate } from "../shared/body.ts";
import { credentialChange } from "../shared/credential-change.ts";
import { requiredEnv } from "../shared/env.ts";
import { httpRoutes } from "../shared/http.ts";
import { paged } from "../shared/paging.ts";
import { addressPolicy } from "../shared/policy.ts";
import { problems } from "../shared/problems.ts";
import { configs as store, rateLimits, tenants } from "../shared/stores.ts";

const schemas = requestSchemas(addressPolicy);
const timeoutMs = Number(requiredEnv(ENV.deliveryTimeoutMs));
const testsPerMinute = Number(requiredEnv(ENV.testWebhooksPerMinute));
const sender = createWebhookSender({
  allowLoopback: addressPolicy.allowLoopback,
  ...(process.env["NODE_EXTRA_CA_CERTS"] ? { extraCaFile: process.env["NODE_EXTRA_CA_CERTS"] } : {}),
});

const DEFAULT_PORTAL_LINK_LIMIT = 50;
const PORTAL_LINK_ID = /^[0-9a-f]{64}$/;

/** Test events carry a type outside the catalogue, so receivers can tell them apart. */
const TEST_EVENT_TYPE = "webhook.test";
const TEST_BODY_MAX = 1024;

/**
 * The configuration as the API shows it: `webhookSecret` masked unless this answer reveals it,
 * the options (the receiver credential, masked, the rate limit and the CNPJ scope) only when set.
 */
function configView(config: WebhookConfig, webhookSecret: string | null, health: EndpointHealth | undefined) {
  return {
    webhookUrl: config.webhookUrl,
    webhookSecret,
    events: config.events,
    ...(config.authentication ? { authentication: credentialView(config.authentication) } : {}),
    ...(config.maxPerSecond === undefined ? {} : { maxPerSecond: config.maxPerSecond }),
    ...(config.cnpjs === undefined ? {} : { cnpjs: config.cnpjs }),
    status: endpointStatus(health),
  };
}

const noConfig = () => problems.configNotFound("This account has no webhook configuration yet; create it with PATCH /webhooks/config.");

export const handler = httpRoutes("config", {
  "GET /webhooks/config": async (request) => {
    const [found, healthOf] = await Promise.all([store.get(request.tenantId), store.endpointHealth(request.tenantId)]);
    if (!found) throw noConfig();
    return { status: 200, body: configView(found.config, found.secret ? maskSigningSecret(found.secret.secret) : null, healthOf(found.config.webhookUrl)) };
  },

  "POST /webhooks/config/enable": async (request) => {
    const found = await store.get(request.tenantId);
    if (!found) throw noConfig();
    const health = await store.reenableEndpoint(request.tenantId, found.config.webhookUrl);
    return { status: 200, body: configView(found.config, found.secret ? maskSigningSecret(found.secret.secret) : null, health) };
  },

  "PATCH /webhooks/config": async (request) => {
    const change = validate(schemas.configPatch, readJsonBody(request, { required: true }));
    if (Object.values(change).every((value) => value === undefined)) {
      throw problems.validation("Send at least one of webhookUrl, events, authentication, maxPerSecond, cnpjs.", {
        errors: [{ field: "(body)", rule: "minProperties", message: "must contain at least one of webhookUrl, events, authentication, maxPerSecond, cnpjs" }],
      });
    }
    try {
      const authentication = await credentialChange(change.authentication, async () => (await store.getConfig(request.tenantId))?.authentication, "authentication");
      const patched = await store.patch(request.tenantId, { ...change, authentication });
      const { config, secret } = patched;
      // The signing secret signs every delivery of the tenant: a portal link never sees it, even
      // when its PATCH created it (the tenant reads a new one with its API token: regenerate).
      const revealedSecret = request.caller.access === "token" ? patched.revealedSecret : undefined;
      // Naming the URL declares it in use: a disabled endpoint is enabled again.
      const health =
        change.webhookUrl === undefined
          ? (await store.endpointHealth(request.tenantId))(config.webhookUrl)
          : await store.reenableEndpoint(request.tenantId, config.webhookUrl);
      return {
        status: 200,
        body: configView(config, revealedSecret ?? maskSigningSecret(secret.secret), health),
        // The answer that reveals the secret must not be kept by any cache on the way.
        ...(revealedSecret ? { headers: { "cache-control": "no-store" } } : {}),
      };
    } catch (error) {
      if (error instanceof WebhookUrlRequiredError) {
        throw problems.validation("The first PATCH creates the configuration and must include webhookUrl.", {
          errors: [{ field: "webhookUrl", rule: "required", message: "is required when the configuration is created" }],
        });
      }
      throw error;
    }
  },

  "POST /webhooks/test": async (request) => {
    const found = await store.get(request.tenantId);
    if (!found?.secret) {
      throw problems.configMissing("There is no webhookUrl to test yet; set it with PATCH /webhooks/config.");
    }
    // Each test is an outbound request the caller chooses the target of: bounded per tenant.
    const rate = await rateLimits.take(request.tenantId, "test-webhook", testsPerMinute, 60);
    if (!rate.allowed) {
      throw problems.tooManyRequests(
        `At most ${testsPerMinute} test webhooks a minute; try again in ${rate.retryAfterSeconds} s.`,
        {},
        { "retry-after": String(rate.retryAfterSeconds) },
      );
    }
    const now = new Date();
    const webhookId = randomUUID();
    const body = webhookEnvelope({
      id: `test_${webhookId}`,
      type: TEST_EVENT_TYPE,
      createdAt: now.toISOString(),
      data: { message: "Evento de teste do Fiscal Webhooks" },
    });
    const response = await postWebhook(
      sender,
      {
        url: found.config.webhookUrl,
        secret: found.secret.secret,
        alsoSignedBy: found.secret.previous ? [found.secret.previous.secret] : [],
        webhookId,
        eventType: TEST_EVENT_TYPE,
        attempt: 1,
        timestamp: now,
        body,
        credential: found.config.authentication,
      },
      timeoutMs,
    );
    return {
      status: 200,
      body: {
        success: response.ok,
        statusCode: response.statusCode ?? null,
        body: response.ok || response.statusCode !== undefined ? response.body.slice(0, TEST_BODY_MAX) : (response.failure ?? ""),
      },
    };
  },

  "POST /webhooks/portal-links": async (request) => {
    const { ttlSeconds, readOnly } = validate(portalLinkCreateSchema, readJsonBody(request, { required: false }) ?? {});
    const { token, ...link } = await tenants.issuePortalLink(request.tenantId, { ttlSeconds, readOnly });
    return {
      status: 201,
      body: { url: portalLinkUrl(request.apiBaseUrl, token), token, ...link },
      headers: { "cache-control": "no-store" },
    };
  },

  "GET /webhooks/portal-links": async (request) => {
    const query = validate(portalLinksQuerySchema, { ...request.query });
    const limit = query.limit ?? DEFAULT_PORTAL_LINK_LIMIT;
    const { page, headers } = await paged({ path: "/webhooks/portal-links", query: { limit } }, query.cursor, (cursor) =>
      tenants.listPortalLinks(request.tenantId, limit, cursor),
    );
    return { status: 200, body: page.links, headers };
  },

  "DELETE /webhooks/portal-links/{linkId}": async (request) => {
    const id = request.pathParameters["linkId"] ?? "";
    if (!PORTAL_LINK_ID.test(id)) {
      throw problems.validation("The link id is the `id` POST /webhooks/portal-links returned: 64 hexadecimal digits.", {
        errors: [{ field: "linkId (path)", rule: "pattern", message: "must be 64 lower-case hexadecimal digits", received: JSON.stringify(id.slice(0, 80)) }],
      });
    }
    if (!(await tenants.revokePortalLink(request.tenantId, id))) throw problems.notFound(`This account has no portal link ${id}.`);
    return { status: 204 };
  },

  "POST /webhooks/secret/regenerate": async (request) => {
    const { graceSeconds = 0 } = validate(secretRegenerateQuerySchema, { ...request.query });
    const fresh = await store.regenerateSecret(request.tenantId, graceSeconds);
    return {
      status: 200,
      body: { webhookSecret: fresh.secret, ...(fresh.previous ? { previousSecretValidUntil: fresh.previous.until } : {}) },
      headers: { "cache-control": "no-store" },
    };
  },
});
