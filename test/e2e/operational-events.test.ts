import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { deliveryIdFor } from "../../lambdas/domain/fiscal-event.ts";
import { answer, verifyBoth, type HttpsReceiver, type ReceivedWebhook } from "../../lib/dev/https-receiver.ts";
import { eventually } from "../support/eventually.ts";
import { pipelineFixture } from "../support/pipeline.ts";

// Two attempts, one second apart: deliveries reach the DLQ quickly.
const fixture = pipelineFixture({ retrySchedule: [0, 1] });

type Tenant = Awaited<ReturnType<typeof fixture.tenantWith>>;
type Envelope = { id: string; type: string; createdAt: string; data: Record<string, unknown> };

const EXHAUSTED = "webhook.delivery.exhausted";
const eventOf = (webhook: ReceivedWebhook) => String(webhook.headers["x-webhook-event"]);
const envelopeOf = (webhook: ReceivedWebhook) => JSON.parse(webhook.body) as Envelope;

/** The tenant's account webhook, created by PATCH /webhooks/config; its signing secret stays the tenant's. */
async function configure(tenant: Tenant, webhookUrl: string, events: string[]): Promise<void> {
  const patched = await tenant.call("PATCH", "/webhooks/config", { webhookUrl, events });
  expect(patched.status).toBe(200);
  expect(((await patched.json()) as { events: string[] }).events).toEqual(events);
}

async function logsOf(tenant: Tenant) {
  return (await (await tenant.call("GET", "/webhooks/logs?limit=100")).json()) as { id: string; eventType: string; status: string; attempts: number }[];
}

/** Reasons of the events set aside on the events DLQ, by original message id. */
const setAside = new Map<string, string>();
async function reasonFor(messageId: string): Promise<string> {
  return eventually(async () => {
    const { Messages = [] } = await fixture.env.product.runtime.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: fixture.env.product.queue("eventsDeadLetterQueue").url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ["All"] }),
    );
    for (const m of Messages) setAside.set(String(m.MessageAttributes?.["original-message-id"]?.StringValue), String(m.MessageAttributes?.["rejection-reason"]?.StringValue));
    return setAside.get(messageId);
  }, 15_000);
}

