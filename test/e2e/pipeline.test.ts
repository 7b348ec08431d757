import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { brazilDate } from "../../lambdas/domain/brazil-date.ts";
import { answer, verifyBoth } from "../../lib/dev/https-receiver.ts";
import type { ApiCall } from "../../lib/dev/ephemeral-product.ts";
import { requestWithBody } from "../support/product.ts";
import { eventually } from "../support/eventually.ts";
import { PORTAL, pipelineFixture } from "../support/pipeline.ts";

const fixture = pipelineFixture({ retrySchedule: [0, 1, 1], deliveryTimeoutSeconds: 1 });
const { receiver, tenantWith } = fixture;
const emit = async (event: Record<string, unknown>) => void (await fixture.emit(event));

type LogLine = { id: string; eventType: string; status: string; attempts: number; createdAt: string; deliveredAt: string | null };
const logsOf = async (call: ApiCall) => (await (await call("GET", "/webhooks/logs?limit=100")).json()) as LogLine[];
type Failure = { id: number; data: string; descricao: string; evento: string; conteudo: string };

describe("the delivery pipeline", () => {
  it("delivers an event to its subscriber, signed both ways, and logs it as success", async () => {
    const { hook, tenant } = await fixture.subscriber("invoice.authorized");
    await emit({ tenantId: tenant.tenantId, type: "invoice.authorized", id: "nfe-35240101", occurredAt: "2026-11-24T10:00:00-03:00", data: { chave: "3524" } });

    const webhook = await eventually(() => hook.received[0]);
    expect(verifyBoth(webhook, tenant.secret)).toEqual({ snippet: true, standard: true });
    expect(verifyBoth(webhook, "whsec_" + Buffer.alloc(32).toString("base64"))).toEqual({ snippet: false, standard: false });
    expect(JSON.parse(webhook.body)).toEqual({
      id: "nfe-35240101",
      type: "invoice.authorized",
      createdAt: "2026-11-24T13:00:00.000Z",
      data: { chave: "3524" },
    });
    expect(webhook.headers).toMatchObject({
      "content-type": "application/json",
      "x-webhook-event": "invoice.authorized",
      "x-webhook-attempt": "1",
      "webhook-id": expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
    });
    const line = await eventually(async () => (await logsOf(tenant.call)).find((l) => l.status === "success"));
    expect(line).toEqual({
      id: webhook.headers["webhook-id"],
      eventType: "invoice.authorized",
      status: "success",
      attempts: 1,
      createdAt: expect.any(String),
      deliveredAt: expect.any(String),
    });
  });

  it("delivers an event id injected twice only once", async () => {
    const { hook, tenant } = await fixture.subscriber("boleto.paid");
    const event = { tenantId: tenant.tenantId, type: "boleto.paid", id: "boleto-42", data: { valor: 10 } };
    await emit(event);
    await eventually(() => hook.received.length === 1);
    await emit(event);
    // The same id twice within one batch, too.
    const twin = { ...event, id: "boleto-43" };
    await fixture.emitBatch([JSON.stringify(twin), JSON.stringify(twin)]);
    await eventually(() => hook.received.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(hook.received.map((w) => (JSON.parse(w.body) as { id: string }).id).sort()).toEqual(["boleto-42", "boleto-43"]);
    expect(await logsOf(tenant.call)).toHaveLength(2);
  });

  it("fans out to subscriptions and the account webhook, each URL once", async () => {
    const a = await receiver();
    const b = await receiver();
    const tenant = await tenantWith([
      { evento: "cte.authorized", endpoint: a.url },
      { evento: "cte.authorized", endpoint: b.url },
      { evento: "cte.canceled", endpoint: a.url },
    ]);
    await tenant.call("PATCH", "/webhooks/config", { webhookUrl: a.url, events: ["cte.authorized"] });
    await emit({ tenantId: tenant.tenantId, type: "cte.authorized", data: {} });
    await eventually(() => a.received.length === 1 && b.received.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(a.received).toHaveLength(1);
    expect(b.received).toHaveLength(1);
    expect(a.received[0]?.headers["webhook-id"]).not.toBe(b.received[0]?.headers["webhook-id"]);
  });

  it("delivers one event to 50 subscribers", async () => {
    const hook = await receiver();
    const endpoints = Array.from({ length: 50 }, (_, i) => ({ evento: "dfe.received", endpoint: `${hook.url}?subscriber=${i}` }));
    const tenant = await tenantWith(endpoints);
    await emit({ tenantId: tenant.tenantId, type: "dfe.received", data: { nsu: 1 } });
    await eventually(() => hook.received.length >= 50, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hook.received).toHaveLength(50);
    for (const webhook of hook.received) expect(verifyBoth(webhook, tenant.secret)).toEqual({ snippet: true, standard: true });
    const lines = await eventually(async () => {
      const all = await logsOf(tenant.call);
      return all.filter((l) => l.status === "success").length === 50 ? all : undefined;
    });
    expect(new Set(lines.map((l) => l.id)).size).toBe(50);
  });

  it("retries a failing receiver until it recovers, and lists each failed attempt in falhas", async () => {
    const hook = await receiver((_w, response, count) => {
      if (count <= 2) answer(503, "busy")(_w, response, count);
      else answer(200, "OK")(_w, response, count);
    });
    const tenant = await tenantWith([{ evento: "mdfe.authorized", endpoint: hook.url }]);
    await emit({ tenantId: tenant.tenantId, type: "mdfe.authorized", data: { mdfe: 7 } });
    const line = await eventually(async () => (await logsOf(tenant.call)).find((l) => l.status === "success"), 30_000);
    expect(line.attempts).toBe(3);
    expect(hook.received.map((w) => w.headers["x-webhook-attempt"])).toEqual(["1", "2", "3"]);
    expect(new Set(hook.received.map((w) => w.headers["webhook-id"])).size).toBe(1);
    // Retries wait for the schedule (1 s here), not less.
    expect(hook.received[1]!.receivedAt - hook.received[0]!.receivedAt).toBeGreaterThanOrEqual(900);

    const today = brazilDate(new Date());
    const failures = (await (await tenant.call("GET", `${PORTAL}/falhas?data=${today}`)).json()) as Failure[];
    expect(failures).toHaveLength(2);
    for (const failure of failures) {
      expect(failure).toEqual({
        id: expect.any(Number),
        data: today,
        descricao: "HTTP 503 Service Unavailable",
        evento: "mdfe.authorized",
        conteudo: hook.received[0]!.body,
      });
      expect(failure.id).toBeLessThan(10_000_000_000);
    }
    // The document's form: a JSON body with the date as a number; and no date means today.
    const viaBody = await requestWithBody(`${fixture.env.product.apiUrl}${PORTAL}/falhas`, "GET", tenant.token, { data: Number(today) });
    expect(viaBody).toEqual({ status: 200, json: failures });
    expect(await (await tenant.call("GET", `${PORTAL}/falhas`)).json()).toEqual(failures);
    const impossible = await tenant.call("GET", `${PORTAL}/falhas?data=31022024`);
    expect(impossible.status).toBe(400);
    expect(((await impossible.json()) as { errors: unknown[] }).errors).toEqual([expect.objectContaining({ field: "data", rule: "ddMMyyyy" })]);
  });

  it("moves a delivery that keeps failing to the dead-letter queue after the last attempt", async () => {
    const { hook, tenant } = await fixture.subscriber("certificate.expiring", answer(500, "down"));
    await emit({ tenantId: tenant.tenantId, type: "certificate.expiring", id: "cert-1", data: {} });
    const line = await eventually(async () => (await logsOf(tenant.call)).find((l) => l.status === "failed"), 30_000);
    expect(line.attempts).toBe(3);
    // The dead delivery reaches the SQS dead-letter queue, whose indexer files it under its tenant.
    const dead = await eventually(async () => {
      const letters = (await (await tenant.call("GET", "/webhooks/dlq")).json()) as { id: string }[];
      return letters.find((letter) => letter.id === line.id);
    }, 30_000);
    expect(dead).toMatchObject({ id: line.id, eventType: "certificate.expiring", endpoint: hook.url, attempts: 3, lastError: "HTTP 500 Internal Server Error" });
    expect(hook.received).toHaveLength(3);
  });

  it("records why a delivery failed: timeouts, redirects, resets and refused connections", async () => {
    const silent = await receiver(() => undefined);
    const redirect = await receiver(answer(301, "", { location: "https://elsewhere.example.com/" }));
    const reset = await receiver((_w, response) => response.socket?.destroy());
    const closed = await receiver();
    await closed.close();
    const tenant = await tenantWith([
      { evento: "cte.cce", endpoint: silent.url },
      { evento: "cte.cce", endpoint: redirect.url },
      { evento: "cte.cce", endpoint: reset.url },
      { evento: "cte.cce", endpoint: closed.url },
    ]);
    await emit({ tenantId: tenant.tenantId, type: "cte.cce", data: {} });
    const failures = await eventually(async () => {
      const list = (await (await tenant.call("GET", `${PORTAL}/falhas`)).json()) as Failure[];
      return new Set(list.map((f) => f.descricao)).size >= 4 ? list : undefined;
    }, 30_000);
    const reasons = new Set(failures.map((f) => f.descricao));
    expect(reasons).toContain("timeout after 1000 ms");
    expect(reasons).toContain("redirect 301 to https://elsewhere.example.com/ not followed");
    expect(reasons).toContain("connection reset");
    expect(reasons).toContain("connection refused");
  });

  it("sets malformed events aside with their reason without blocking the rest of the batch", async () => {
    const { hook, tenant } = await fixture.subscriber("invoice.canceled");
    const bodies = [
      "{not json",
      JSON.stringify({ tenantId: tenant.tenantId, type: "invoice.exploded", data: {} }),
      JSON.stringify({ tenantId: tenant.tenantId, type: "invoice.canceled", data: { nf: 1 } }),
      JSON.stringify({ tenantId: tenant.tenantId, type: "invoice.canceled" }),
      JSON.stringify({ tenantId: "ten_00000000000000000000", type: "invoice.canceled", data: {} }),
      JSON.stringify({ tenantId: tenant.tenantId, type: "invoice.canceled", data: { big: "x".repeat(140_000) } }),
    ];
    await fixture.emitBatch(bodies);
    await eventually(() => hook.received.length === 1);
    const reasons = new Map<string, string>();
    await eventually(async () => {
      const { Messages = [] } = await fixture.env.product.runtime.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: fixture.env.product.queue("eventsDeadLetterQueue").url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ["All"],
        }),
      );
      for (const m of Messages) {
        const attributes = m.MessageAttributes ?? {};
        reasons.set(String(attributes["original-message-id"]?.StringValue), String(attributes["rejection-reason"]?.StringValue));
      }
      return reasons.size >= 5 ? reasons : undefined;
    });
    const all = [...reasons.values()].join("\n");
    expect(all).toMatch(/not JSON/);
    expect(all).toMatch(/type must be one of the event catalogue's types/);
    expect(all).toMatch(/data must be a JSON object/);
    expect(all).toMatch(/unknown tenant ten_00000000000000000000/);
    expect(all).toMatch(/bytes; at most 131072 are accepted/);
  });
});

