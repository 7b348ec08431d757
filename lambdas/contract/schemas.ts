import { z } from "zod";
import { EVENT_CATALOGUE, EVENT_KINDS, EVENT_TYPES } from "../domain/catalogue.ts";
import type { AddressPolicy } from "../domain/addresses.ts";
import { checkEndpointUrl, ENDPOINT_MAX_LENGTH } from "../domain/endpoint-url.ts";
import { MAX_RATE_PER_SECOND } from "../domain/delivery.ts";
import { MAX_SECRET_GRACE_SECONDS } from "../domain/webhook-config.ts";
import { CNPJ_FORM, CNPJ_ROOT_FORM, MAX_CNPJ_SCOPE, parseCnpjScopeEntry } from "../domain/cnpj.ts";
import { DOCUMENT_KEY_LENGTH } from "../domain/document-key.ts";
import { MAX_SEQUENCE } from "../domain/fiscal-event.ts";
import { PORTAL_LINK_TTL } from "../domain/portal-links.ts";
import {
  CREDENTIAL_MASK,
  CREDENTIAL_VALUE_MAX,
  credentialPartProblem,
  fromPortal,
  HEADER_NAME_MAX,
  type CredentialPart,
} from "../domain/receiver-credential.ts";

/**
 * Request and response schemas of the HTTP API: handlers validate with them and the
 * OpenAPI document is generated from them, so the two cannot drift apart.
 */
export const SUBSCRIPTION_ID_MAX = 9_999_999_999;

export const subscriptionIdSchema = z
  .number({ error: "must be a number" })
  .int({ error: "must be a whole number" })
  .min(1, { error: "must be a positive integer" })
  .max(SUBSCRIPTION_ID_MAX, { error: "must have at most 10 digits" })
  .meta({ description: "Subscription identifier, Number(10)", examples: [8] });

export const eventTypeSchema = z
  .enum(EVENT_TYPES, { error: "must be one of the event types listed by GET /webhooks/events" })
  .meta({ description: "Event identifier, Text(40), one of the event catalogue", examples: ["invoice.authorized"] });

/** An endpoint URL under the delivery policy in force (loopback only in the local runtime). */
function endpointSchema(policy: AddressPolicy) {
  return z
    .string({ error: "must be a string" })
    .superRefine((value, ctx) => {
      const check = checkEndpointUrl(value, policy);
      if (!check.ok) ctx.addIssue({ code: "custom", message: check.message, params: { rule: check.rule } });
    })
    .meta({
      description: "Absolute https URL notified when the event occurs, Text(500)",
      format: "uri",
      maxLength: ENDPOINT_MAX_LENGTH,
      pattern: "^https://",
      examples: ["https://api.suaempresa.com/webhooks"],
    });
}

const eventListSchema = z
  .array(eventTypeSchema, { error: "must be a list of event types" })
  .max(EVENT_TYPES.length, { error: `must list at most ${EVENT_TYPES.length} event types` })
  .superRefine((events, ctx) => {
    const seen = new Set<string>();
    events.forEach((event, index) => {
      if (seen.has(event)) {
        ctx.addIssue({ code: "custom", message: `lists ${event} twice`, path: [index], params: { rule: "unique" } });
      }
      seen.add(event);
    });
  })
  .meta({ description: "Event types delivered to webhookUrl", examples: [["invoice.authorized", "invoice.rejected"]] });

const instant = z.iso.datetime();

export const situacaoSchema = z
  .object({
    codigo: z.enum(["ativa", "falhando", "desativada"]),
    desde: instant.optional().meta({ description: "Início da sequência de falhas, ou da desativação" }),
    motivo: z.string().optional(),
    ultimoSucesso: instant.optional().meta({ description: "O sucesso que encerrou a última sequência de falhas" }),
  })
  .meta({
    title: "Situacao",
    description:
      "Saúde do endpoint (por URL): desativado após falhar continuamente pelo período configurado (5 dias) ou ao responder 410 Gone; um PUT da assinatura o reativa",
  });

