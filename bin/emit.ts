import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { OUTPUTS } from "../lambdas/contract/resources.ts";
import { isOperationalEventType } from "../lambdas/domain/catalogue.ts";
import { fiscalEventSchema, MAX_EVENT_BYTES } from "../lambdas/domain/fiscal-event.ts";
import { outputsFilePath } from "../lib/dev/product.ts";
import { connectToStack, STACK_OPTIONS, STACK_OPTIONS_USAGE, stackSource } from "../lib/dev/stack-connection.ts";

const usage = `Usage: npm run emit -- <type> --tenant <tenantId> [--data <json>|@<file>] [--id <eventId>] [--occurred-at <ISO>]
       [--document-key <chave>] [--cnpj <cnpj>] [--sequence <n>] [--stack <name> [--region <r>] [--profile <p>] | --outputs <file>]

Injects a fiscal event into the stack's events queue, as a producer does. An event with a
--document-key goes to the ordered (FIFO) events queue, in its document's message group, so the
document's events reach each endpoint in the order they were emitted.
  <type>        a fiscal event type of GET /webhooks/events, e.g. invoice.authorized
  --tenant      the tenant the event belongs to (defaults to the local dev tenant)
  --data        the event's data: a JSON object, or @path to a JSON file (default {})
  --id          the producer's event id: the same id emitted twice is delivered once
  --occurred-at when the event happened (ISO-8601); becomes the webhook's createdAt
  --document-key the chave de acesso (44 characters) of the NF-e, NFC-e, CT-e or MDF-e it is about
  --cnpj        the CNPJ the event is for (14 characters or 12.345.678/0001-95; alphanumeric too)
  --sequence    the event's sequence number among its document's events (e.g. nSeqEvento)
${STACK_OPTIONS_USAGE}`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tenant: { type: "string" },
    data: { type: "string", default: "{}" },
    id: { type: "string" },
    "occurred-at": { type: "string" },
    "document-key": { type: "string" },
    cnpj: { type: "string" },
    sequence: { type: "string" },
    ...STACK_OPTIONS,
    help: { type: "boolean", default: false },
  },
});

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const [type] = positionals;
if (values.help || !type) {
  console.log(usage);
  process.exit(values.help ? 0 : 2);
}

const stack = await connectToStack(stackSource(values, outputsFilePath(".local"))).catch((error: unknown) => fail((error as Error).message));
const tenantId = values.tenant ?? stack.local?.tenantId ?? fail("--tenant is required for a deployed stack");
const dataText = values.data.startsWith("@") ? await readFile(values.data.slice(1), "utf8") : values.data;
let data: unknown;
try {
  data = JSON.parse(dataText);
} catch (error) {
  fail(`--data is not JSON: ${(error as Error).message}`);
}

const event = {
  tenantId,
  type,
  ...(values.id ? { id: values.id } : {}),
  ...(values["occurred-at"] ? { occurredAt: values["occurred-at"] } : {}),
  ...(values["document-key"] === undefined ? {} : { documentKey: values["document-key"] }),
  ...(values.cnpj === undefined ? {} : { cnpj: values.cnpj }),
  // A number in the event; what is not one is told by the contract's own check below.
  ...(values.sequence === undefined ? {} : { sequence: /^[0-9]+$/.test(values.sequence) ? Number(values.sequence) : values.sequence }),
  data,
};
// Checked here with the dispatcher's own schema, so a mistake is told now rather than set aside later.
const checked = fiscalEventSchema().safeParse(event);
if (!checked.success) {
  fail(`Not a valid event:\n${checked.error.issues.map((i) => `  ${i.path.join(".") || "event"}: ${i.message}`).join("\n")}`);
}
if (isOperationalEventType(type)) fail(`${type} is an operational event: only the product emits it`);
const body = JSON.stringify(event);
if (Buffer.byteLength(body) > MAX_EVENT_BYTES) fail(`The event has ${Buffer.byteLength(body)} bytes; at most ${MAX_EVENT_BYTES} are accepted`);

const sqs = stack.sqs();
try {
  const documentKey = checked.data.documentKey?.key;
  const { MessageId } = await sqs.send(
    new SendMessageCommand(
      documentKey === undefined
        ? { QueueUrl: stack.output(OUTPUTS.eventsQueueUrl), MessageBody: body }
        : {
            QueueUrl: stack.output(OUTPUTS.orderedEventsQueueUrl),
            MessageBody: body,
            // One group per document and tenant; without an id, the body (content-based) deduplicates.
            MessageGroupId: `${tenantId}:${documentKey}`,
            ...(values.id ? { MessageDeduplicationId: values.id } : {}),
          },
    ),
  );
  console.log(`Event ${values.id ?? MessageId} (${type}) sent for tenant ${tenantId}.`);
} catch (error) {
  console.error(`emit failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  sqs.destroy();
}
