import { ENV } from "../contract/resources.ts";
import { requestSchemas, SUBSCRIPTION_ID_MAX } from "../contract/schemas.ts";
import { checkEndpointUrl } from "../domain/endpoint-url.ts";
import type { CredentialChange } from "../domain/receiver-credential.ts";
import { credentialChange } from "../shared/credential-change.ts";
import {
  DuplicateSubscriptionError,
  SubscriptionLimitError,
  SubscriptionNotFoundError,
  subscriptionView,
  type SubscriptionDraft,
} from "../domain/subscriptions.ts";
import { readJsonBody, validate } from "../shared/body.ts";
import { requiredEnv } from "../shared/env.ts";
import { httpRoutes, type HttpRequest } from "../shared/http.ts";
import { addressPolicy } from "../shared/policy.ts";
import { problems, type HttpProblem } from "../shared/problems.ts";
import { configs as secrets, subscriptions as store } from "../shared/stores.ts";

const limit = Number(requiredEnv(ENV.maxSubscriptionsPerTenant));
const schemas = requestSchemas(addressPolicy);

/** `{id}` in the path: a positive integer of at most 10 digits, written plainly. */
function pathId(request: HttpRequest): number {
  const raw = request.pathParameters["id"] ?? "";
  if (!/^[1-9][0-9]{0,9}$/.test(raw) || Number(raw) > SUBSCRIPTION_ID_MAX) {
    throw problems.validation("The subscription id in the path must be a positive integer of at most 10 digits.", {
      errors: [{ field: "id (path)", rule: "subscriptionId", message: "must be a positive integer of at most 10 digits", received: JSON.stringify(raw.slice(0, 40)) }],
    });
  }
  return Number(raw);
}

function draftOf(body: Omit<SubscriptionDraft, "endpointKey" | "authentication"> & { autenticacao?: CredentialChange }): SubscriptionDraft {
  const check = checkEndpointUrl(body.endpoint, addressPolicy);
  // The schema already ran the same check; this only recovers the normalized form.
  if (!check.ok) throw new Error("endpoint passed validation but fails its check");
  return { evento: body.evento, endpoint: body.endpoint, endpointKey: check.normalized, authentication: body.autenticacao, maxPorSegundo: body.maxPorSegundo, cnpjs: body.cnpjs };
}

function idMismatch(pathValue: number, bodyValue: number): HttpProblem {
  return problems.idMismatch(`The body's id ${bodyValue} is not the path's id ${pathValue}.`, {
    errors: [{ field: "id", rule: "matchesPath", message: `must equal the id in the path (${pathValue})`, received: String(bodyValue) }],
  });
}

/** Domain refusals, as the API answers them. */
async function answering<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DuplicateSubscriptionError) {
      throw problems.duplicateSubscription(`Subscription ${error.existingId} already delivers this event to this endpoint.`, {
        existingId: error.existingId,
      });
    }
    if (error instanceof SubscriptionLimitError) {
      throw problems.subscriptionLimit(`A tenant may have at most ${error.limit} subscriptions; delete one first.`, {
        limit: error.limit,
      });
    }
    if (error instanceof SubscriptionNotFoundError) {
      throw problems.notFound(`There is no subscription ${error.id}.`);
    }
    throw error;
  }
}

export const handler = httpRoutes("subscriptions", {
  "POST /portal/api/ext/webhook": async (request) => {
    const body = validate(schemas.subscriptionCreate, readJsonBody(request, { required: true }));
    const created = await answering(async () => {
      const subscription = await store.create(request.tenantId, draftOf(body), limit);
      // Deliveries of this subscription are signed with the tenant's secret: make sure there is one.
      await secrets.ensureSecret(request.tenantId);
      return subscription;
    });
    // Naming an endpoint declares it in use: a disabled one is enabled again.
    const health = await secrets.reenableEndpoint(request.tenantId, created.endpoint);
    return { status: 201, body: subscriptionView(created, health), headers: { location: `/portal/api/ext/webhook/${created.id}` } };
  },

  "GET /portal/api/ext/webhook": async (request) => {
    const [subscriptions, healthOf] = await Promise.all([store.list(request.tenantId), secrets.endpointHealth(request.tenantId)]);
    return { status: 200, body: subscriptions.map((subscription) => subscriptionView(subscription, healthOf(subscription.endpoint))) };
  },

  "PUT /portal/api/ext/webhook/{id}": async (request) => {
    const id = pathId(request);
    const body = validate(schemas.subscriptionChange, readJsonBody(request, { required: true }));
    if (body.id !== id) throw idMismatch(id, body.id);
    const autenticacao = await credentialChange(
      body.autenticacao,
      async () => (await answering(async () => (await store.get(request.tenantId, id)) ?? Promise.reject(new SubscriptionNotFoundError(id)))).authentication,
      "autenticacao",
    );
    const changed = await answering(() => store.change(request.tenantId, id, draftOf({ ...body, autenticacao })));
    // The Portal's natural re-enable: a PUT, even of an unchanged subscription, enables its endpoint again.
    const health = await secrets.reenableEndpoint(request.tenantId, changed.endpoint);
    return { status: 200, body: subscriptionView(changed, health) };
  },

  "DELETE /portal/api/ext/webhook/{id}": async (request) => {
    const id = pathId(request);
    const raw = readJsonBody(request, { required: false });
    if (raw !== undefined) {
      const body = validate(schemas.subscriptionDelete, raw);
      if (body.id !== id) throw idMismatch(id, body.id);
    }
    await answering(() => store.delete(request.tenantId, id));
    return { status: 204 };
  },
});
