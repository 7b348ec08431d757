import type { IncomingHttpHeaders } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { OUTPUTS } from "../../lambdas/contract/resources.ts";
import { DeadLetterStore } from "../../lambdas/data/dead-letters.ts";
import { answer, verifyBoth, type Behaviour } from "../../lib/dev/https-receiver.ts";
import type { ApiCall } from "../../lib/dev/ephemeral-product.ts";
import { eventually } from "../support/eventually.ts";
import { PORTAL, pipelineFixture } from "../support/pipeline.ts";
import { problemOf } from "../support/product.ts";

/** Every line the functions logged: no credential may ever be among them. */
const logLines: string[] = [];
// Six attempts a second apart: enough to change a credential between retries, quick to exhaust.
const fixture = pipelineFixture({ retrySchedule: [0, 1, 1, 1, 1, 1], functionOutput: (_fn, line) => logLines.push(line) });
const { receiver, tenantWith } = fixture;

/** Every secret this file sends: each is looked for where it must never be. */
const SECRETS: string[] = [];
const secret = (label: string) => {
  const value = `${label}-${Math.random().toString(36).slice(2)}-S3CR3T`;
  SECRETS.push(value);
  return value;
};
const basicOf = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
const expectNoSecret = (text: string) => {
  for (const value of SECRETS) expect(text).not.toContain(value);
};
const portalJson = async (response: Response, status: number) => {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expectNoSecret(text);
  return JSON.parse(text) as Record<string, unknown>;
};
const deliveryOf = (headers: IncomingHttpHeaders) => JSON.stringify(headers);
const emit = async (tenantId: string, type: string, data: Record<string, unknown> = {}) => void (await fixture.emit({ tenantId, type, data }));
const logLine = async (call: ApiCall, status: string) =>
  eventually(async () => ((await (await call("GET", "/webhooks/logs?limit=100")).json()) as { status: string; attempts: number }[]).find((l) => l.status === status), 30_000);