/** One part of a receiver credential, under its rules (lambdas/domain/receiver-credential.ts). */
function credentialPart(part: CredentialPart, description: string, examples?: readonly string[]) {
  const max = part === "headerName" ? HEADER_NAME_MAX : CREDENTIAL_VALUE_MAX;
  return z
    .string({ error: "must be a string" })
    .superRefine((value, ctx) => {
      const problem = credentialPartProblem(part, value);
      if (problem) ctx.addIssue({ code: "custom", message: problem.message, params: { rule: problem.rule } });
    })
    .meta({ description, minLength: 1, maxLength: max, ...(examples ? { examples } : {}) });
}

const WRITE_ONLY = "Write-only: reads show it as " + CREDENTIAL_MASK;

/** The account API's receiver credential (`authentication`). */
const authenticationSchema = z
  .discriminatedUnion(
    "type",
    [
      z.strictObject({
        type: z.literal("basic"),
        username: credentialPart("username", "Basic username (no ':')", ["fiscal"]),
        password: credentialPart("password", WRITE_ONLY).meta({ writeOnly: true }),
      }),
      z.strictObject({ type: z.literal("bearer"), token: credentialPart("token", `Bearer token, printable ASCII. ${WRITE_ONLY}`).meta({ writeOnly: true }) }),
      z.strictObject({
        type: z.literal("header"),
        name: credentialPart("headerName", "Header name (an HTTP token; not authorization, hop-by-hop or signature headers)", ["X-Api-Key"]),
        value: credentialPart("headerValue", `Header value, printable ASCII. ${WRITE_ONLY}`).meta({ writeOnly: true }),
      }),
    ],
    { error: "must be an object with type basic, bearer or header" },
  )
  .meta({
    title: "ReceiverAuthentication",
    description: "Sent on every delivery to webhookUrl and on the test webhook: Authorization Basic or Bearer, or one custom header. null removes it; absent leaves it unchanged",
  });

/** The Portal API's receiver credential (`autenticacao`), read into the account API's form. */
const autenticacaoSchema = z
  .discriminatedUnion(
    "tipo",
    [
      z.strictObject({
        tipo: z.literal("basic"),
        usuario: credentialPart("username", "Basic username (no ':')", ["fiscal"]),
        senha: credentialPart("password", `Basic password. ${WRITE_ONLY}`).meta({ writeOnly: true }),
      }),
      z.strictObject({ tipo: z.literal("bearer"), token: credentialPart("token", `Bearer token, printable ASCII. ${WRITE_ONLY}`).meta({ writeOnly: true }) }),
      z.strictObject({
        tipo: z.literal("cabecalho"),
        nome: credentialPart("headerName", "Header name (an HTTP token; not authorization, hop-by-hop or signature headers)", ["X-Api-Key"]),
        valor: credentialPart("headerValue", `Header value, printable ASCII. ${WRITE_ONLY}`).meta({ writeOnly: true }),
      }),
    ],
    { error: "must be an object with tipo basic, bearer or cabecalho" },
  )
  .transform(fromPortal)
  .meta({
    title: "Autenticacao",
    description: "Sent on every delivery to this endpoint: Authorization Basic (usuario, senha) or Bearer, or one custom header (cabecalho: nome, valor). On PUT, null removes it; absent leaves it unchanged",
  });

const RATE_RULE = `must be a whole number of deliveries per second from 1 to ${MAX_RATE_PER_SECOND}, or null for no limit`;

/** An endpoint's rate limit in a request: a number sets it, null removes it, absent leaves it as it is. */
const rateLimitSchema = z
  .number({ error: RATE_RULE })
  .int({ error: RATE_RULE })
  .min(1, { error: RATE_RULE })
  .max(MAX_RATE_PER_SECOND, { error: RATE_RULE })
  .nullable()
  .optional()
  .meta({
    description:
      `At most this many deliveries a second to the endpoint (1 to ${MAX_RATE_PER_SECOND}); the rest wait for the next seconds, ` +
      "without using an attempt. null removes the limit; leaving the field out of a change keeps it as it is",
    examples: [10],
  });

