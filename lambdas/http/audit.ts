import { failuresBodySchema, failuresQuerySchema, logsQuerySchema } from "../contract/schemas.ts";
import { brazilDate, parseBrazilDate } from "../domain/brazil-date.ts";
import { readJsonBody, validate } from "../shared/body.ts";
import { httpRoutes } from "../shared/http.ts";
import { paged } from "../shared/paging.ts";
import { problems } from "../shared/problems.ts";
import { deliveryLogs as logs, failures } from "../shared/stores.ts";


const DEFAULT_LOG_LIMIT = 50;
/** The Portal document has no paging; a page of 500 covers a normal day, X-Next-Cursor the rest. */
const DEFAULT_FAILURE_LIMIT = 500;

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