describe("operational events: webhook.delivery.exhausted", () => {
  /** Answers 500 to everything: every delivery to it is exhausted. */
  let failing: HttpsReceiver;
  /** The account webhook of `failing`'s tenant: 503 to its first webhook (so the notice is retried), 200 after. */
  let account: HttpsReceiver;
  /** A tenant's account webhook that is itself the failing endpoint. */
  let failingAccount: HttpsReceiver;
  /** A Portal subscription to the notices of the tenant whose account webhook fails. */
  let watcher: HttpsReceiver;
  /** The account webhook of a tenant that does not list the operational type. */
  let quiet: HttpsReceiver;
  let subscribed: Tenant;
  let selfFailing: Tenant;
  let notListing: Tenant;
  const eventIds = { subscribed: "", selfFailing: "", notListing: "" };
  let forgedMessageId: string;

  beforeAll(async () => {
    [failing, account, failingAccount, watcher, quiet] = await Promise.all([
      fixture.receiver(answer(500, "down")),
      fixture.receiver((_webhook, response, count) => {
        response.writeHead(count === 1 ? 503 : 200);
        response.end();
      }),
      fixture.receiver(answer(500, "down")),
      fixture.receiver(answer(200, "OK")),
      fixture.receiver(answer(200, "OK")),
    ]);
    subscribed = await fixture.tenantWith([{ evento: "invoice.authorized", endpoint: failing.url }]);
    await configure(subscribed, account.url, [EXHAUSTED]);
    // The Portal may subscribe to operational types too; this one names the failing account
    // webhook spelled another way, which must not make it a target.
    selfFailing = await fixture.tenantWith([
      { evento: EXHAUSTED, endpoint: watcher.url },
      { evento: EXHAUSTED, endpoint: failingAccount.url.replace("/webhooks", "/./webhooks") },
    ]);
    await configure(selfFailing, failingAccount.url, ["invoice.authorized", EXHAUSTED]);
    notListing = await fixture.tenantWith([{ evento: "invoice.authorized", endpoint: failing.url }]);
    await configure(notListing, quiet.url, ["invoice.authorized"]);

    eventIds.subscribed = `nfe-a-${Date.now()}`;
    eventIds.selfFailing = `nfe-b-${Date.now()}`;
    eventIds.notListing = `nfe-c-${Date.now()}`;
    const invoice = (tenant: Tenant, id: string) => JSON.stringify({ tenantId: tenant.tenantId, type: "invoice.authorized", id, data: { chave: `PAYLOAD-${id}` } });
    await fixture.emitBatch([invoice(subscribed, eventIds.subscribed), invoice(selfFailing, eventIds.selfFailing), invoice(notListing, eventIds.notListing)]);
    // A producer may not send an operational type, even naming an endpoint that is not failing.
    forgedMessageId = await fixture.emit({ tenantId: subscribed.tenantId, type: EXHAUSTED, id: `forged-${Date.now()}`, data: { endpoint: failing.url, forged: true } });

    // Every tenant's failing delivery reached the DLQ, and the two notices arrived.
    await Promise.all(
      [subscribed, selfFailing, notListing].map((tenant) =>
        eventually(async () => ((await (await tenant.call("GET", "/webhooks/dlq")).json()) as unknown[]).length === 1, 30_000),
      ),
    );
    await eventually(() => account.received.some((webhook) => eventOf(webhook) === EXHAUSTED && webhook.headers["x-webhook-attempt"] === "2"), 30_000);
    await eventually(() => watcher.received.length === 1, 30_000);
  }, 90_000);

  it("reaches the account webhook signed, retried and logged, naming the failing endpoint and the delivery without its payload", async () => {
    const notices = account.received.filter((webhook) => eventOf(webhook) === EXHAUSTED);
    // The 503 made the notice retry: attempt 1, then attempt 2, the same webhook.
    expect(notices.map((webhook) => webhook.headers["x-webhook-attempt"])).toEqual(["1", "2"]);
    expect(new Set(notices.map((webhook) => webhook.headers["webhook-id"])).size).toBe(1);
    const notice = notices[1]!;
    expect(verifyBoth(notice, subscribed.secret)).toEqual({ snippet: true, standard: true });
    const deliveryId = deliveryIdFor(subscribed.tenantId, eventIds.subscribed, failing.url);
    const envelope = envelopeOf(notice);
    expect(envelope).toEqual({
      id: `op.delivery.exhausted.${deliveryId}.2`,
      type: EXHAUSTED,
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      data: { endpoint: failing.url, reason: "HTTP 500 Internal Server Error", deliveryId, eventId: eventIds.subscribed, eventType: "invoice.authorized", attempts: 2 },
    });
    expect(notice.body).not.toContain("PAYLOAD-");
    // Logged like any delivery, beside the exhausted one it tells of.
    const logs = await logsOf(subscribed);
    expect(logs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: notice.headers["webhook-id"], eventType: EXHAUSTED, status: "success", attempts: 2 }),
        expect.objectContaining({ id: deliveryId, eventType: "invoice.authorized", status: "failed", attempts: 2 }),
      ]),
    );
  });

  it("never goes to the failing endpoint, however it is spelled, nor to a tenant that does not list the type", async () => {
    expect(failing.received.length).toBeGreaterThanOrEqual(4);
    expect(new Set(failing.received.map(eventOf))).toEqual(new Set(["invoice.authorized"]));
    // The account webhook that fails gets its invoice's two attempts and nothing else; the
    // tenant's other subscriber to notices gets the one about it.
    expect(failingAccount.received.map(eventOf)).toEqual(["invoice.authorized", "invoice.authorized"]);
    const [watched] = watcher.received;
    expect(verifyBoth(watched!, selfFailing.secret)).toEqual({ snippet: true, standard: true });
    expect(envelopeOf(watched!).data).toMatchObject({ endpoint: failingAccount.url, eventId: eventIds.selfFailing, attempts: 2 });
    expect((await logsOf(selfFailing)).filter((line) => line.eventType === EXHAUSTED)).toHaveLength(1);
    // The tenant that does not list the type hears nothing of its exhausted delivery.
    expect(quiet.received.map(eventOf)).toEqual(["invoice.authorized"]);
    expect((await logsOf(notListing)).map((line) => line.eventType)).toEqual(["invoice.authorized", "invoice.authorized"]);
  });

  it("sets aside one a producer sends, with the reason, and delivers nothing of it", async () => {
    expect(await reasonFor(forgedMessageId)).toBe("breaks the event contract: type webhook.delivery.exhausted is an operational event only the product emits");
    expect(account.received.some((webhook) => webhook.body.includes('"forged"'))).toBe(false);
  });
});
