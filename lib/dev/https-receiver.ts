import { createHmac, timingSafeEqual } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { createLocalCertificateAuthority, type IssuedCertificate } from "./certificates.ts";

/** The API document's receiver snippet, unchanged. */
function verifyWebhook(payload: string, signature: string, secret: string): boolean {
  const expected = createHmac("sha256", secret).update(payload).digest("hex");
  return timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}

export interface ReceivedWebhook {
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
  readonly receivedAt: number;
}

export type Behaviour = (webhook: ReceivedWebhook, response: ServerResponse, count: number) => void;

/** An HTTPS webhook receiver on 127.0.0.1 with a programmable answer, recording what it got. */
export interface TestReceiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  behave(behaviour: Behaviour): void;
  close(): Promise<void>;
}

export interface ReceiverFactory {
  /** The CA file to hand the local runtime (NODE_EXTRA_CA_CERTS for its functions). */
  readonly caFile: string;
  start(behaviour?: Behaviour): Promise<TestReceiver>;
}

export const answer =
  (status: number, body = "", headers: Record<string, string> = {}): Behaviour =>
  (_webhook, response) => {
    response.writeHead(status, headers);
    response.end(body);
  };

export async function receiverFactory(dir: string): Promise<ReceiverFactory> {
  const authority = await createLocalCertificateAuthority("Fiscal Webhooks Test CA");
  const caFile = path.join(dir, "test-ca.pem");
  writeFileSync(caFile, authority.caCert);
  const certificate: IssuedCertificate = await authority.issueLoopbackCertificate();
  return {
    caFile,
    async start(initial = answer(200, "OK")) {
      let behaviour = initial;
      const received: ReceivedWebhook[] = [];
      const server: Server = createServer(certificate, (request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
          const webhook = { headers: request.headers, body: Buffer.concat(chunks).toString("utf8"), receivedAt: Date.now() };
          received.push(webhook);
          behaviour(webhook, response, received.length);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;
      return {
        url: `https://127.0.0.1:${port}/webhooks`,
        received,
        behave: (next) => {
          behaviour = next;
        },
        close: () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      };
    },
  };
}

/** Checks both signatures of a received webhook with the tenant's secret. */
export function verifyBoth(webhook: ReceivedWebhook, secret: string): { snippet: boolean; standard: boolean } {
  const snippet = verifyWebhook(webhook.body, String(webhook.headers["x-webhook-signature"]), secret);
  let standard = false;
  try {
    new Webhook(secret).verify(webhook.body, {
      "webhook-id": String(webhook.headers["webhook-id"]),
      "webhook-timestamp": String(webhook.headers["webhook-timestamp"]),
      "webhook-signature": String(webhook.headers["webhook-signature"]),
    });
    standard = true;
  } catch {
    standard = false;
  }
  return { snippet, standard };
}
