// The baseline's HTTPS receiver in its own process (forked by baseline.ts): answers every POST
// 200 once its body is read, on keep-alive connections, and reports its CPU time when asked.
import type { AddressInfo } from "node:net";
import { createServer } from "node:https";
import type { IssuedCertificate } from "../lib/dev/certificates.ts";

type Request = { readonly kind: "start"; readonly certificate: IssuedCertificate } | { readonly kind: "cpu" };

const send = (message: unknown) => process.send?.(message);

process.on("message", (message: Request) => {
  if (message.kind === "cpu") {
    const { user, system } = process.cpuUsage();
    send({ kind: "cpu", micros: user + system });
    return;
  }
  const server = createServer({ ...message.certificate, keepAliveTimeout: 60_000 }, (request, response) => {
    request.on("data", () => undefined);
    request.on("end", () => {
      response.writeHead(200, { "content-type": "text/plain" });
      response.end("OK");
    });
  });
  server.listen(0, "127.0.0.1", () => send({ kind: "listening", port: (server.address() as AddressInfo).port }));
});
// The bench ended (or died): so does the receiver.
process.on("disconnect", () => process.exit(0));
