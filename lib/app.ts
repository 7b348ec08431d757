import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { STACK_NAME } from "../lambdas/contract/resources.ts";
import { parseRetrySchedule } from "../lambdas/domain/retry-schedule.ts";
import { MAX_CONFIG_CACHE_SECONDS } from "../lambdas/delivery/targets.ts";
import { FiscalWebhooksStack, type FunctionGroup, type QueueConsumer } from "./stack.ts";

export interface BuildAppOptions {
  /** Cloud assembly directory; the CDK CLI passes its own through CDK_OUTDIR. */
  readonly outdir?: string;
  readonly context?: Readonly<Record<string, unknown>>;
}

const QUEUE_CONSUMERS: readonly QueueConsumer[] = ["dispatch", "deliver", "deadLetters"];
const FUNCTION_GROUPS: readonly FunctionGroup[] = ["api", ...QUEUE_CONSUMERS];

/**
 * The CDK app: the stack plus the cdk-nag AwsSolutions checks. Any finding fails synthesis; an
 * acknowledgement must say why. The settings come from the context: `cdk.json` holds every one
 * with its default (the place to change them, so a plain `cdk deploy` keeps them), `-c name=value`
 * overrides one for a run. A setting that is absent or null takes the stack's default.
 */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: FiscalWebhooksStack } {
  const app = new App({ outdir: options.outdir, context: { ...options.context } });
  const setting = <T>(name: string, read: (name: string, value: unknown) => T): T | undefined => {
    const value = app.node.tryGetContext(name) as unknown;
    return value === undefined || value === null ? undefined : read(name, value);
  };
  const perGroup = <K extends string>(keys: readonly K[], suffix: string) =>
    Object.fromEntries(
      keys.flatMap((key) => {
        const value = setting(`${key}${suffix}`, positiveInteger);
        return value === undefined ? [] : [[key, value]];
      }),
    ) as Partial<Record<K, number>>;
  const stack = new FiscalWebhooksStack(app, STACK_NAME, {
    description: "Fiscal Webhooks: signed, retried, auditable webhooks for Brazilian fiscal events",
    retrySchedule: setting("retrySchedule", (_, value) => parseRetrySchedule(Array.isArray(value) ? value : String(value))),
    maxSubscriptionsPerTenant: setting("maxSubscriptionsPerTenant", positiveInteger),
    deliveryTimeoutSeconds: setting("deliveryTimeoutSeconds", positiveInteger),
    testWebhooksPerMinute: setting("testWebhooksPerMinute", positiveInteger),
    endpointDisableAfterSeconds: setting("endpointDisableAfterSeconds", positiveInteger),
    configCacheSeconds: setting("configCacheSeconds", (name, value) => integerUpTo(name, value, MAX_CONFIG_CACHE_SECONDS)),
    maxConcurrency: perGroup(QUEUE_CONSUMERS, "MaxConcurrency"),
    reservedConcurrency: perGroup(FUNCTION_GROUPS, "ReservedConcurrency"),
    deliverySuccessRatioThreshold: setting("deliverySuccessRatioThreshold", ratio),
    alarmEmail: setting("alarmEmail", emailAddress),
    producerAccountIds: setting("producerAccountIds", list),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

// One reader per kind of setting: each takes what `-c` gives (a string) or what cdk.json gives (JSON).

function positiveInteger(name: string, value: unknown): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new RangeError(`context ${name} must be a positive integer, got ${String(value)}`);
  return number;
}

function integerUpTo(name: string, value: unknown, max: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > max) throw new RangeError(`context ${name} must be a whole number from 0 to ${max}, got ${String(value)}`);
  return number;
}

function ratio(name: string, value: unknown): number {
  const number = Number(value);
  if (!(number > 0 && number <= 1)) throw new RangeError(`context ${name} must be a number above 0 and at most 1, got ${String(value)}`);
  return number;
}

/** An empty string means unset, so cdk.json can show the setting without choosing an address. */
function emailAddress(name: string, value: unknown): string | undefined {
  const text = String(value).trim();
  if (text !== "" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text)) throw new RangeError(`context ${name} is not an e-mail address: ${text}`);
  return text || undefined;
}

/** A JSON list from cdk.json, or `a,b` from `-c`. */
function list(name: string, value: unknown): string[] {
  const items = Array.isArray(value) ? value : String(value).split(",");
  if (!items.every((item) => typeof item === "string" || typeof item === "number")) {
    throw new RangeError(`context ${name} must be a list of strings, got ${JSON.stringify(value)}`);
  }
  return items.map((item) => String(item).trim()).filter(Boolean);
}
