import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { OUTPUTS } from "../../lambdas/contract/resources.ts";
import { deliveryIdFor } from "../../lambdas/domain/fiscal-event.ts";
import { DeadLetterStore } from "../../lambdas/data/dead-letters.ts";
import { eventually } from "../support/eventually.ts";
import { pipelineFixture } from "../support/pipeline.ts";
import type { ApiCall } from "../../lib/dev/ephemeral-product.ts";
import { problemOf } from "../support/product.ts";
import { answer, verifyBoth, type HttpsReceiver } from "../../lib/dev/https-receiver.ts";

// Two attempts, one second apart: deliveries reach the DLQ quickly.
const fixture = pipelineFixture({ retrySchedule: [0, 1] });
let hook: HttpsReceiver;

type Letter = { id: string; eventType: string; endpoint: string; attempts: number; lastError: string; failedAt: string; createdAt: string };

beforeAll(async () => {
  hook = await fixture.receiver(answer(500, "down"));
});

async function tenantWithDeadLetters(count: number, evento = "invoice.authorized") {
  const tenant = await fixture.tenantWith([{ evento, endpoint: hook.url }]);
  await fixture.emitBatch(
    Array.from({ length: count }, (_, i) => JSON.stringify({ tenantId: tenant.tenantId, type: evento, id: `${tenant.tenantId}-e${i}`, data: { i } })),
  );
  const letters = await eventually(async () => {
    const listed = await listDlq(tenant.call);
    return listed.length === count ? listed : undefined;
  }, 30_000);
  return { ...tenant, letters };
}

const listDlq = async (call: ApiCall, query = "") => (await (await call("GET", `/webhooks/dlq${query}`)).json()) as Letter[];

describe("the dead-letter queue, per tenant", () => {
  let alice: Awaited<ReturnType<typeof tenantWithDeadLetters>>;
  let bob: Awaited<ReturnType<typeof tenantWithDeadLetters>>;

  beforeAll(async () => {
    hook.behave(answer(500, "down"));
    [alice, bob] = await Promise.all([tenantWithDeadLetters(3), tenantWithDeadLetters(2, "boleto.paid")]);
  });

  it("lists each tenant's own dead deliveries, newest first, with what failed", async () => {
    expect(alice.letters).toHaveLength(3);
    expect(bob.letters).toHaveLength(2);
    for (const letter of alice.letters) {
      expect(letter).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        eventType: "invoice.authorized",
        endpoint: hook.url,
        attempts: 2,
        lastError: "HTTP 500 Internal Server Error",
        failedAt: expect.any(String),
        createdAt: expect.any(String),
      });
    }
    const failedAts = alice.letters.map((l) => l.failedAt);
    expect([...failedAts].sort().reverse()).toEqual(failedAts);
    expect(alice.letters.map((l) => l.id)).toContain(deliveryIdFor(alice.tenantId, `${alice.tenantId}-e0`, hook.url));
    // Paging: a page of 2 and the rest through the cursor.
    const first = await alice.call("GET", "/webhooks/dlq?limit=2");
    const cursor = first.headers.get("x-next-cursor");
    expect(((await first.json()) as Letter[]).length).toBe(2);
    expect(cursor).toBeTruthy();
    expect(await listDlq(alice.call, `?limit=2&cursor=${cursor}`)).toHaveLength(1);
    await problemOf(await alice.call("GET", "/webhooks/dlq?limit=101"), 400);
    await problemOf(await alice.call("GET", "/webhooks/dlq?cursor=bogus"), 400);
  });

  it("answers 404 for another tenant's dead delivery and 400 for a malformed id", async () => {
    await problemOf(await alice.call("POST", `/webhooks/dlq/${bob.letters[0]!.id}/retry`), 404);
    await problemOf(await alice.call("POST", "/webhooks/dlq/not-a-uuid/retry"), 400);
    expect(await listDlq(bob.call)).toHaveLength(2);
  });

  it("retries one after the receiver recovers: same delivery id, attempts carried on, logged success, no longer listed", async () => {
    hook.behave(answer(200, "OK"));
    const target = alice.letters[0]!;
    const before = hook.received.length;
    const response = await alice.call("POST", `/webhooks/dlq/${target.id}/retry`);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ queued: true, id: target.id, eventType: "invoice.authorized", endpoint: hook.url, attempts: 2 });
    expect((await listDlq(alice.call)).map((l) => l.id)).not.toContain(target.id);

    const webhook = await eventually(() => hook.received.slice(before).find((w) => w.headers["webhook-id"] === target.id));
    expect(webhook.headers["x-webhook-attempt"]).toBe("3");
    expect(verifyBoth(webhook, alice.secret)).toEqual({ snippet: true, standard: true });
    const line = await eventually(async () => {
      const logs = (await (await alice.call("GET", "/webhooks/logs")).json()) as { id: string; status: string; attempts: number }[];
      return logs.find((l) => l.id === target.id && l.status === "success");
    });
    expect(line.attempts).toBe(3);
    await problemOf(await alice.call("POST", `/webhooks/dlq/${target.id}/retry`), 404);
  });

  it("lets only one of several concurrent retries of a letter go through", async () => {
    const target = alice.letters[1]!;
    const before = hook.received.length;
    const statuses = await Promise.all(Array.from({ length: 5 }, async () => (await alice.call("POST", `/webhooks/dlq/${target.id}/retry`)).status));
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.every((s) => s === 202 || s === 409 || s === 404)).toBe(true);
    await eventually(() => hook.received.slice(before).some((w) => w.headers["webhook-id"] === target.id));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(hook.received.slice(before).filter((w) => w.headers["webhook-id"] === target.id)).toHaveLength(1);
  });

  it("purges one tenant's letters and leaves the other's intact", async () => {
    const purged = await bob.call("DELETE", "/webhooks/dlq");
    expect(purged.status).toBe(200);
    expect(await purged.json()).toEqual({ purged: 2, complete: true });
    expect(await listDlq(bob.call)).toEqual([]);
    expect((await listDlq(alice.call)).map((l) => l.id)).toEqual([alice.letters[2]!.id]);
    expect(await (await bob.call("DELETE", "/webhooks/dlq")).json()).toEqual({ purged: 0, complete: true });
  });
});