/** An endpoint's rate limit as a view shows it: only when one is set. */
const rateLimitViewSchema = z.number().int().min(1).max(MAX_RATE_PER_SECOND).optional().meta({ description: "Deliveries per second at most; absent when there is no limit" });

const SCOPE_RULE = `must be a list of 1 to ${MAX_CNPJ_SCOPE} CNPJs (${CNPJ_FORM}) or roots (${CNPJ_ROOT_FORM}), or null for every CNPJ`;

/**
 * A CNPJ scope in a request: each entry normalized (14 or 8 upper-case characters, masks
 * removed), no entry twice once normalized. A list sets it, null removes it, absent leaves it
 * as it is; an empty list would deliver nothing and is refused.
 */
const cnpjScopeSchema = z
  .array(
    z
      .string({ error: "must be a string" })
      .transform((value, ctx) => {
        const entry = parseCnpjScopeEntry(value);
        if (entry.ok) return entry.cnpj;
        ctx.addIssue({ code: "custom", message: entry.reason, params: { rule: "cnpj" } });
        return z.NEVER;
      })
      .meta({ examples: ["12.345.678/0001-95", "12ABC345"] }),
    { error: SCOPE_RULE },
  )
  .min(1, { error: SCOPE_RULE })
  .max(MAX_CNPJ_SCOPE, { error: SCOPE_RULE })
  .superRefine((entries, ctx) => {
    const first = new Map<string, number>();
    entries.forEach((entry, index) => {
      const earlier = first.get(entry);
      if (earlier === undefined) first.set(entry, index);
      else ctx.addIssue({ code: "custom", message: `repeats ${entry} (entry ${earlier})`, path: [index], params: { rule: "unique" } });
    });
  })
  .nullable()
  .optional()
  .meta({
    description:
      "Only events whose cnpj is one of these reach the endpoint: a full CNPJ (check digits verified) or an 8-character root covering every branch; " +
      "numeric or alphanumeric, masks accepted, stored normalized. Events without a cnpj skip a scoped endpoint. null removes the scope; leaving the field out of a change keeps it",
    examples: [["12345678000195", "12ABC345"]],
  });

/** A CNPJ scope as a view shows it: only when one is set. */
const cnpjScopeViewSchema = z
  .array(z.string())
  .optional()
  .meta({ description: "The CNPJs (14 characters) and roots (8) the endpoint is limited to; absent when it receives every CNPJ's events" });

export function requestSchemas(policy: AddressPolicy) {
  const endpoint = endpointSchema(policy);
  const autenticacao = autenticacaoSchema.nullable().optional();
  return {
    subscriptionCreate: z.strictObject({ evento: eventTypeSchema, endpoint, autenticacao, maxPorSegundo: rateLimitSchema, cnpjs: cnpjScopeSchema }),
    // A subscription read with GET can be PUT back as it is: its read-only `situacao` is accepted and ignored.
    subscriptionChange: z.strictObject({
      id: subscriptionIdSchema,
      evento: eventTypeSchema,
      endpoint,
      autenticacao,
      maxPorSegundo: rateLimitSchema,
      cnpjs: cnpjScopeSchema,
      situacao: situacaoSchema.optional().meta({ readOnly: true, description: "Read-only: ignored in a PUT (which re-enables the endpoint)" }),
    }),
    subscriptionDelete: z.strictObject({ id: subscriptionIdSchema }),
    configPatch: z.strictObject({
      webhookUrl: endpoint.optional(),
      events: eventListSchema.optional(),
      authentication: authenticationSchema.nullable().optional(),
      maxPerSecond: rateLimitSchema,
      cnpjs: cnpjScopeSchema,
    }),
  };
}

export type RequestSchemas = ReturnType<typeof requestSchemas>;

const MASKED = z.literal(CREDENTIAL_MASK);

