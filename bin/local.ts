import { parseArgs } from "node:util";
import path from "node:path";
import { OUTPUTS } from "../lambdas/contract/resources.ts";
import { startProductRuntime } from "../lib/dev/product.ts";

const usage = `Usage: npm start -- [options]

Runs the whole synthesized stack on this machine against local DynamoDB and SQS emulators.

Options:
  --in-memory               keep no data (default: persist under --data-dir)
  --data-dir <dir>          where data, the synthesized app and outputs.json live (default .local)
  --port <n>                HTTP API port (default 3000)
  --dynamodb-port <n>       DynamoDB emulator port (default 8000)
  --sqs-port <n>            SQS emulator port (default 9324)
  --inspector-port <n>      HTTPS inspector receiver port (default 4443)
  --retry-schedule <s,...>  seconds before each delivery attempt, e.g. 0,1,2
  --endpoint-disable-after <s>  seconds an endpoint may fail without a success before it is disabled (default 432000)
  --config-cache-seconds <s>  seconds warm functions keep what they read of a tenant; 0 reads per batch (default 10)
  --environment-idle <s>    seconds a function's execution environment may stay unused before it is retired (default 60; 0: never)
  --no-iam                  let the functions make calls their roles do not grant (default: refused and printed as [iam …])
  --quiet                   do not print the functions' logs
  --verbose                 print the CDK's bundling progress while synthesizing
  --help                    this text`;

const { values } = parseArgs({
  options: {
    "in-memory": { type: "boolean", default: false },
    "data-dir": { type: "string", default: ".local" },
    port: { type: "string", default: "3000" },
    "dynamodb-port": { type: "string", default: "8000" },
    "sqs-port": { type: "string", default: "9324" },
    "inspector-port": { type: "string", default: "4443" },
    "retry-schedule": { type: "string" },
    "endpoint-disable-after": { type: "string" },
    "config-cache-seconds": { type: "string" },
    "environment-idle": { type: "string" },
    "no-iam": { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(usage);
  process.exit(0);
}

function port(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`--${name} must be a port number (0..65535), got "${text}"`);
    process.exit(2);
  }
  return value;
}

function positiveSeconds(name: string, text: string): number {
  const value = wholeSeconds(name, text);
  if (value < 1) {
    console.error(`--${name} must be a whole number of seconds, at least 1, got "${text}"`);
    process.exit(2);
  }
  return value;
}

function wholeSeconds(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`--${name} must be a whole number of seconds, got "${text}"`);
    process.exit(2);
  }
  return value;
}

const started = Date.now();
try {
  const product = await startProductRuntime({
    dataDir: values["data-dir"],
    inMemory: values["in-memory"],
    ports: {
      api: port("port", values.port),
      dynamodb: port("dynamodb-port", values["dynamodb-port"]),
      sqs: port("sqs-port", values["sqs-port"]),
      inspector: port("inspector-port", values["inspector-port"]),
    },
    onInspectedWebhook: (webhook) => {
      const mark = (ok: boolean) => (ok ? "verified" : "NOT verified");
      console.log(
        `[inspector] ${webhook.receivedAt} ${webhook.headers["x-webhook-event"] ?? "?"} webhook-id ${webhook.headers["webhook-id"] ?? "?"} ` +
          `attempt ${webhook.headers["x-webhook-attempt"] ?? "?"} → answered ${webhook.answeredStatus}` +
          // The receiver credential's scheme, never its value.
          `${webhook.headers["authorization"] ? `, Authorization ${webhook.headers["authorization"].split(" ")[0]} ****` : ""}\n` +
          `            X-Webhook-Signature ${mark(webhook.hmacSignature)}, Standard Webhooks signature ${mark(webhook.standardWebhooksSignature)}` +
          `${webhook.tenantId ? ` (tenant ${webhook.tenantId})` : ""}\n            ${webhook.body.slice(0, 500)}`,
      );
    },
    // Passed as the CDK context value, as `cdk deploy -c retrySchedule=…` would: synthesis checks it.
    ...(values["retry-schedule"] ? { retrySchedule: values["retry-schedule"] } : {}),
    // Synthesis checks its range, as it checks `cdk deploy -c configCacheSeconds=…`.
    ...(values["config-cache-seconds"] ? { configCacheSeconds: wholeSeconds("config-cache-seconds", values["config-cache-seconds"]) } : {}),
    ...(values["endpoint-disable-after"] ? { endpointDisableAfterSeconds: positiveSeconds("endpoint-disable-after", values["endpoint-disable-after"]) } : {}),
    ...(values["environment-idle"] === undefined ? {} : { environmentIdleSeconds: wholeSeconds("environment-idle", values["environment-idle"]) }),
    verbose: values.verbose,
    enforceIam: !values["no-iam"],
    ...(values.quiet ? {} : { functionOutput: (fn: string, line: string) => console.log(`[${fn}] ${line}`) }),
    onError: (source, error) => console.error(`[${source}]`, error instanceof Error ? error.message : error),
    onNotice: (source, message) => console.log(`[${source}] ${message}`),
  });
  const { local, apiUrl, outputs } = product;
  console.log(`
Fiscal Webhooks is running locally (${Date.now() - started} ms, ${values["in-memory"] ? "in memory" : `data in ${path.resolve(values["data-dir"])}`})

  API          ${apiUrl}
  Console      ${outputs[OUTPUTS.consoleUrl]}   (sign in with the token below)
  Token        ${local.token}   (tenant ${local.tenantId})
  Events queue ${outputs[OUTPUTS.eventsQueueUrl]}
  Ordered      ${outputs[OUTPUTS.orderedEventsQueueUrl]}   (FIFO: a document's events, in order)
  DLQ          ${outputs[OUTPUTS.deliveriesDeadLetterQueueUrl]}
  DynamoDB     ${local.dynamodbEndpoint}
  SQS          ${local.sqsEndpoint}
  Inspector    ${local.inspectorUrl}   (HTTPS; /status/503 answers 503, /flaky/30 fails 30 % of attempts)
  Outputs      ${product.outputsFile}

  curl -H "Authorization: Bearer ${local.token}" ${apiUrl}/webhooks/events
  curl -H "Authorization: Bearer ${local.token}" -H "Content-Type: application/json" \\
       -d '{"evento":"invoice.authorized","endpoint":"${local.inspectorUrl}"}' ${apiUrl}/portal/api/ext/webhook
  npm run emit -- invoice.authorized --data '{"chave":"35240112345678000190550010000000011000000010"}'
  curl -H "Authorization: Bearer ${local.token}" ${apiUrl}/webhooks/logs

Ctrl-C stops it.`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    await product.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
} catch (error) {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
