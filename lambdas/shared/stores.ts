import { DeadLetterStore } from "../data/dead-letters.ts";
import { DeliveryLogStore, DispatchedEventStore, FailureStore } from "../data/deliveries.ts";
import { DocumentHistoryStore } from "../data/document-history.ts";
import { RateLimitStore } from "../data/rate-limits.ts";
import { SubscriptionStore } from "../data/subscriptions.ts";
import { TenantStore } from "../data/tenants.ts";
import { WebhookConfigStore } from "../data/webhook-config.ts";
import { ENV } from "../contract/resources.ts";
import { dynamo } from "./dynamo.ts";
import { requiredEnv } from "./env.ts";

/**
 * The stores on the function's table, made once per execution environment (making one does
 * no I/O). Marked pure so that each function's bundle keeps only the stores it uses.
 */
const tableName = requiredEnv(ENV.tableName);
export const tenants = /* @__PURE__ */ new TenantStore(dynamo, tableName);
export const subscriptions = /* @__PURE__ */ new SubscriptionStore(dynamo, tableName);
export const configs = /* @__PURE__ */ new WebhookConfigStore(dynamo, tableName);
export const deliveryLogs = /* @__PURE__ */ new DeliveryLogStore(dynamo, tableName);
export const failures = /* @__PURE__ */ new FailureStore(dynamo, tableName);
export const dispatchedEvents = /* @__PURE__ */ new DispatchedEventStore(dynamo, tableName);
export const deadLetters = /* @__PURE__ */ new DeadLetterStore(dynamo, tableName);
export const rateLimits = /* @__PURE__ */ new RateLimitStore(dynamo, tableName);
export const documentHistory = /* @__PURE__ */ new DocumentHistoryStore(dynamo, tableName);