describe("POST /webhooks/test", () => {
  it("sends a signed test event to the configured URL and reports the answer", async () => {
    const hook = await receiver(answer(200, "OK"));
    const tenant = await fixture.env.newTenant("tester");
    const missing = await tenant.call("POST", "/webhooks/test");
    expect(missing.status).toBe(409);
    const created = (await (await tenant.call("PATCH", "/webhooks/config", { webhookUrl: hook.url })).json()) as { webhookSecret: string };
    const response = await tenant.call("POST", "/webhooks/test");
    expect(await response.json()).toEqual({ success: true, statusCode: 200, body: "OK" });
    expect(verifyBoth(hook.received[0]!, created.webhookSecret)).toEqual({ snippet: true, standard: true });
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({ type: "webhook.test" });
    hook.behave(answer(503, "maintenance"));
    expect(await (await tenant.call("POST", "/webhooks/test")).json()).toEqual({ success: false, statusCode: 503, body: "maintenance" });
  });
});

describe("secret rotation with a grace period", () => {
  it("signs with the new and the replaced secret until the period ends, then with the new one alone", async () => {
    const { hook, tenant } = await fixture.subscriber("mdfe.authorized", answer(200));
    const regenerated = await tenant.call("POST", "/webhooks/secret/regenerate?graceSeconds=3");
    expect(regenerated.headers.get("cache-control")).toBe("no-store");
    const { webhookSecret, previousSecretValidUntil } = (await regenerated.json()) as { webhookSecret: string; previousSecretValidUntil: string };
    expect(Date.parse(previousSecretValidUntil) - Date.now()).toBeGreaterThan(1000);
    await fixture.emit({ tenantId: tenant.tenantId, type: "mdfe.authorized", data: { n: 1 } });
    await eventually(() => hook.received.length === 1);
    const during = hook.received[0]!;
    expect(verifyBoth(during, webhookSecret)).toEqual({ snippet: true, standard: true });
    expect(verifyBoth(during, tenant.secret)).toEqual({ snippet: false, standard: true });

    await new Promise((resolve) => setTimeout(resolve, Date.parse(previousSecretValidUntil) - Date.now() + 500));
    await fixture.emit({ tenantId: tenant.tenantId, type: "mdfe.authorized", data: { n: 2 } });
    await eventually(() => hook.received.length === 2);
    const after = hook.received[1]!;
    expect(verifyBoth(after, webhookSecret)).toEqual({ snippet: true, standard: true });
    expect(verifyBoth(after, tenant.secret)).toEqual({ snippet: false, standard: false });
  });

  it("refuses a grace period that is not a whole number of seconds up to a week, naming the parameter", async () => {
    const { call } = await fixture.env.newTenant("rotation");
    for (const value of ["604801", "-1", "1.5", "soon"]) {
      const response = await call("POST", `/webhooks/secret/regenerate?graceSeconds=${value}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe("graceSeconds");
    }
  });
});
