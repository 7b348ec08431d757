import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEphemeralProduct, type EphemeralProduct } from "../../lib/dev/ephemeral-product.ts";
import { eventually } from "../support/eventually.ts";

const run = promisify(execFile);
let env: EphemeralProduct;

beforeAll(async () => {
  env = await startEphemeralProduct({ retrySchedule: [0, 1, 1] });
});
afterAll(() => env?.stop());

const api = (method: string, route: string, body?: unknown) =>
  fetch(`${env.product.apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${env.product.local.token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const emit = (...args: string[]) =>
  run(process.execPath, ["--import", "tsx", "bin/emit.ts", ...args, "--outputs", env.product.outputsFile]);


describe("npm start's tools: the inspector and npm run emit", () => {
  it("shows a verified delivery in the inspector and success in the logs", async () => {
    const subscribed = await api("POST", "/portal/api/ext/webhook", { evento: "invoice.authorized", endpoint: env.product.local.inspectorUrl });
    expect(subscribed.status).toBe(201);
    const { stdout } = await emit("invoice.authorized", "--data", '{"chave":"3524"}', "--id", "nfe-1");
    expect(stdout).toMatch(/Event nfe-1 \(invoice.authorized\) sent/);

    const webhook = await eventually(() => env.product.inspector.received.find((w) => w.body.includes("nfe-1")));
    expect(webhook).toMatchObject({ tenantId: env.product.local.tenantId, hmacSignature: true, standardWebhooksSignature: true, answeredStatus: 200 });
    const logs = await eventually(async () => {
      const lines = (await (await api("GET", "/webhooks/logs")).json()) as { id: string; status: string }[];
      return lines.find((l) => l.id === webhook.headers["webhook-id"] && l.status === "success");
    });
    expect(logs).toBeDefined();
  });

  it("shows the retries against a failing inspector path, each failure in falhas, then the DLQ", async () => {
    await api("POST", "/portal/api/ext/webhook", { evento: "boleto.paid", endpoint: env.product.local.inspectorUrl.replace("/webhooks", "/status/503") });
    await emit("boleto.paid", "--id", "boleto-1");
    const failed = await eventually(async () => {
      const lines = (await (await api("GET", "/webhooks/logs")).json()) as { status: string; attempts: number }[];
      return lines.find((l) => l.status === "failed");
    }, 30_000);
    expect(failed.attempts).toBe(3);
    const failures = (await (await api("GET", "/portal/api/ext/webhook/falhas")).json()) as { descricao: string; evento: string }[];
    expect(failures.filter((f) => f.evento === "boleto.paid").map((f) => f.descricao)).toEqual(Array(3).fill("HTTP 503 Service Unavailable"));
  });

  it("emits a document's key, CNPJ and sequence, which reach the receiver at the top of the body", async () => {
    await api("POST", "/portal/api/ext/webhook", { evento: "invoice.canceled", endpoint: env.product.local.inspectorUrl });
    const key = "35240112345678000195550010000001231000000011";
    await emit("invoice.canceled", "--id", "nfe-cancel-1", "--document-key", key, "--cnpj", "12.345.678/0001-95", "--sequence", "1");
    const webhook = await eventually(() => env.product.inspector.received.find((w) => w.body.includes("nfe-cancel-1")));
    expect(webhook).toMatchObject({ hmacSignature: true, standardWebhooksSignature: true });
    expect(JSON.parse(webhook.body)).toMatchObject({ id: "nfe-cancel-1", type: "invoice.canceled", documentKey: key, cnpj: "12345678000195", sequence: 1, data: {} });
  });

  it("refuses to emit an event that breaks the contract, saying why", async () => {
    const failure = await emit("invoice.exploded").catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 2, stderr: expect.stringMatching(/type: must be one of the event catalogue's types/) });
    const badData = await emit("invoice.authorized", "--data", "[1]").catch((error: { code: number; stderr: string }) => error);
    expect(badData).toMatchObject({ code: 2, stderr: expect.stringMatching(/data: must be a JSON object/) });
    const operational = await emit("webhook.delivery.exhausted", "--data", '{"endpoint":"https://a.example/"}').catch((error: { code: number; stderr: string }) => error);
    expect(operational).toMatchObject({ code: 2, stderr: expect.stringMatching(/webhook\.delivery\.exhausted is an operational event: only the product emits it/) });
    const badKey = await emit("invoice.authorized", "--document-key", "35240112345678000195550010000001231000000013").catch((error: { code: number; stderr: string }) => error);
    expect(badKey).toMatchObject({ code: 2, stderr: expect.stringMatching(/documentKey: 35240112345678000195550010000001231000000013: check digit is 3, expected 1/) });
    const badCnpj = await emit("invoice.authorized", "--cnpj", "11.222.333/0001-82").catch((error: { code: number; stderr: string }) => error);
    expect(badCnpj).toMatchObject({ code: 2, stderr: expect.stringMatching(/cnpj: 11222333000182 has invalid check digits/) });
    const badSequence = await emit("invoice.authorized", "--sequence", "first").catch((error: { code: number; stderr: string }) => error);
    expect(badSequence).toMatchObject({ code: 2, stderr: expect.stringMatching(/sequence: must be a positive integer/) });
  });
});
