import { documentHistoryQuerySchema, failuresBodySchema, failuresQuerySchema, logsQuerySchema } from "../contract/schemas.ts";
import { brazilDate, parseBrazilDate } from "../domain/brazil-date.ts";
import { documentKeyOf, endpointState, latestPerEndpoint, type DocumentEvent, type EndpointState } from "../domain/document-history.ts";
import { readJsonBody, validate } from "../shared/body.ts";
import { httpRoutes, type HttpRequest } from "../shared/http.ts";
import { paged } from "../shared/paging.ts";
import { problems } from "../shared/problems.ts";
import { deliveryLogs as logs, documentHistory, failures } from "../shared/stores.ts";

const DEFAULT_LOG_LIMIT = 50;
/** The Portal document has no paging; a page of 500 covers a normal day, X-Next-Cursor the rest. */
const DEFAULT_FAILURE_LIMIT = 500;
const DEFAULT_DOCUMENT_EVENT_LIMIT = 50;
/** How far back each endpoint's last delivery of a document is looked for: its newest events. */
const LATEST_EVENTS_READ = 100;

function documentKeyFrom(request: HttpRequest): string {
  const raw = request.pathParameters["documentKey"] ?? "";
  const documentKey = documentKeyOf(raw);
  if (documentKey === undefined) {
    throw problems.validation("The document key in the path must be an access key of 44 characters.", {
      errors: [
        {
          field: "documentKey (path)",
          rule: "documentKey",
          message: "must be an access key: 44 digits (letters allowed where the issuer's CNPJ is alphanumeric)",
          received: JSON.stringify(raw.slice(0, 60)),
        },
      ],
    });
  }
  return documentKey;
}

/**
 * Each endpoint's last delivery of the document and its log line: from the page itself when it
 * is the whole history, else from the newest events; the log lines in one batched read.
 */
async function endpointStates(tenantId: string, documentKey: string, whole: readonly DocumentEvent[] | undefined): Promise<EndpointState[]> {
  const newestFirst = whole ? whole.toReversed() : await documentHistory.newest(tenantId, documentKey, LATEST_EVENTS_READ);
  const latest = latestPerEndpoint(newestFirst);
  const lines = new Map((await logs.getAll(tenantId, latest.map(({ delivery }) => delivery))).map((line) => [line.deliveryId, line]));
  return latest.map((entry) => endpointState(entry, lines.get(entry.delivery.deliveryId)));
}

export const handler = httpRoutes("audit", {
  "GET /webhooks/logs": async (request) => {
    const query = validate(logsQuerySchema, { ...request.query });
    const limit = query.limit ?? DEFAULT_LOG_LIMIT;
    const { page, headers } = await paged({ path: "/webhooks/logs", query: { limit } }, query.cursor, (cursor) =>
      logs.list(request.tenantId, limit, cursor),
    );
    return {
      status: 200,
      body: page.entries.map((entry) => ({
        id: entry.deliveryId,
        eventType: entry.eventType,
        status: entry.status,
        attempts: entry.attempts,
        createdAt: entry.createdAt,
        deliveredAt: entry.deliveredAt ?? null,
      })),
      headers,
    };
  },

  "GET /webhooks/documents/{documentKey}": async (request) => {
    const documentKey = documentKeyFrom(request);
    const query = validate(documentHistoryQuerySchema, { ...request.query });
    const limit = query.limit ?? DEFAULT_DOCUMENT_EVENT_LIMIT;
    const { page, headers } = await paged({ path: `/webhooks/documents/${documentKey}`, query: { limit } }, query.cursor, (cursor) =>
      documentHistory.list(request.tenantId, documentKey, limit, cursor),
    );
    // The partition is the tenant's: another tenant's document is as unknown as one never sent.
    if (query.cursor === undefined && page.events.length === 0) throw problems.notFound(`No event of document ${documentKey} in this account.`);
    const whole = query.cursor === undefined && page.nextCursor === undefined ? page.events : undefined;
    return {
      status: 200,
      headers,
      body: {
        documentKey,
        events: page.events.map((event) => ({
          eventId: event.eventId,
          type: event.type,
          sequence: event.sequence ?? null,
          createdAt: event.createdAt,
          receivedAt: event.acceptedAt,
          deliveries: event.deliveries.map(({ url, deliveryId }) => ({ endpoint: url, webhookId: deliveryId })),
        })),
        endpoints: await endpointStates(request.tenantId, documentKey, whole),
      },
    };
  },

  "GET /portal/api/ext/webhook/falhas": async (request) => {
    // The document sends `data` as a JSON body on a GET; a query parameter works too.
    const body = readJsonBody(request, { required: false });
    const fromBody = body === undefined ? undefined : validate(failuresBodySchema, body).data;
    const raw = request.query["data"] ?? fromBody;
    const date = raw === undefined ? brazilDate(new Date()) : parseBrazilDate(raw);
    if (date === undefined) {
      throw problems.validation(`data ${JSON.stringify(raw)} is not a real date in ddMMyyyy.`, {
        errors: [{ field: "data", rule: "ddMMyyyy", message: "must be a real date written ddMMyyyy", received: JSON.stringify(raw).slice(0, 40) }],
      });
    }
    const query = validate(failuresQuerySchema, { limit: request.query["limit"], cursor: request.query["cursor"] });
    const limit = query.limit ?? DEFAULT_FAILURE_LIMIT;
    const { page, headers } = await paged({ path: "/portal/api/ext/webhook/falhas", query: { data: date, limit } }, query.cursor, (cursor) =>
      failures.listForDate(request.tenantId, date, limit, cursor),
    );
    return {
      status: 200,
      headers,
      body: page.failures.map((record) => ({
        id: record.id,
        data: record.data,
        descricao: record.descricao,
        evento: record.evento,
        conteudo: record.conteudo,
      })),
    };
  },
});