describe("retry-all", () => {
  it("re-queues a few thousand dead letters in batches and every one is delivered once", async () => {
    hook.behave(answer(200, "OK"));
    const tenant = await fixture.env.newTenant("bulk");
    await tenant.call("POST", "/webhooks/secret/regenerate");
    // Letters of a live subscription: a retry checks that its endpoint still receives the type.
    expect((await tenant.call("POST", "/portal/api/ext/webhook", { evento: "dfe.received", endpoint: hook.url })).status).toBe(201);
    const letters = new DeadLetterStore(fixture.env.documents, String(fixture.env.product.outputs[OUTPUTS.tableName]));
    const COUNT = 2000;
    const failedAt = new Date().toISOString();
    const ids: string[] = [];
    for (let start = 0; start < COUNT; start += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, COUNT - start) }, (_, k) => {
          const i = start + k;
          const deliveryId = deliveryIdFor(tenant.tenantId, `bulk-${i}`, hook.url);
          ids.push(deliveryId);
          return letters.put({
            delivery: {
              deliveryId,
              tenantId: tenant.tenantId,
              eventId: `bulk-${i}`,
              eventType: "dfe.received",
              url: hook.url,
              body: JSON.stringify({ id: `bulk-${i}`, type: "dfe.received", createdAt: failedAt, data: { i } }),
              createdAt: failedAt,
              attemptsBefore: 0,
            },
            attempts: 8,
            lastError: "timeout after 10000 ms",
            failedAt,
          });
        }),
      );
    }
    const before = hook.received.length;
    const response = await tenant.call("POST", "/webhooks/dlq/retry-all");
    const result = (await response.json()) as { retried: number; complete: boolean };
    // Within the API's budget it either finishes, or says so and continues as a job.
    if (result.complete) expect(result.retried).toBe(COUNT);
    else expect(response.status).toBe(202);
    await eventually(async () => ((await listDlq(tenant.call)).length === 0 ? true : undefined), 60_000);
    await eventually(() => {
      const seen = new Set(hook.received.slice(before).map((w) => String(w.headers["webhook-id"])));
      return ids.every((id) => seen.has(id)) ? true : undefined;
    }, 90_000);
    const delivered = hook.received.slice(before).filter((w) => ids.includes(String(w.headers["webhook-id"])));
    expect(new Set(delivered.map((w) => w.headers["webhook-id"])).size).toBe(COUNT);
    expect(delivered.every((w) => w.headers["x-webhook-attempt"] === "9")).toBe(true);
  }, 180_000);
});

describe("DLQ jobs", () => {
  // The API hands what it cannot finish to the jobs function; a job sent directly runs the same path.
  const queueJob = (job: { operation: "retry-all" | "purge"; tenantId: string }) =>
    fixture.env.product.runtime.sqs.send(
      new SendMessageCommand({ QueueUrl: fixture.env.product.queue("deadLetterJobsQueue").url, MessageBody: JSON.stringify(job) }),
    );

  it("retry-all and purge run as jobs, each letter re-delivered or removed", async () => {
    hook.behave(answer(500, "down"));
    const [retried, purged] = await Promise.all([tenantWithDeadLetters(2), tenantWithDeadLetters(2, "boleto.paid")]);
    hook.behave(answer(200, "OK"));
    const before = hook.received.length;
    await Promise.all([queueJob({ operation: "retry-all", tenantId: retried.tenantId }), queueJob({ operation: "purge", tenantId: purged.tenantId })]);
    await eventually(async () => ((await listDlq(retried.call)).length === 0 && (await listDlq(purged.call)).length === 0 ? true : undefined), 30_000);
    await eventually(() => {
      const seen = new Set(hook.received.slice(before).map((w) => String(w.headers["webhook-id"])));
      return retried.letters.every((letter) => seen.has(letter.id)) ? true : undefined;
    }, 30_000);
  }, 60_000);
});