export const subscriptionViewSchema = z
  .object({
    id: subscriptionIdSchema,
    evento: eventTypeSchema,
    endpoint: z.string(),
    situacao: situacaoSchema,
    autenticacao: z
      .discriminatedUnion("tipo", [
        z.object({ tipo: z.literal("basic"), usuario: z.string(), senha: MASKED }),
        z.object({ tipo: z.literal("bearer"), token: MASKED }),
        z.object({ tipo: z.literal("cabecalho"), nome: z.string(), valor: MASKED }),
      ])
      .optional()
      .meta({ description: "Only when the subscription has a receiver credential; its secrets are shown as ****" }),
    maxPorSegundo: rateLimitViewSchema,
    cnpjs: cnpjScopeViewSchema,
  })
  .meta({ title: "Subscription" });

export const endpointStatusSchema = z
  .object({
    state: z.enum(["enabled", "failing", "disabled"]),
    since: instant.optional().meta({ description: "When the failure streak, or the disabling, began" }),
    reason: z.string().optional(),
    lastSuccessAt: instant.optional().meta({ description: "The success that ended the last failure streak" }),
  })
  .meta({
    title: "EndpointStatus",
    description:
      "The webhookUrl's health: disabled after failing continuously for the configured period (5 days) or on 410 Gone; POST /webhooks/config/enable enables it again",
  });

export const catalogueSchema = z
  .array(
    z.object({
      type: eventTypeSchema,
      kind: z.enum(EVENT_KINDS).meta({
        description: "fiscal: sent by producers; operational: about the tenant's own webhooks, emitted by the product (README, Operational events)",
      }),
      description: z.string(),
    }),
  )
  .meta({ title: "EventCatalogue", examples: [EVENT_CATALOGUE.slice(0, 2)] });

export const webhookConfigViewSchema = z
  .object({
    webhookUrl: z.string(),
    webhookSecret: z.string().meta({
      description: "Masked (whsec_ab...xy) except in the answer that created it",
    }),
    events: z.array(eventTypeSchema),
    authentication: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("basic"), username: z.string(), password: MASKED }),
        z.object({ type: z.literal("bearer"), token: MASKED }),
        z.object({ type: z.literal("header"), name: z.string(), value: MASKED }),
      ])
      .optional()
      .meta({ description: "Only when a receiver credential is set; its secrets are shown as ****" }),
    maxPerSecond: rateLimitViewSchema,
    cnpjs: cnpjScopeViewSchema,
    status: endpointStatusSchema,
  })
  .meta({ title: "WebhookConfig" });

export const webhookSecretViewSchema = z
  .object({
    webhookSecret: z.string().meta({ description: "The new secret in full, shown only now" }),
    previousSecretValidUntil: z.iso
      .datetime()
      .optional()
      .meta({ description: "With graceSeconds: until when the replaced secret still signs, beside the new one (Standard Webhooks header)" }),
  })
  .meta({ title: "WebhookSecret" });

/** `?graceSeconds=N`: the replaced secret keeps signing beside the new one for N seconds (at most a week). */
export const secretRegenerateQuerySchema = z.strictObject({
  graceSeconds: z
    .string()
    .regex(/^[0-9]{1,7}$/, { error: `must be a whole number of seconds from 0 to ${MAX_SECRET_GRACE_SECONDS} (7 days)` })
    .transform(Number)
    .refine((n) => n <= MAX_SECRET_GRACE_SECONDS, { error: `must be a whole number of seconds from 0 to ${MAX_SECRET_GRACE_SECONDS} (7 days)` })
    .optional(),
});

/** `POST /webhooks/portal-links`: both fields optional, so an empty body makes a one-hour, full link. */
export const portalLinkCreateSchema = z
  .strictObject({
    ttlSeconds: z
      .number()
      .int()
      .min(PORTAL_LINK_TTL.min)
      .max(PORTAL_LINK_TTL.max)
      .default(PORTAL_LINK_TTL.default)
      .meta({ description: `Seconds the link works: ${PORTAL_LINK_TTL.min} (5 minutes) to ${PORTAL_LINK_TTL.max} (7 days)` }),
    readOnly: z.boolean().default(false).meta({ description: "A read-only link can only read (GET); its other requests are answered 403" }),
  })
  .meta({ title: "PortalLinkRequest" });

