import { ScanCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { keys } from "../../lambdas/data/keys.ts";
import type { IssuedCertificate } from "./certificates.ts";
import { portError } from "./emulators.ts";

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
 * (e.g. /status/503 to watch the retries); any other path answers 200.
 */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const received: InspectedWebhook[] = [];
  const server = createServer(options.certificate, (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
        const status = Number(/^\/status\/([1-5][0-9][0-9])$/.exec(request.url?.split("?")[0] ?? "")?.[1] ?? 200);
        const verdict = verify(body, headers, await options.secrets().catch(() => new Map<string, string>()));
        const webhook: InspectedWebhook = {
          receivedAt: new Date().toISOString(),
          path: request.url ?? "/",
          headers,
          body,
          ...verdict,
          answeredStatus: status,
        };
        received.push(webhook);
        if (received.length > KEEP) received.shift();
        options.onWebhook?.(webhook);
        response.writeHead(status, { "content-type": "text/plain" });
        response.end(status < 300 ? "OK" : `inspector answered ${status}`);
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(portError(error, options.host, options.port, "Inspector")));
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://${options.host}:${port}/webhooks`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function verify(body: string, headers: Record<string, string>, secrets: Map<string, string>) {
  for (const [tenantId, secret] of secrets) {
    const expected = createHmac("sha256", secret).update(body).digest("hex");
    const given = Buffer.from(headers["x-webhook-signature"] ?? "");
    const hmacSignature = given.length === expected.length && timingSafeEqual(given, Buffer.from(expected));
    let standardWebhooksSignature = false;
    try {
      new Webhook(secret).verify(body, headers);
      standardWebhooksSignature = true;
    } catch {
      standardWebhooksSignature = false;
    }
    if (hmacSignature || standardWebhooksSignature) return { tenantId, hmacSignature, standardWebhooksSignature };
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
