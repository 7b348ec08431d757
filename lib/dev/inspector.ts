import { ScanCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { keys } from "../../lambdas/data/keys.ts";
import type { IssuedCertificate } from "./certificates.ts";
import { startHttpsReceiver, verifyBoth, type ReceivedWebhook } from "./https-receiver.ts";

/** What the inspector saw of one webhook, and whether each signature verified. */
export interface InspectedWebhook {
  readonly receivedAt: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The tenant whose secret verified it, if any. */
  readonly tenantId: string | undefined;
  readonly hmacSignature: boolean;
  readonly standardWebhooksSignature: boolean;
  readonly answeredStatus: number;
}

export interface Inspector {
  readonly url: string;
  /** The latest webhooks received (at most 100). */
  readonly received: readonly InspectedWebhook[];
  close(): Promise<void>;
}

export interface InspectorOptions {
  readonly host: string;
  readonly port: number;
  readonly certificate: IssuedCertificate;
  /** Where the tenants' signing secrets are (the local table), to verify signatures. */
  readonly secrets: () => Promise<Map<string, string>>;
  readonly onWebhook?: (webhook: InspectedWebhook) => void;
}

const KEEP = 100;

/**
 * An HTTPS receiver for trying the product locally: subscribe its URL, emit an event and
 * see the webhook with both signatures checked. `/status/<code>` answers that status
 * (e.g. /status/503 to watch the retries, /status/410 to see an endpoint disabled);
 * `/flaky/<percent>` answers 503 to that share of attempts, at random (to watch ordered
 * delivery hold a document's later events); any other path answers 200.
 */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const received: InspectedWebhook[] = [];
  const receiver = await startHttpsReceiver({
    certificate: options.certificate,
    host: options.host,
    port: options.port,
    name: "Inspector",
    keep: KEEP,
    behaviour: async (webhook, response) => {
      const status = answerFor(webhook.path.split("?")[0] ?? "");
      const verdict = verify(webhook, await options.secrets().catch(() => new Map<string, string>()));
      const inspected: InspectedWebhook = {
        receivedAt: new Date(webhook.receivedAt).toISOString(),
        path: webhook.path,
        headers: Object.fromEntries(Object.entries(webhook.headers).map(([k, v]) => [k, String(v)])),
        body: webhook.body,
        ...verdict,
        answeredStatus: status,
      };
      received.push(inspected);
      if (received.length > KEEP) received.shift();
      options.onWebhook?.(inspected);
      response.writeHead(status, { "content-type": "text/plain" });
      response.end(status < 300 ? "OK" : `inspector answered ${status}`);
    },
  });
  return { url: receiver.url, received, close: () => receiver.close() };
}

/** What the inspector answers on a path: /status/<code>, /flaky/<percent>, or 200. */
function answerFor(path: string): number {
  const fixed = /^\/status\/([1-5][0-9][0-9])$/.exec(path)?.[1];
  if (fixed) return Number(fixed);
  const flaky = /^\/flaky\/([0-9]{1,2}|100)$/.exec(path)?.[1];
  return flaky !== undefined && Math.random() * 100 < Number(flaky) ? 503 : 200;
}

/** The first tenant whose secret verifies either signature. */
function verify(webhook: ReceivedWebhook, secrets: Map<string, string>) {
  for (const [tenantId, secret] of secrets) {
    const { snippet, standard } = verifyBoth(webhook, secret);
    if (snippet || standard) return { tenantId, hmacSignature: snippet, standardWebhooksSignature: standard };
  }
  return { tenantId: undefined, hmacSignature: false, standardWebhooksSignature: false };
}

/** Every tenant's signing secret in the local table (the inspector is local-only). */
export function localSecrets(client: DynamoDBClient, tableName: string): () => Promise<Map<string, string>> {
  return async () => {
    const secrets = new Map<string, string>();
    let cursor: Record<string, never> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: tableName,
          FilterExpression: "sk = :sk",
          ExpressionAttributeValues: { ":sk": { S: keys.signingSecret("").sk } },
          ExclusiveStartKey: cursor,
        }),
      );
      for (const item of page.Items ?? []) {
        const tenantId = item["pk"]?.S?.slice(keys.tenantPartition("").length);
        const secret = item["secret"]?.S;
        if (tenantId && secret) secrets.set(tenantId, secret);
      }
      cursor = page.LastEvaluatedKey as Record<string, never> | undefined;
    } while (cursor);
    return secrets;
  };
}