const portalLinkFields = {
  id: z.string().meta({ description: "The link's id (the SHA-256 of its token, which cannot be derived from it): DELETE /webhooks/portal-links/{linkId}" }),
  readOnly: z.boolean(),
  createdAt: instant,
  expiresAt: instant.meta({ description: "When the link stops working" }),
};

export const portalLinkViewSchema = z
  .object({
    url: z.string().meta({
      description: "The console with the link's token in its fragment (<API base URL>/console/#link=<token>): hand it to the customer",
    }),
    token: z.string().meta({ description: "The link's token, shown only now: a Bearer token for this API until expiresAt" }),
    ...portalLinkFields,
  })
  .meta({ title: "NewPortalLink" });

export const accessViewSchema = z
  .object({
    credential: z.enum(["apiToken", "portalLink"]),
    readOnly: z.boolean().meta({ description: "True for a read-only portal link: its requests other than GET are answered 403" }),
    expiresAt: instant.optional().meta({ description: "A portal link's: when it stops working" }),
  })
  .meta({ title: "Access" });

export const portalLinkListViewSchema = z.array(z.object(portalLinkFields)).meta({ title: "PortalLinks" });

/** The body every endpoint receives (lambdas/domain/webhook-message.ts webhookEnvelope), in the OpenAPI document's `webhooks`. */
export const webhookPayloadSchema = z
  .object({
    id: z.string().meta({ description: "The event's id: the producer's, or one the service gave it" }),
    type: z.string().meta({ description: "An event type of GET /webhooks/events (webhook.test for POST /webhooks/test)", examples: ["invoice.authorized"] }),
    createdAt: instant.meta({ description: "When the event occurred (the producer's occurredAt), or when it was accepted" }),
    documentKey: z
      .string()
      .length(DOCUMENT_KEY_LENGTH)
      .regex(/^[0-9]{6}[0-9A-Z]{12}[0-9]{26}$/)
      .optional()
      .meta({
        description:
          "The chave de acesso of the NF-e, NFC-e, CT-e, CT-e OS or MDF-e the event is about, when the producer sent it: 44 characters, " +
          "check digit, UF, month and model verified; letters only in the issuer's alphanumeric CNPJ (NT 2025.001)",
        examples: ["35240112345678000195550010000001231000000011"],
      }),
    cnpj: z
      .string()
      .regex(/^[0-9A-Z]{12}[0-9]{2}$/)
      .optional()
      .meta({ description: "The CNPJ the event is for, when the producer sent it: 14 characters, numeric or alphanumeric, check digits verified", examples: ["12345678000195"] }),
    sequence: z
      .number()
      .int()
      .min(1)
      .max(MAX_SEQUENCE)
      .optional()
      .meta({ description: "The event's sequence number among its document's events (e.g. nSeqEvento), when the producer sent it", examples: [1] }),
    data: z.record(z.string(), z.unknown()).meta({ description: "The event's data, as the producer sent it" }),
  })
  .meta({ title: "WebhookPayload" });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z
      .array(
        z.object({
          field: z.string(),
          rule: z.string(),
          message: z.string(),
          received: z.string().optional(),
        }),
      )
      .optional(),
  })
  .meta({ title: "Problem", description: "RFC 9457 problem details (application/problem+json)" });

/** A page size given in a query string: a whole number from 1 to `max`. */
function pageLimit(max: number) {
  const error = `must be a whole number from 1 to ${max}`;
  return z
    .string()
    .regex(/^[1-9][0-9]{0,3}$/, { error })
    .transform(Number)
    .refine((n) => n <= max, { error });
}

/** A paging cursor as the client got it in X-Next-Cursor; the data layer checks it is one. */
const pageCursor = z.string().max(600);

const deliveryStatusSchema = z.enum(["pending", "retrying", "success", "failed", "canceled"]);

export const logsQuerySchema = z.strictObject({
  limit: pageLimit(100).optional(),
  cursor: pageCursor.optional(),
});

