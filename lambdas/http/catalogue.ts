import { EVENT_CATALOGUE } from "../domain/catalogue.ts";
import { httpRoutes } from "../shared/http.ts";

export const handler = httpRoutes("catalogue", {
  "GET /webhooks/events": async () => ({ status: 200, body: EVENT_CATALOGUE }),
});
