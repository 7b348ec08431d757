import { dlqQuerySchema } from "../contract/schemas.ts";
import { jobsQueue, operations } from "../dead-letters/environment.ts";
import { deadLetters } from "../shared/stores.ts";
import { runOrContinue } from "../dead-letters/jobs.ts";
import { deadLetterView } from "../domain/dead-letter.ts";
import { validate } from "../shared/body.ts";
import { httpRoutes, type HttpRequest } from "../shared/http.ts";
import { paged } from "../shared/paging.ts";
import { problems } from "../shared/problems.ts";

const DEFAULT_LIMIT = 50;
/** API Gateway gives a request 30 s; bulk work stops well before and goes on as a job. */
const API_BUDGET_MS = 20_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function deliveryIdOf(request: HttpRequest): string {
  const id = request.pathParameters["deliveryId"] ?? "";
  if (!UUID.test(id)) {
    throw problems.validation("The delivery id in the path must be a delivery UUID.", {
      errors: [{ field: "deliveryId (path)", rule: "uuid", message: "must be a delivery id (UUID, lower case)", received: JSON.stringify(id.slice(0, 60)) }],
    });
  }
  return id;
}

export const handler = httpRoutes("dlq", {
  "GET /webhooks/dlq": async (request) => {
    const query = validate(dlqQuerySchema, { ...request.query });
    const limit = query.limit ?? DEFAULT_LIMIT;
    const { page, headers } = await paged({ path: "/webhooks/dlq", query: { limit } }, query.cursor, (cursor) =>
      deadLetters.list(request.tenantId, limit, cursor),
    );
    return { status: 200, body: page.letters.map(deadLetterView), headers };
  },

  "POST /webhooks/dlq/{deliveryId}/retry": async (request) => {
    const deliveryId = deliveryIdOf(request);
    const outcome = await operations.retry(request.tenantId, deliveryId);
    if (outcome.kind === "missing") throw problems.notFound(`Delivery ${deliveryId} is not in this account's DLQ.`);
    if (outcome.kind === "busy") {
      throw problems.deadLetterBusy(`Delivery ${deliveryId} is being retried or purged by another request.`);
    }
    const view = deadLetterView(outcome.letter);
    return { status: 202, body: { queued: true, id: view.id, eventType: view.eventType, endpoint: view.endpoint, attempts: view.attempts } };
  },

  "POST /webhooks/dlq/retry-all": async (request) => {
    const progress = await runOrContinue(operations, { operation: "retry-all", tenantId: request.tenantId }, Date.now() + API_BUDGET_MS, jobsQueue);
    return { status: progress.remaining ? 202 : 200, body: { retried: progress.count, complete: !progress.remaining } };
  },

  "DELETE /webhooks/dlq": async (request) => {
    const progress = await runOrContinue(operations, { operation: "purge", tenantId: request.tenantId }, Date.now() + API_BUDGET_MS, jobsQueue);
    return { status: progress.remaining ? 202 : 200, body: { purged: progress.count, complete: !progress.remaining } };
  },
});
