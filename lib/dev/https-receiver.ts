import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { createServer } from "node:https";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { boundPort, closeNow, listen } from "../local-aws/net.ts";
import { createLocalCertificateAuthority, type IssuedCertificate } from "./certificates.ts";

export interface ReceivedWebhook {
  /** The request target, query string included. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly receivedAt: number;
}

/** How the receiver answers (it may be async); `count` is how many webhooks it has received, this one included. */
export type Behaviour = (webhook: ReceivedWebhook, response: ServerResponse, count: number) => unknown;

/** An HTTPS webhook receiver on loopback with a programmable answer, recording what it got. */
export interface HttpsReceiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  behave(behaviour: Behaviour): void;
  close(): Promise<void>;
}

export interface HttpsReceiverOptions {
  readonly certificate: IssuedCertificate;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** The answer until `behave` changes it; default 200 OK. */
  readonly behaviour?: Behaviour;
  /** Keeps only the latest `keep` webhooks; all by default. */
  readonly keep?: number;
  /** Names the receiver in a busy-port error. */
  readonly name?: string;
}

export const answer =
  (status: number, body = "", headers: Record<string, string> = {}): Behaviour =>
  (_webhook, response) => {
    response.writeHead(status, headers);
    response.end(body);
  };

export async function startHttpsReceiver(options: HttpsReceiverOptions): Promise<HttpsReceiver> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  let behaviour = options.behaviour ?? answer(200, "OK");
  let count = 0;
  const received: ReceivedWebhook[] = [];
  const server = createServer(options.certificate, (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const webhook: ReceivedWebhook = {
        path: request.url ?? "/",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        receivedAt: Date.now(),
      };
      received.push(webhook);
      if (options.keep !== undefined && received.length > options.keep) received.shift();
      count++;
      void (async () => behaviour(webhook, response, count))().catch(() => response.destroy());
    });
  });
  await listen(server, host, port, options.name ?? "Receiver");
  return {
    url: `https://${host}:${boundPort(server)}/webhooks`,
    received,
    behave: (next) => {
      behaviour = next;
    },
    close: () => closeNow(server),
  };
}

export interface ReceiverFactory {
  /** The CA file to hand the local runtime (NODE_EXTRA_CA_CERTS for its functions). */
  readonly caFile: string;
  /** The loopback certificate the receivers serve (for a receiver in another process). */
  readonly certificate: IssuedCertificate;
  start(behaviour?: Behaviour): Promise<HttpsReceiver>;
}

/** Receivers on 127.0.0.1 that share one throwaway CA, written to `dir`. */
export async function receiverFactory(dir: string): Promise<ReceiverFactory> {
  const authority = await createLocalCertificateAuthority("Fiscal Webhooks Test CA");
  const caFile = path.join(dir, "test-ca.pem");
  await authority.writeCaFile(caFile);
  const certificate = await authority.issueLoopbackCertificate();
  return {
    caFile,
    certificate,
    start: (behaviour) => startHttpsReceiver({ certificate, ...(behaviour ? { behaviour } : {}) }),
  };
}

/** The API document's receiver snippet, unchanged. */
export function verifyWebhook(payload: string, signature: string, secret: string): boolean {
  const expected = createHmac("sha256", secret).update(payload).digest("hex");
  return timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}

/** Checks both signatures of a received webhook with a tenant's secret. */
export function verifyBoth(
  webhook: { readonly headers: IncomingHttpHeaders; readonly body: string },
  secret: string,
): { snippet: boolean; standard: boolean } {
  const header = (name: string) => String(webhook.headers[name]);
  return {
    snippet: passes(() => verifyWebhook(webhook.body, header("x-webhook-signature"), secret)),
    standard: passes(() =>
      new Webhook(secret).verify(webhook.body, {
        "webhook-id": header("webhook-id"),
        "webhook-timestamp": header("webhook-timestamp"),
        "webhook-signature": header("webhook-signature"),
      }),
    ),
  };
}

/** Both checks throw on some bad signatures (the snippet on one of another length). */
function passes(check: () => unknown): boolean {
  try {
    return check() !== false;
  } catch {
    return false;
  }
}
