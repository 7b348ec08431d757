import { openApiDocument } from "../contract/openapi.ts";
import { EVENT_CATALOGUE } from "../domain/catalogue.ts";
import { httpRoutes } from "../shared/http.ts";

const document = openApiDocument();

export const handler = httpRoutes("reference", {
  "GET /webhooks/events": async () => ({ status: 200, body: EVENT_CATALOGUE }),
  "GET /openapi.json": async () => ({ status: 200, body: document }),
  "GET /webhooks/access": async ({ caller: { access, expiresAt } }) => ({
    status: 200,
    body: { credential: access === "token" ? "apiToken" : "portalLink", readOnly: access === "read-only-link", ...(expiresAt ? { expiresAt } : {}) },
  }),
});
