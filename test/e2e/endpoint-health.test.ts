import { beforeAll, describe, expect, it } from "vitest";
import { OUTPUTS } from "../../lambdas/contract/resources.ts";
import { WebhookConfigStore } from "../../lambdas/data/webhook-config.ts";
import { deliveryIdFor } from "../../lambdas/domain/fiscal-event.ts";
import { answer, verifyBoth } from "../../lib/dev/https-receiver.ts";
import { eventually } from "../support/eventually.ts";
import { PORTAL, pipelineFixture } from "../support/pipeline.ts";
import { problemOf } from "../support/product.ts";

// Attempts a second apart and a three-second period: an endpoint that keeps failing is
// disabled within seconds, long before its schedule runs out.
const fixture = pipelineFixture({ retrySchedule: [0, 1, 1, 1, 1, 1, 1, 1, 1, 1], endpointDisableAfterSeconds: 3 });

type Situacao = { codigo: string; desde?: string; motivo?: string; ultimoSucesso?: string };
type Letter = { id: string; endpoint: string; attempts: number; lastError: string };
type Status = { state: string; since?: string; reason?: string };

const event = (tenantId: string, id: string, type = "invoice.authorized") => JSON.stringify({ tenantId, type, id, data: { id } });

describe("endpoint health", () => {
  let secrets: WebhookConfigStore;
  beforeAll(() => {
    secrets = new WebhookConfigStore(fixture.env.documents, String(fixture.env.product.outputs[OUTPUTS.tableName]));
  });

  it("disables an endpoint that fails for the whole period; what it would have received becomes dead letters; a PUT re-enables and retry-all delivers", async () => {
    const { hook, tenant } = await fixture.subscriber("invoice.authorized", answer(503, "down"));
    const [id] = tenant.ids;
    // The tenant's own receiver for operational events.
    const ops = await fixture.receiver();
    const opsEvents = ["webhook.endpoint.disabled", "webhook.endpoint.recovered"];
    expect((await tenant.call("PATCH", "/webhooks/config", { webhookUrl: ops.url, events: opsEvents })).status).toBe(200);
    const noticeOf = (type: string) =>
      ops.received.filter((w) => verifyBoth(w, tenant.secret).standard).map((w) => JSON.parse(w.body) as { type: string; data: Record<string, unknown> }).find((n) => n.type === type);
    const situacao = async () => ((await (await tenant.call("GET", PORTAL)).json()) as { id: number; situacao: Situacao }[]).find((s) => s.id === id)?.situacao;

    await fixture.emit(event(tenant.tenantId, "nf-1"));
    const failing = await eventually(async () => ((await situacao())?.codigo === "falhando" ? situacao() : undefined), 20_000);
    expect(failing).toMatchObject({ codigo: "falhando", motivo: "HTTP 503 Service Unavailable" });
    const disabled = await eventually(async () => ((await situacao())?.codigo === "desativada" ? situacao() : undefined), 30_000);
    expect(disabled).toMatchObject({ codigo: "desativada", desde: expect.any(String), motivo: `failed continuously since ${failing?.desde}` });
    expect(Date.parse(String(disabled?.desde)) - Date.parse(String(failing?.desde))).toBeGreaterThanOrEqual(3000);
    const disabledNotice = await eventually(() => noticeOf("webhook.endpoint.disabled"), 20_000);
    expect(disabledNotice.data).toEqual({ endpoint: hook.url, reason: disabled?.motivo, since: failing?.desde });

    // The delivery stopped at the disabling, well before its ten attempts, and sits in the DLQ with the reason.
    const first = await eventually(async () => {
      const letters = (await (await tenant.call("GET", "/webhooks/dlq")).json()) as Letter[];
      return letters.length === 1 ? letters[0] : undefined;
    }, 20_000);
    expect(first?.lastError).toMatch(/^endpoint disabled: failed continuously since /);
    expect(first?.attempts).toBeLessThan(10);
    const attemptsMade = hook.received.length;
    expect(attemptsMade).toBe(first?.attempts);

    // A new event for the disabled endpoint reaches it not at all: straight to the dead letters.
    await fixture.emit(event(tenant.tenantId, "nf-2"));
    const second = await eventually(async () => {
      const letters = (await (await tenant.call("GET", "/webhooks/dlq")).json()) as Letter[];
      return letters.find((letter) => letter.id === deliveryIdFor(tenant.tenantId, "nf-2", hook.url));
    }, 20_000);
    expect(second).toMatchObject({ attempts: 0, lastError: expect.stringMatching(/^endpoint disabled: /) });
    expect(hook.received).toHaveLength(attemptsMade);

    // The Portal's re-enable: PUT the subscription unchanged.
    hook.behave(answer(200, "ok"));
    const put = await tenant.call("PUT", `${PORTAL}/${id}`, { id, evento: "invoice.authorized", endpoint: hook.url });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { situacao: Situacao }).situacao.codigo).toBe("ativa");
    expect((await tenant.call("POST", "/webhooks/dlq/retry-all")).status).toBe(200);
    await eventually(() => {
      const delivered = new Set(hook.received.filter((w) => verifyBoth(w, tenant.secret).standard).map((w) => w.headers["webhook-id"]));
      return delivered.has(deliveryIdFor(tenant.tenantId, "nf-2", hook.url)) && delivered.has(deliveryIdFor(tenant.tenantId, "nf-1", hook.url)) ? true : undefined;
    }, 20_000);
    const recovered = await eventually(async () => ((await situacao())?.ultimoSucesso ? situacao() : undefined), 20_000);
    expect(recovered).toMatchObject({ codigo: "ativa", ultimoSucesso: expect.any(String) });
    const recoveredNotice = await eventually(() => noticeOf("webhook.endpoint.recovered"), 20_000);
    expect(recoveredNotice.data).toMatchObject({ endpoint: hook.url, reason: expect.stringMatching(/^delivered to again after being re-enabled at /) });
    // Neither notice went to the endpoint it is about.
    expect(hook.received.filter((w) => w.headers["x-webhook-event"]?.toString().startsWith("webhook."))).toEqual([]);
  });

  it("disables an account webhook at its first 410 Gone, shows it in status, and POST /webhooks/config/enable enables it again", async () => {
    const hook = await fixture.receiver(answer(410, "gone"));
    const tenant = await fixture.tenantWith([]);
    expect((await tenant.call("PATCH", "/webhooks/config", { webhookUrl: hook.url, events: ["boleto.paid"] })).status).toBe(200);
    await fixture.emit(event(tenant.tenantId, "b-1", "boleto.paid"));
    const status = await eventually(async () => {
      const { status } = (await (await tenant.call("GET", "/webhooks/config")).json()) as { status: Status };
      return status.state === "disabled" ? status : undefined;
    }, 20_000);
    expect(status).toMatchObject({ state: "disabled", reason: "the endpoint answered 410 Gone", since: expect.any(String) });
    const letters = await eventually(async () => {
      const listed = (await (await tenant.call("GET", "/webhooks/dlq")).json()) as Letter[];
      return listed.length === 1 ? listed : undefined;
    }, 20_000);
    expect(letters?.[0]).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/^endpoint disabled: the endpoint answered 410 Gone/) });
    expect(hook.received).toHaveLength(1);

    const enabled = await tenant.call("POST", "/webhooks/config/enable");
    expect(enabled.status).toBe(200);
    expect(((await enabled.json()) as { status: Status }).status).toEqual({ state: "enabled" });
    hook.behave(answer(204));
    await fixture.emit(event(tenant.tenantId, "b-2", "boleto.paid"));
    await eventually(() => (hook.received.some((w) => w.headers["webhook-id"] === deliveryIdFor(tenant.tenantId, "b-2", hook.url)) ? true : undefined), 20_000);
  });

  it("answers 404 to enabling a configuration the tenant does not have", async () => {
    const tenant = await fixture.tenantWith([]);
    const response = await tenant.call("POST", "/webhooks/config/enable");
    expect((await problemOf(response, 404)).detail).toMatch(/no webhook configuration/);
  });

  it("records nothing for an endpoint that only succeeds (no write per success)", async () => {
    const { hook, tenant } = await fixture.subscriber("boleto.paid");
    await fixture.emitBatch(Array.from({ length: 5 }, (_, i) => event(tenant.tenantId, `ok-${i}`, "boleto.paid")));
    await eventually(() => (hook.received.length === 5 ? true : undefined), 20_000);
    const state = await secrets.deliveryState(tenant.tenantId);
    expect(state.secret).toBeDefined();
    expect(state.endpoints.size).toBe(0);
    const listed = (await (await tenant.call("GET", PORTAL)).json()) as { situacao: Situacao }[];
    expect(listed[0]?.situacao).toEqual({ codigo: "ativa" });
  });
});