export const deliveryLogViewSchema = z
  .array(
    z.object({
      id: z.string().meta({ description: "Delivery id: the webhook-id header the receiver saw" }),
      eventType: eventTypeSchema,
      status: deliveryStatusSchema,
      attempts: z.number().int(),
      createdAt: z.string(),
      deliveredAt: z.string().nullable(),
    }),
  )
  .meta({ title: "DeliveryLogs" });

export const documentHistoryQuerySchema = logsQuerySchema;

export const documentHistoryViewSchema = z
  .object({
    documentKey: z.string().meta({ description: "The access key (chave de acesso), upper case" }),
    events: z
      .array(
        z.object({
          eventId: z.string().meta({ description: "The producer's event id, or the queue message id when it sent none; the webhook's id" }),
          type: eventTypeSchema,
          sequence: z.number().int().nullable().meta({ description: "The producer's sequence (e.g. nSeqEvento), if it sent one" }),
          createdAt: z.string().meta({ description: "The webhook's createdAt (the producer's occurredAt, or when the event was received)" }),
          receivedAt: z.string().meta({ description: "When the event reached the events queue: the order of this list" }),
          deliveries: z
            .array(z.object({ endpoint: z.string(), webhookId: z.string().meta({ description: "Delivery id: the webhook-id header the endpoint gets" }) }))
            .meta({ description: "The endpoints the event fanned out to" }),
        }),
      )
      .meta({ description: "Events received for the document, oldest first; paged (X-Next-Cursor, Link)" }),
    endpoints: z
      .array(
        z.object({
          endpoint: z.string(),
          webhookId: z.string().meta({ description: "Delivery id of the newest delivery of the document to this endpoint" }),
          eventId: z.string(),
          type: eventTypeSchema,
          sequence: z.number().int().nullable(),
          status: deliveryStatusSchema.meta({ description: "`pending`: queued, not attempted yet" }),
          attempts: z.number().int(),
          deliveredAt: z.string().nullable(),
          lastError: z.string().nullable(),
        }),
      )
      .meta({ description: "Per endpoint, the last delivery of the document (among its newest 100 events) and where it stands; the same on every page" }),
  })
  .meta({ title: "DocumentHistory" });

export const failuresQuerySchema = z.strictObject({
  limit: pageLimit(1000).optional(),
  cursor: pageCursor.optional(),
});

export const failuresBodySchema = z.strictObject({
  data: z.union([z.string(), z.number()]).meta({ description: "Record date, ddMMyyyy (a number is left-padded to 8 digits)" }),
});

export const failureViewSchema = z
  .array(
    z.object({
      id: z.number().int().meta({ description: "Record identifier, Number(10)" }),
      data: z.string().meta({ description: "Record date, ddMMyyyy (Brazil)" }),
      descricao: z.string(),
      evento: eventTypeSchema,
      conteudo: z.string().meta({ description: "The exact body sent to the endpoint" }),
    }),
  )
  .meta({ title: "Failures" });

export const testWebhookViewSchema = z
  .object({ success: z.boolean(), statusCode: z.number().int().nullable(), body: z.string() })
  .meta({ title: "TestWebhookResult" });

export const dlqQuerySchema = logsQuerySchema;
export const portalLinksQuerySchema = logsQuerySchema;

export const deadLetterViewSchema = z
  .array(
    z.object({
      id: z.string().meta({ description: "Delivery id: the same as in the logs and in webhook-id" }),
      eventType: eventTypeSchema,
      endpoint: z.string(),
      attempts: z.number().int(),
      lastError: z.string(),
      failedAt: z.string(),
      createdAt: z.string(),
    }),
  )
  .meta({ title: "DeadLetters" });

export const retryViewSchema = z
  .object({ queued: z.literal(true), id: z.string(), eventType: eventTypeSchema, endpoint: z.string(), attempts: z.number().int() })
  .meta({ title: "RetryQueued" });

export const bulkViewSchema = (verb: "retried" | "purged") =>
  z
    .object({
      [verb]: z.number().int().meta({ description: `Letters ${verb} by this call` }),
      complete: z.boolean().meta({ description: "False when the rest continues asynchronously" }),
    })
    .meta({ title: verb === "retried" ? "RetryAllResult" : "PurgeResult" });
