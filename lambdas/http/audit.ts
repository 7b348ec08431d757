import { ENV } from "../contract/resources.ts";
import { failuresBodySchema, failuresQuerySchema, logsQuerySchema } from "../contract/schemas.ts";
import { brazilDate, parseBrazilDate } from "../domain/brazil-date.ts";
import { readJsonBody, validate } from "../shared/body.ts";
import { dynamo } from "../shared/dynamo.ts";
import { requiredEnv } from "../shared/env.ts";
import { httpRoutes } from "../shared/http.ts";
import { HttpProblem, invalidCursor } from "../shared/problem.ts";
import { DeliveryLogStore, FailureStore, InvalidCursorError } from "../data/deliveries.ts";

const tableName = requiredEnv(ENV.tableName);
const logs = new DeliveryLogStore(dynamo, tableName);
const failures = new FailureStore(dynamo, tableName);

const DEFAULT_LOG_LIMIT = 50;
/** The Portal document has no paging; a page of 500 covers a normal day, X-Next-Cursor the rest. */
const DEFAULT_FAILURE_LIMIT = 500;

export const handler = httpRoutes("audit", {
  "GET /webhooks/logs": async (request) => {
    const query = validate(logsQuerySchema, { ...request.query });
    let page;
    try {
      page = await logs.list(request.tenantId, query.limit ?? DEFAULT_LOG_LIMIT, query.cursor);
    } catch (error) {
      if (!(error instanceof InvalidCursorError)) throw error;
      throw invalidCursor();
    }
    const next = page.nextCursor;
    const headers: Record<string, string> = next
      ? { "x-next-cursor": next, link: `</webhooks/logs?limit=${query.limit ?? DEFAULT_LOG_LIMIT}&cursor=${next}>; rel="next"` }
      : {};
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
      throw new HttpProblem(400, "validation", "Invalid Request", `data ${JSON.stringify(raw)} is not a real date in ddMMyyyy.`, {
        errors: [{ field: "data", rule: "ddMMyyyy", message: "must be a real date written ddMMyyyy", received: JSON.stringify(raw).slice(0, 40) }],
      });
    }
    const page = validate(failuresQuerySchema, { limit: request.query["limit"], cursor: request.query["cursor"] });
    const limit = page.limit ?? DEFAULT_FAILURE_LIMIT;
    let found;
    try {
      found = await failures.listForDate(request.tenantId, date, limit, page.cursor);
    } catch (error) {
      if (!(error instanceof InvalidCursorError)) throw error;
      throw invalidCursor();
    }
    const headers: Record<string, string> = found.nextCursor
      ? {
          "x-next-cursor": found.nextCursor,
          link: `</portal/api/ext/webhook/falhas?data=${date}&limit=${limit}&cursor=${found.nextCursor}>; rel="next"`,
        }
      : {};
    return {
      status: 200,
      headers,
      body: found.failures.map((record) => ({
        id: record.id,
        data: record.data,
        descricao: record.descricao,
        evento: record.evento,
        conteudo: record.conteudo,
      })),
    };
  },
});
