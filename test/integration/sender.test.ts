import { lookup } from "node:dns/promises";
import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createWebhookSender,
  describeFailure,
  describeStatus,
  parseRetryAfter,
  type SenderOptions,
  type WebhookSender,
} from "../../lambdas/delivery/sender.ts";
import { createLocalCertificateAuthority } from "../../lib/dev/certificates.ts";
import { freePort } from "../../lib/local-aws/net.ts";

describe("Retry-After", () => {
  const now = new Date("2026-03-10T12:00:00Z");

  it.each([
    ["120", 120],
    [" 0 ", 0],
    ["Tue, 10 Mar 2026 12:01:30 GMT", 90],
    ["Tuesday, 10-Mar-26 12:00:10 GMT", 10],
    ["Tue Mar 10 12:00:05 2026", 5],
    ["Mon, 09 Mar 2026 12:00:00 GMT", 0],
  ])("reads %j as %i seconds", (value, seconds) => {
    expect(parseRetryAfter(value, now)).toBe(seconds);
  });

  it.each([undefined, "", "-5", "1.5", "soon", "Xyz, 99 Foo 2026"])("ignores %j", (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe("failure texts", () => {
  it.each([
    [{ code: "ECONNREFUSED", message: "connect ECONNREFUSED 1.2.3.4:443" }, "connection refused"],
    [{ code: "ECONNRESET", message: "socket hang up" }, "connection reset"],
    [{ code: "ENOTFOUND", message: "getaddrinfo ENOTFOUND nfe.example" }, "DNS: host not found"],
    [{ code: "DEPTH_ZERO_SELF_SIGNED_CERT", message: "self-signed certificate" }, "TLS: self-signed certificate"],
    [{ code: "CERT_HAS_EXPIRED", message: "certificate has expired" }, "TLS: certificate has expired"],
    [
      { code: "EPROTO", message: "write EPROTO 40E8:error:0A00010B:SSL routines::wrong version number", reason: "wrong version number" },
      "TLS: wrong version number",
    ],
    [{ code: "ERR_BLOCKED_ADDRESS", message: "blocked: 10.0.0.5 is a private address" }, "blocked: 10.0.0.5 is a private address"],
    [{ code: "EWHATEVER", message: "something odd" }, "EWHATEVER: something odd"],
    [{ message: "no code at all" }, "no code at all"],
  ])("describes %j", (error, text) => {
    expect(describeFailure(error)).toBe(text);
  });

  it("name the status, and the destination of a redirect", () => {
    const url = new URL("https://erp.example/hooks/nfe");
    expect(describeStatus(503, undefined, url)).toBe("HTTP 503 Service Unavailable");
    expect(describeStatus(301, "/v2/hooks", url)).toBe("redirect 301 to https://erp.example/v2/hooks not followed");
    expect(describeStatus(304, undefined, url)).toBe("HTTP 304 Not Modified");
    expect(describeStatus(599, undefined, url)).toBe("HTTP 599");
  });
});

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

interface Receiver {
  readonly url: string;
  readonly port: number;
  /** TCP connections accepted, whether or not TLS completed. */
  readonly connections: Socket[];
  readonly requests: IncomingMessage[];
}

describe("webhook sender", () => {
  let dir: string;
  let caFile: string;
  let tls: { key: string; cert: string };
  const servers: Server[] = [];
  const senders: WebhookSender[] = [];

  beforeAll(async () => {
    // A CA and a server certificate it signed, as a receiver behind a private CA would have.
    const authority = await createLocalCertificateAuthority("Fiscal Webhooks Test CA");
    tls = await authority.issueLoopbackCertificate();
    dir = mkdtempSync(join(tmpdir(), "sender-test-"));
    caFile = join(dir, "ca.pem");
    await authority.writeCaFile(caFile);
  });

  afterEach(() => {
    for (const sender of senders.splice(0)) sender.close();
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function receiver(handler: Handler): Promise<Receiver> {
    const connections: Socket[] = [];
    const requests: IncomingMessage[] = [];
    const server = createServer(tls, (request, response) => {
      requests.push(request);
      handler(request, response);
    });
    server.on("connection", (socket: Socket) => connections.push(socket));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `https://127.0.0.1:${port}/hooks`, port, connections, requests };
  }

  function sender(options: Partial<SenderOptions> = {}): WebhookSender {
    const created = createWebhookSender({ allowLoopback: true, extraCaFile: caFile, ...options });
    senders.push(created);
    return created;
  }

  const post = (url: string, timeoutMs = 5000) => ({
    url,
    body: '{"evento":"nfe.autorizada","emitente":"Açúcar & Café"}',
    headers: { "webhook-id": "msg_1" },
    timeoutMs,
  });

  const readBody = (request: IncomingMessage) =>
    new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    });

  it("posts the exact body as JSON and reads the answer", async () => {
    const { url, requests } = await receiver(async (request, response) => {
      response.end(`echo:${await readBody(request)}`);
    });
    const request = post(url);
    const result = await sender({ userAgent: "fiscal-webhooks/test" }).send(request);
    expect(result).toMatchObject({ ok: true, statusCode: 200, body: `echo:${request.body}` });
    expect(result.failure).toBeUndefined();
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(requests[0]?.method).toBe("POST");
    expect(requests[0]?.url).toBe("/hooks");
    expect(requests[0]?.headers).toMatchObject({
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(request.body)),
      "user-agent": "fiscal-webhooks/test",
      "webhook-id": "msg_1",
    });
  });

  it.each([
    [500, "HTTP 500 Internal Server Error"],
    [503, "HTTP 503 Service Unavailable"],
  ])("reports HTTP %i as a failure", async (status, failure) => {
    const { url } = await receiver((_request, response) => {
      response.statusCode = status;
      response.end("try later");
    });
    expect(await sender().send(post(url))).toMatchObject({ ok: false, statusCode: status, failure, body: "try later" });
  });

  it("passes on Retry-After in seconds and as an HTTP-date", async () => {
    let retryAfter = "120";
    const { url } = await receiver((_request, response) => {
      response.writeHead(429, { "retry-after": retryAfter }).end();
    });
    const client = sender();
    expect(await client.send(post(url))).toMatchObject({ ok: false, statusCode: 429, retryAfterSeconds: 120 });
    retryAfter = new Date(Date.now() + 90_000).toUTCString();
    const dated = await client.send(post(url));
    expect(dated.retryAfterSeconds).toBeGreaterThanOrEqual(88);
    expect(dated.retryAfterSeconds).toBeLessThanOrEqual(90);
  });

  it("gives up after the timeout when the receiver never answers", async () => {
    const { url } = await receiver(() => {});
    const result = await sender().send(post(url, 300));
    expect(result).toMatchObject({ ok: false, failure: "timeout after 300 ms", body: "" });
    expect(result.statusCode).toBeUndefined();
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    expect(result.durationMs).toBeLessThan(2000);
  });

  it("counts a body that never ends within the timeout as a timeout", async () => {
    const { url } = await receiver((_request, response) => {
      response.writeHead(200).write("{");
    });
    expect(await sender().send(post(url, 300))).toMatchObject({
      ok: false,
      statusCode: 200,
      body: "{",
      failure: "timeout after 300 ms",
    });
  });

  it("reports a connection the receiver resets", async () => {
    const { url } = await receiver((request) => request.socket.destroy());
    expect(await sender().send(post(url))).toMatchObject({ ok: false, failure: "connection reset" });
  });

  it("reports a closed port as connection refused", async () => {
    expect(await sender().send(post(`https://127.0.0.1:${await freePort()}/hooks`))).toMatchObject({
      ok: false,
      failure: "connection refused",
    });
  });

  it("does not follow a redirect", async () => {
    const { url, port, requests } = await receiver((_request, response) => {
      response.writeHead(301, { location: "/moved" }).end();
    });
    expect(await sender().send(post(url))).toMatchObject({
      ok: false,
      statusCode: 301,
      failure: `redirect 301 to https://127.0.0.1:${port}/moved not followed`,
    });
    expect(requests).toHaveLength(1);
  });

  it("cuts the answer at its bound", async () => {
    const { url } = await receiver((_request, response) => response.end("x".repeat(10_000)));
    expect((await sender().send(post(url))).body).toBe("x".repeat(4096));
    expect((await sender({ maxResponseBytes: 10 }).send(post(url))).body).toBe("x".repeat(10));
  });

  it("does not wait for an endless answer", async () => {
    let flooding = false;
    const { url } = await receiver((_request, response) => {
      response.writeHead(200);
      flooding = true;
      const flood = setInterval(() => response.write("y".repeat(1024)), 5);
      response.on("close", () => {
        clearInterval(flood);
        flooding = false;
      });
    });
    const result = await sender().send(post(url, 10_000));
    expect(result).toMatchObject({ ok: true, statusCode: 200, body: "y".repeat(4096) });
    expect(result.durationMs).toBeLessThan(5000);
    // The sender hung up rather than keep draining the answer.
    await vi.waitFor(() => expect(flooding).toBe(false), { timeout: 2000 });
  });

  describe("without loopback allowed", () => {
    it.each([
      ["an IPv4 literal", (port: number) => `https://127.0.0.1:${port}/hooks`, async () => "127.0.0.1"],
      ["a name resolving to loopback", (port: number) => `https://localhost:${port}/hooks`, async () => (await lookup("localhost")).address],
      ["an IPv4-mapped IPv6 literal", (port: number) => `https://[::ffff:127.0.0.1]:${port}/hooks`, async () => "::ffff:7f00:1"],
    ])("refuses %s before connecting", async (_kind, urlFor, address) => {
      const { port, connections } = await receiver((_request, response) => response.end());
      const result = await sender({ allowLoopback: false }).send(post(urlFor(port)));
      expect(result).toMatchObject({ ok: false, failure: `blocked: ${await address()} is a loopback address` });
      expect(result.statusCode).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(connections).toHaveLength(0);
    });
  });

  it("posts only to https URLs", async () => {
    const { port, connections } = await receiver((_request, response) => response.end());
    expect(await sender().send(post(`http://127.0.0.1:${port}/hooks`))).toMatchObject({
      ok: false,
      failure: "only https URLs are delivered to, not http",
    });
    expect(await sender().send(post("not a url"))).toMatchObject({ ok: false, failure: "invalid URL" });
    expect(connections).toHaveLength(0);
  });

  it("refuses a certificate from a CA it was not given", async () => {
    const { url } = await receiver((_request, response) => response.end());
    const result = await sender({ extraCaFile: undefined }).send(post(url));
    expect(result).toMatchObject({ ok: false, failure: "TLS: unable to verify the first certificate" });
  });

  it("reuses one connection for consecutive deliveries", async () => {
    const { url, connections, requests } = await receiver((_request, response) => response.end("ok"));
    const client = sender();
    expect(await client.send(post(url))).toMatchObject({ ok: true });
    expect(await client.send(post(url))).toMatchObject({ ok: true });
    expect(requests).toHaveLength(2);
    expect(connections).toHaveLength(1);
    expect(requests[1]?.socket.remotePort).toBe(requests[0]?.socket.remotePort);
  });

  it("sends again on a new connection when the pooled one turns out closed", async () => {
    // The receiver drops idle keep-alive connections the moment they are reused.
    const served = new WeakSet<Socket>();
    const { url, connections, requests } = await receiver((request, response) => {
      if (served.has(request.socket)) return request.socket.destroy();
      served.add(request.socket);
      response.end("ok");
    });
    const client = sender();
    expect(await client.send(post(url))).toMatchObject({ ok: true });
    expect(await client.send(post(url))).toMatchObject({ ok: true, body: "ok" });
    expect(requests).toHaveLength(3);
    expect(connections).toHaveLength(2);
  });
});