afterAll(() => {
  // After every scenario, each function's every line: not one secret, whole or as sent (Basic).
  for (const line of logLines) {
    expectNoSecret(line);
    expect(line).not.toMatch(/Basic [A-Za-z0-9+/=]{8,}|Bearer [^"\s]+-S3CR3T/);
  }
});

describe("receiver authentication on Portal subscriptions", () => {
  it("sends Basic, Bearer or a custom header with each delivery, still signed, and shows them masked", async () => {
    const hook = await receiver();
    const password = secret("senha");
    const token = secret("token");
    const apiKey = secret("chave");
    const tenant = await tenantWith([]);
    const subscribe = async (evento: string, autenticacao: Record<string, string>) =>
      portalJson(await tenant.call("POST", PORTAL, { evento, endpoint: `${hook.url}?${evento}`, autenticacao }), 201);
    const basic = await subscribe("invoice.authorized", { tipo: "basic", usuario: "fiscal", senha: password });
    const bearer = await subscribe("invoice.canceled", { tipo: "bearer", token });
    const header = await subscribe("boleto.paid", { tipo: "cabecalho", nome: "X-Api-Key", valor: apiKey });
    expect(basic).toEqual({ id: expect.any(Number), evento: "invoice.authorized", endpoint: `${hook.url}?invoice.authorized`, autenticacao: { tipo: "basic", usuario: "fiscal", senha: "****" }, situacao: { codigo: "ativa" } });
    expect(bearer["autenticacao"]).toEqual({ tipo: "bearer", token: "****" });
    expect(header["autenticacao"]).toEqual({ tipo: "cabecalho", nome: "X-Api-Key", valor: "****" });
    const listed = (await portalJson(await tenant.call("GET", PORTAL), 200)) as unknown as Record<string, unknown>[];
    expect(listed).toEqual(expect.arrayContaining([basic, bearer, header]));

    for (const type of ["invoice.authorized", "invoice.canceled", "boleto.paid"]) await emit(tenant.tenantId, type);
    await eventually(() => hook.received.length === 3);
    const to = (type: string) => hook.received.find((w) => w.path.endsWith(`?${type}`))!;
    for (const webhook of hook.received) expect(verifyBoth(webhook, tenant.secret)).toEqual({ snippet: true, standard: true });
    expect(to("invoice.authorized").headers["authorization"]).toBe(basicOf("fiscal", password));
    expect(to("invoice.canceled").headers["authorization"]).toBe(`Bearer ${token}`);
    expect(to("boleto.paid").headers["x-api-key"]).toBe(apiKey);
    expect(to("boleto.paid").headers["authorization"]).toBeUndefined();
  });

  it("keeps the credential on a PUT without autenticacao, and sends a changed or removed one from the next attempt on", async () => {
    // Answers 503 to anything that carries a credential: the delivery only succeeds once it goes without.
    const hook = await receiver((webhook, response, count) => answer(webhook.headers["authorization"] ? 503 : 200)(webhook, response, count));
    const first = secret("first");
    const second = secret("second");
    const tenant = await tenantWith([]);
    const created = await portalJson(
      await tenant.call("POST", PORTAL, { evento: "cte.authorized", endpoint: hook.url, autenticacao: { tipo: "bearer", token: first } }),
      201,
    );
    const id = Number(created["id"]);
    // A client of the original document sends no autenticacao: the credential stays.
    const kept = await portalJson(await tenant.call("PUT", `${PORTAL}/${id}`, { id, evento: "cte.authorized", endpoint: hook.url }), 200);
    expect(kept["autenticacao"]).toEqual({ tipo: "bearer", token: "****" });
    // A read PUT back as it is (credential masked, situacao read-only) changes nothing: the first token stays.
    expect(await portalJson(await tenant.call("PUT", `${PORTAL}/${id}`, kept), 200)).toEqual(kept);
    // A mask standing for no stored credential is refused, never stored as a secret.
    const masked = await problemOf(
      await tenant.call("PUT", `${PORTAL}/${id}`, { id, evento: "cte.authorized", endpoint: hook.url, autenticacao: { tipo: "basic", usuario: "x", senha: "****" } }),
      400,
    );
    expect(masked["errors"]).toEqual([expect.objectContaining({ field: "autenticacao", rule: "masked" })]);

    await emit(tenant.tenantId, "cte.authorized");
    await eventually(() => hook.received.length >= 1);
    await portalJson(await tenant.call("PUT", `${PORTAL}/${id}`, { id, evento: "cte.authorized", endpoint: hook.url, autenticacao: { tipo: "bearer", token: second } }), 200);
    await eventually(() => hook.received.some((w) => w.headers["authorization"] === `Bearer ${second}`), 30_000);
    const removed = await portalJson(await tenant.call("PUT", `${PORTAL}/${id}`, { id, evento: "cte.authorized", endpoint: hook.url, autenticacao: null }), 200);
    expect(removed).toEqual({ id, evento: "cte.authorized", endpoint: hook.url, situacao: { codigo: "ativa" } });
    expect(await portalJson(await tenant.call("GET", PORTAL), 200)).toEqual([removed]);

    const line = await logLine(tenant.call, "success");
    const sent = hook.received.map((w) => w.headers["authorization"]);
    expect(line.attempts).toBe(sent.length);
    // First the old token, then the new one, then none: each attempt read the credential of its time.
    const phases = sent.map((value) => (value === `Bearer ${first}` ? 1 : value === `Bearer ${second}` ? 2 : value === undefined ? 3 : 0));
    expect(phases).toEqual([...phases].sort());
    expect(phases[0]).toBe(1);
    expect(phases.at(-1)).toBe(3);
    expect(phases).toContain(2);
    for (const webhook of hook.received) expect(verifyBoth(webhook, tenant.secret)).toEqual({ snippet: true, standard: true });
    expect(new Set(hook.received.map((w) => w.headers["webhook-id"])).size).toBe(1);
  });

  it("queues only a reference: a dead letter holds no credential, and its retry sends the current one", async () => {
    const down: Behaviour = answer(500, "down");
    const hook = await receiver(down);
    const password = secret("dlq");
    const tenant = await tenantWith([]);
    const created = await portalJson(
      await tenant.call("POST", PORTAL, { evento: "mdfe.authorized", endpoint: hook.url, autenticacao: { tipo: "basic", usuario: "joão", senha: password } }),
      201,
    );
    await emit(tenant.tenantId, "mdfe.authorized", { n: 1 });
    const [letter] = await eventually(async () => {
      const listed = (await (await tenant.call("GET", "/webhooks/dlq")).json()) as { id: string }[];
      return listed.length === 1 ? listed : undefined;
    }, 30_000);
    expect(hook.received).toHaveLength(6);
    for (const webhook of hook.received) expect(webhook.headers["authorization"]).toBe(basicOf("joão", password));

    // What travelled through the queues is the dead message, as the DLQ indexer stored it.
    const stored = await new DeadLetterStore(fixture.env.documents, String(fixture.env.product.outputs[OUTPUTS.tableName])).get(tenant.tenantId, letter!.id);
    expect(stored?.delivery.credential).toEqual({ subscription: created["id"] });
    expectNoSecret(JSON.stringify(stored));

    hook.behave(answer(200, "OK"));
    expect((await tenant.call("POST", `/webhooks/dlq/${letter!.id}/retry`)).status).toBe(202);
    await eventually(() => hook.received.length === 7);
    expect(hook.received[6]!.headers["authorization"]).toBe(basicOf("joão", password));
    expect(verifyBoth(hook.received[6]!, tenant.secret)).toEqual({ snippet: true, standard: true });
  });

  it("refuses bad credentials with a 400 naming the field, never echoing what was sent", async () => {
    const tenant = await tenantWith([]);
    const leaked = secret("leak");
    const cases: [unknown, string, string][] = [
      [{ tipo: "digest", usuario: "u", senha: leaked }, "autenticacao/tipo", "invalid_union"],
      [{ tipo: "basic", usuario: "a:b", senha: leaked }, "autenticacao/usuario", "colon"],
      [{ tipo: "basic", usuario: "", senha: leaked }, "autenticacao/usuario", "length"],
      [{ tipo: "basic", usuario: "u", senha: `${leaked}\r\nX-Injected: 1` }, "autenticacao/senha", "controlCharacter"],
      [{ tipo: "basic", usuario: "u" }, "autenticacao/senha", "required"],
      [{ tipo: "bearer", token: `${leaked}\n` }, "autenticacao/token", "controlCharacter"],
      [{ tipo: "bearer", token: `${leaked}\u0000` }, "autenticacao/token", "controlCharacter"],
      [{ tipo: "bearer", token: "" }, "autenticacao/token", "length"],
      [{ tipo: "bearer", token: "x".repeat(1025) }, "autenticacao/token", "length"],
      [{ tipo: "bearer", token: `two ${leaked}` }, "autenticacao/token", "printableAscii"],
      [{ tipo: "bearer", token: leaked, extra: leaked }, "autenticacao/extra", "unknownField"],
      [{ tipo: "cabecalho", nome: "X Api Key", valor: leaked }, "autenticacao/nome", "token"],
      [{ tipo: "cabecalho", nome: "X-Key:", valor: leaked }, "autenticacao/nome", "token"],
      [{ tipo: "cabecalho", nome: "", valor: leaked }, "autenticacao/nome", "length"],
      [{ tipo: "cabecalho", nome: "X-Api-Key", valor: `${leaked}\rX` }, "autenticacao/valor", "controlCharacter"],
      [{ tipo: "cabecalho", nome: "X-Api-Key", valor: "" }, "autenticacao/valor", "length"],
      [{ tipo: "cabecalho", nome: "X-Api-Key", valor: "x".repeat(1025) }, "autenticacao/valor", "length"],
      [leaked, "autenticacao", "invalid_type"],
      ...[
        "Connection", "Keep-Alive", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length",
        "Content-Type", "Expect", "webhook-id", "webhook-timestamp", "Webhook-Signature", "X-Webhook-Signature", "X-Webhook-Event",
        "X-Webhook-Attempt", "Authorization",
      ].map((nome): [unknown, string, string] => [{ tipo: "cabecalho", nome, valor: leaked }, "autenticacao/nome", "reservedHeader"]),
    ];
    const hook = await receiver();
    const existing = await portalJson(await tenant.call("POST", PORTAL, { evento: "boleto.paid", endpoint: hook.url }), 201);
    for (const [autenticacao, field, rule] of cases) {
      for (const [method, path, body] of [
        ["POST", PORTAL, { evento: "boleto.paid", endpoint: `${hook.url}?x`, autenticacao }],
        ["PUT", `${PORTAL}/${existing["id"]}`, { id: existing["id"], evento: "boleto.paid", endpoint: hook.url, autenticacao }],
      ] as const) {
        const response = await tenant.call(method, path, body);
        const text = await response.clone().text();
        const problem = await problemOf(response, 400);
        expect(problem["errors"], `${method} ${JSON.stringify(autenticacao).slice(0, 80)}`).toContainEqual(expect.objectContaining({ field, rule }));
        expectNoSecret(text);
      }
    }
    // Nothing was created or changed.
    expect(await portalJson(await tenant.call("GET", PORTAL), 200)).toEqual([existing]);
  });

  it("belongs to its tenant: another tenant can neither see nor change it", async () => {
    const hook = await receiver();
    const owner = await tenantWith([]);
    const other = await tenantWith([]);
    const token = secret("owner");
    const created = await portalJson(await owner.call("POST", PORTAL, { evento: "cte.canceled", endpoint: hook.url, autenticacao: { tipo: "bearer", token } }), 201);
    const id = created["id"];
    expect(await portalJson(await other.call("GET", PORTAL), 200)).toEqual([]);
    await problemOf(await other.call("PUT", `${PORTAL}/${id}`, { id, evento: "cte.canceled", endpoint: hook.url, autenticacao: null }), 404);
    await problemOf(await other.call("PUT", `${PORTAL}/${id}`, { id, evento: "cte.canceled", endpoint: hook.url, autenticacao: { tipo: "bearer", token: "theirs" } }), 404);
    expect(await portalJson(await owner.call("GET", PORTAL), 200)).toEqual([created]);
    await emit(owner.tenantId, "cte.canceled");
    await eventually(() => hook.received.length === 1);
    expect(hook.received[0]!.headers["authorization"]).toBe(`Bearer ${token}`);
  });
});

describe("receiver authentication on the account config", () => {
  it("sends the config's credential with deliveries and the test webhook, masked in reads, and stops when removed", async () => {
    const hook = await receiver();
    const apiKey = secret("conta");
    const tenant = await tenantWith([]);
    const patched = await portalJson(
      await tenant.call("PATCH", "/webhooks/config", { webhookUrl: hook.url, events: ["boleto.registered"], authentication: { type: "header", name: "X-Api-Key", value: apiKey } }),
      200,
    );
    expect(patched).toEqual({ webhookUrl: hook.url, webhookSecret: expect.any(String), events: ["boleto.registered"], authentication: { type: "header", name: "X-Api-Key", value: "****" }, status: { state: "enabled" } });
    expect(await portalJson(await tenant.call("GET", "/webhooks/config"), 200)).toEqual(patched);

    await emit(tenant.tenantId, "boleto.registered");
    await eventually(() => hook.received.length === 1);
    expect(hook.received[0]!.headers["x-api-key"]).toBe(apiKey);
    expect(verifyBoth(hook.received[0]!, tenant.secret)).toEqual({ snippet: true, standard: true });

    expect(await portalJson(await tenant.call("POST", "/webhooks/test"), 200)).toEqual({ success: true, statusCode: 200, body: "OK" });
    expect(hook.received[1]!.headers["x-api-key"]).toBe(apiKey);
    expect(JSON.parse(hook.received[1]!.body)).toMatchObject({ type: "webhook.test" });
    expect(verifyBoth(hook.received[1]!, tenant.secret)).toEqual({ snippet: true, standard: true });

    // Basic and Bearer on the test webhook too; a PATCH of other fields keeps the credential.
    const password = secret("conta-basic");
    await portalJson(await tenant.call("PATCH", "/webhooks/config", { authentication: { type: "basic", username: "erp", password } }), 200);
    const kept = await portalJson(await tenant.call("PATCH", "/webhooks/config", { events: ["boleto.registered", "boleto.canceled"] }), 200);
    expect(kept["authentication"]).toEqual({ type: "basic", username: "erp", password: "****" });
    await tenant.call("POST", "/webhooks/test");
    expect(hook.received[2]!.headers["authorization"]).toBe(basicOf("erp", password));
    expect(hook.received[2]!.headers["x-api-key"]).toBeUndefined();
    const token = secret("conta-bearer");
    await portalJson(await tenant.call("PATCH", "/webhooks/config", { authentication: { type: "bearer", token } }), 200);
    await tenant.call("POST", "/webhooks/test");
    expect(hook.received[3]!.headers["authorization"]).toBe(`Bearer ${token}`);

    const removed = await portalJson(await tenant.call("PATCH", "/webhooks/config", { authentication: null }), 200);
    expect(Object.keys(removed).sort()).toEqual(["events", "status", "webhookSecret", "webhookUrl"]);
    await tenant.call("POST", "/webhooks/test");
    await emit(tenant.tenantId, "boleto.canceled");
    await eventually(() => hook.received.length === 6);
    for (const webhook of hook.received.slice(4)) {
      expect(webhook.headers["authorization"]).toBeUndefined();
      expect(verifyBoth(webhook, tenant.secret)).toEqual({ snippet: true, standard: true });
    }
  });

  it("gives way to the subscription's credential when both send one event to the same URL", async () => {
    const hook = await receiver();
    const subscriptionToken = secret("sub");
    const configKey = secret("cfg");
    const tenant = await tenantWith([]);
    await portalJson(await tenant.call("POST", PORTAL, { evento: "dfe.received", endpoint: hook.url, autenticacao: { tipo: "bearer", token: subscriptionToken } }), 201);
    await portalJson(
      await tenant.call("PATCH", "/webhooks/config", { webhookUrl: hook.url, events: ["dfe.received"], authentication: { type: "header", name: "X-Api-Key", value: configKey } }),
      200,
    );
    await emit(tenant.tenantId, "dfe.received");
    await eventually(() => hook.received.length === 1);
    await logLine(tenant.call, "success");
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]!.headers["authorization"]).toBe(`Bearer ${subscriptionToken}`);
    expect(deliveryOf(hook.received[0]!.headers)).not.toContain(configKey);
  });

  it("refuses bad credentials with a 400 naming the field and leaves the config as it was", async () => {
    const tenant = await tenantWith([]);
    await portalJson(await tenant.call("PATCH", "/webhooks/config", { webhookUrl: "https://erp.example.com/hook" }), 200);
    const leaked = secret("cfg-leak");
    const cases: [unknown, string, string][] = [
      [{ type: "cabecalho", name: "X-Api-Key", value: leaked }, "authentication/type", "invalid_union"],
      [{ type: "basic", username: "a:b", password: leaked }, "authentication/username", "colon"],
      [{ type: "basic", username: "u", password: `${leaked}\n` }, "authentication/password", "controlCharacter"],
      [{ type: "bearer", token: `${leaked}\r\n` }, "authentication/token", "controlCharacter"],
      [{ type: "bearer", token: "" }, "authentication/token", "length"],
      [{ type: "header", name: "X Api", value: leaked }, "authentication/name", "token"],
      [{ type: "header", name: "proxy-authorization", value: leaked }, "authentication/name", "reservedHeader"],
      [{ type: "header", name: "x-webhook-signature", value: leaked }, "authentication/name", "reservedHeader"],
      [{ type: "header", name: "authorization", value: leaked }, "authentication/name", "reservedHeader"],
      [{ type: "header", name: "X-Api-Key", value: `${leaked}\u0000` }, "authentication/value", "controlCharacter"],
      [{ type: "header", name: "X-Api-Key", value: "x".repeat(1025) }, "authentication/value", "length"],
      [leaked, "authentication", "invalid_type"],
    ];
    for (const [authentication, field, rule] of cases) {
      const response = await tenant.call("PATCH", "/webhooks/config", { authentication });
      const text = await response.clone().text();
      expect((await problemOf(response, 400))["errors"], JSON.stringify(authentication).slice(0, 80)).toContainEqual(expect.objectContaining({ field, rule }));
      expectNoSecret(text);
    }
    const got = await portalJson(await tenant.call("GET", "/webhooks/config"), 200);
    expect(got["authentication"]).toBeUndefined();
  });
});
