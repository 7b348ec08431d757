import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { STACK_NAME } from "../lambdas/contract/resources.ts";
import { parseRetrySchedule } from "../lambdas/domain/retry-schedule.ts";
import { FiscalWebhooksStack } from "./stack.ts";

export interface BuildAppOptions {
  /** Cloud assembly directory; the CDK CLI passes its own through CDK_OUTDIR. */
  readonly outdir?: string;
  readonly context?: Readonly<Record<string, unknown>>;
}

/**
 * The CDK app: the stack plus the cdk-nag AwsSolutions checks. Any finding fails
 * synthesis; the stack needs no acknowledgement today, and one added later must say why. The retry schedule comes from context `retrySchedule`
 * (`cdk deploy -c retrySchedule=0,5,300`, or a list when set in code or cdk.json), the subscription cap from
 * `maxSubscriptionsPerTenant`, the receivers' time to answer from `deliveryTimeoutSeconds` and the test webhooks a
 * tenant may send a minute from `testWebhooksPerMinute`, when set.
 */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: FiscalWebhooksStack } {
  const app = new App({ outdir: options.outdir, context: { ...options.context } });
  const scheduleContext = app.node.tryGetContext("retrySchedule") as unknown;
  const maxSubscriptionsContext = app.node.tryGetContext("maxSubscriptionsPerTenant") as unknown;
  const deliveryTimeoutContext = app.node.tryGetContext("deliveryTimeoutSeconds") as unknown;
  const testWebhooksContext = app.node.tryGetContext("testWebhooksPerMinute") as unknown;
  const stack = new FiscalWebhooksStack(app, STACK_NAME, {
    description: "Fiscal Webhooks: signed, retried, auditable webhooks for Brazilian fiscal events",
    retrySchedule: scheduleContext === undefined ? undefined : parseRetrySchedule(Array.isArray(scheduleContext) ? scheduleContext : String(scheduleContext)),
    maxSubscriptionsPerTenant:
      maxSubscriptionsContext === undefined ? undefined : positiveInteger("maxSubscriptionsPerTenant", maxSubscriptionsContext),
    deliveryTimeoutSeconds:
      deliveryTimeoutContext === undefined ? undefined : positiveInteger("deliveryTimeoutSeconds", deliveryTimeoutContext),
    testWebhooksPerMinute: testWebhooksContext === undefined ? undefined : positiveInteger("testWebhooksPerMinute", testWebhooksContext),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

function positiveInteger(name: string, value: unknown): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new RangeError(`context ${name} must be a positive integer, got ${String(value)}`);
  return number;
}
