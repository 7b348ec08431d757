import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DuplicateSubscriptionError, SubscriptionLimitError } from "../../lambdas/domain/subscriptions.ts";
import { InvalidCursorError } from "../../lambdas/data/cursor.ts";
import { DeliveryLogStore, DispatchedEventStore, FailureStore } from "../../lambdas/data/deliveries.ts";
import { DocumentHistoryStore } from "../../lambdas/data/document-history.ts";
import { documentHistoryBatch } from "../../lambdas/delivery/document-history.ts";
import { keys } from "../../lambdas/data/keys.ts";
import { apiTokenHash } from "../../lambdas/domain/tokens.ts";
import { DeadLetterStore } from "../../lambdas/data/dead-letters.ts";
import { RateLimitStore } from "../../lambdas/data/rate-limits.ts";
import { SubscriptionStore } from "../../lambdas/data/subscriptions.ts";
import { TenantNotActiveError, TenantStore } from "../../lambdas/data/tenants.ts";
import { WebhookConfigStore, type DeliveryState } from "../../lambdas/data/webhook-config.ts";
import { trackHealth } from "../../lambdas/delivery/health-tracking.ts";
import type { DeliveryAttempt } from "../../lambdas/domain/delivery.ts";
import { provisionTable } from "../../lib/local-aws/provision/tables.ts";
import { synthesizeProduct } from "../../lib/dev/synth.ts";
import { startTestDynamo, type TestDynamo } from "../support/dynamodb.ts";

// The data layer against a DynamoDB engine with the table exactly as the stack declares it.
const TABLE = "conformance";
const dir = mkdtempSync(path.join(tmpdir(), "fw-data-"));
let dynamo: TestDynamo;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const { template } = synthesizeProduct(path.join(dir, "cdk.out"));
  const [logicalId, table] = Object.entries(template.Resources).find(([, r]) => r.Type === "AWS::DynamoDB::Table")!;
  await provisionTable(dynamo.client, { logicalId, properties: { ...table.Properties, TableName: TABLE } });
});
afterAll(async () => {
  await dynamo?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const draft = (evento: "boleto.paid" | "cte.cce", endpoint: string) => ({ evento, endpoint, endpointKey: new URL(endpoint).href });

describe(`the data layer on ${process.env["FW_DYNAMODB"] ?? "dynalite"}`, () => {
  it("tenants: tokens resolve to their tenant until the tenant is revoked", async () => {
    const tenants = new TenantStore(dynamo.documents, TABLE);
    const { tenant, token } = await tenants.create("Acme");
    const second = await tenants.issueToken(tenant.tenantId);
    expect(await tenants.tenantIdForToken(token)).toBe(tenant.tenantId);
    expect(await tenants.tenantIdForToken(second)).toBe(tenant.tenantId);
    expect((await tenants.list()).map((t) => t.tenantId)).toContain(tenant.tenantId);
    expect(await tenants.revoke(tenant.tenantId)).toBe(true);
    expect(await tenants.tenantIdForToken(token)).toBeUndefined();
    expect(await tenants.tenantIdForToken(second)).toBeUndefined();
    await expect(tenants.issueToken(tenant.tenantId)).rejects.toBeInstanceOf(TenantNotActiveError);
    expect(await tenants.revoke("ten_00000000000000000000")).toBe(false);
  });

  it("tenants: portal links resolve to their tenant and access until they expire or the tenant is revoked", async () => {
    const tenants = new TenantStore(dynamo.documents, TABLE);
    const { tenant } = await tenants.create("Links");
    // Issued a day ahead of the real clock: DynamoDB Local deletes items whose TTL has passed, and
    // the test must see the item still there at its expiry.
    const issuedAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 86_400_000);
    const [full, readOnly] = await Promise.all([
      tenants.issuePortalLink(tenant.tenantId, { ttlSeconds: 300, readOnly: false }, issuedAt),
      tenants.issuePortalLink(tenant.tenantId, { ttlSeconds: 300, readOnly: true }, issuedAt),
    ]);
    expect(full.token).not.toBe(readOnly.token);
    expect(full.expiresAt).toBe(new Date(issuedAt.getTime() + 300_000).toISOString());
    const justBefore = new Date(issuedAt.getTime() + 299_999);
    const expiresAt = full.expiresAt;
    expect(await tenants.resolveToken(full.token, justBefore)).toEqual({ ok: true, tenantId: tenant.tenantId, access: "link", expiresAt });
    expect(await tenants.resolveToken(readOnly.token, justBefore)).toEqual({ ok: true, tenantId: tenant.tenantId, access: "read-only-link", expiresAt });
    // Expired at expiresAt exactly, while its item (DynamoDB's TTL: an epoch second, deleted later) is still there.
    expect(await tenants.resolveToken(full.token, new Date(full.expiresAt))).toEqual({ ok: false, reason: "expired" });
    const stored = await dynamo.documents.send(new GetCommand({ TableName: TABLE, Key: keys.portalLink(apiTokenHash(full.token)) }));
    expect(stored.Item).toMatchObject({ tenantId: tenant.tenantId, readOnly: false, expiresAt: Date.parse(full.expiresAt) / 1000 });
    expect(JSON.stringify(stored.Item)).not.toContain(full.token.slice(4));
    // A link's token is not an API token, nor the other way round.
    expect(await tenants.resolveToken(`fwt_${full.token.slice(4)}`, justBefore)).toEqual({ ok: false, reason: "unknown" });
    await expect(tenants.issuePortalLink(tenant.tenantId, { ttlSeconds: 299, readOnly: false })).rejects.toBeInstanceOf(RangeError);
    // Listed live ones only, newest first (the two share their instant: ordered by id then).
    const live = await tenants.listPortalLinks(tenant.tenantId, 10, undefined, justBefore);
    expect(live.links.map((l) => l.id).sort()).toEqual([full.id, readOnly.id].sort());
    expect((await tenants.listPortalLinks(tenant.tenantId, 10, undefined, new Date(full.expiresAt))).links).toEqual([]);
    expect(await tenants.revokePortalLink("ten_other", full.id)).toBe(false);
    expect(await tenants.revokePortalLink(tenant.tenantId, full.id)).toBe(true);
    expect(await tenants.resolveToken(full.token, justBefore)).toEqual({ ok: false, reason: "unknown" });
    // Revoking the tenant deletes its links too.
    await tenants.revoke(tenant.tenantId);
    expect((await tenants.listPortalLinks(tenant.tenantId, 10, undefined, justBefore)).links).toEqual([]);
    expect(await tenants.resolveToken(readOnly.token, justBefore)).toEqual({ ok: false, reason: "unknown" });
    await expect(tenants.issuePortalLink(tenant.tenantId, { ttlSeconds: 300, readOnly: true })).rejects.toBeInstanceOf(TenantNotActiveError);
  });

  it("subscriptions: unique per (type, endpoint) even under concurrent creates, with fresh ids", async () => {
    const store = new SubscriptionStore(dynamo.documents, TABLE);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => store.create("ten_a", draft("boleto.paid", "https://same.example.com/"), 100)),
    );
    const created = results.filter((r) => r.status === "fulfilled");
    expect(created).toHaveLength(1);
    for (const r of results.filter((r) => r.status === "rejected")) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateSubscriptionError);
    }
    const other = await store.create("ten_a", draft("cte.cce", "https://same.example.com/"), 100);
    expect(other.id).toBeGreaterThan((created[0] as PromiseFulfilledResult<{ id: number }>).value.id);
    expect((await store.listForEvent("ten_a", "cte.cce")).map((s) => s.id)).toEqual([other.id]);
    expect(await store.listForEvent("ten_b", "cte.cce")).toEqual([]);
  });

  it("subscriptions: a guard left by an interrupted request is taken over once it is stale", async () => {
    const store = new SubscriptionStore(dynamo.documents, TABLE);
    const d = draft("boleto.paid", "https://crashed.example.com/");
    await dynamo.documents.send(
      new PutCommand({
        TableName: TABLE,
        Item: { ...keys.subscriptionGuard("ten_c", d.evento, d.endpointKey), subscriptionId: 999_999, createdAt: "2020-01-01T00:00:00Z" },
      }),
    );
    const created = await store.create("ten_c", d, 100);
    expect(created.id).not.toBe(999_999);
    await expect(store.create("ten_c", d, 100)).rejects.toMatchObject({ existingId: created.id });
  });

  it("subscriptions: the cap counts only the tenant's own", async () => {
    const store = new SubscriptionStore(dynamo.documents, TABLE);
    await store.create("ten_d", draft("boleto.paid", "https://d.example.com/1"), 2);
    await store.create("ten_d", draft("boleto.paid", "https://d.example.com/2"), 2);
    await expect(store.create("ten_d", draft("boleto.paid", "https://d.example.com/3"), 2)).rejects.toBeInstanceOf(SubscriptionLimitError);
    await store.create("ten_e", draft("boleto.paid", "https://d.example.com/3"), 2);
  });

  it("subscriptions: the cap holds exactly under concurrent creates; deletes free their place; an abandoned place is taken back", async () => {
    const store = new SubscriptionStore(dynamo.documents, TABLE);
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => store.create("ten_cap", draft("boleto.paid", `https://cap.example.com/${i}`), 5)),
    );
    const made = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    expect(made).toHaveLength(5);
    expect(results.filter((r) => r.status === "rejected").every((r) => (r as PromiseRejectedResult).reason instanceof SubscriptionLimitError)).toBe(true);
    expect(await store.list("ten_cap")).toHaveLength(5);
    await store.delete("ten_cap", made[0]!.id);
    await store.create("ten_cap", draft("boleto.paid", "https://cap.example.com/again"), 5);
    await expect(store.create("ten_cap", draft("boleto.paid", "https://cap.example.com/over"), 5)).rejects.toBeInstanceOf(SubscriptionLimitError);
    // A request that died after taking a place: young, the place counts; stale, it is taken back.
    const slotOf = (i: number) => keys.subscriptionSlot("ten_slot", i);
    const abandoned = (createdAt: string) =>
      dynamo.documents.send(new PutCommand({ TableName: TABLE, Item: { ...slotOf(0), slot: 0, subscriptionId: 888_888, createdAt } }));
    await abandoned(new Date().toISOString());
    await expect(store.create("ten_slot", draft("boleto.paid", "https://slot.example.com/1"), 1)).rejects.toBeInstanceOf(SubscriptionLimitError);
    await abandoned("2020-01-01T00:00:00Z");
    await store.create("ten_slot", draft("boleto.paid", "https://slot.example.com/1"), 1);
    // A limit lowered below what the tenant holds: deleting one place is not enough to create.
    const kept = await store.list("ten_cap");
    await store.delete("ten_cap", kept[0]!.id);
    await expect(store.create("ten_cap", draft("boleto.paid", "https://cap.example.com/lowered"), 3)).rejects.toBeInstanceOf(SubscriptionLimitError);
  });

  it("rate limits: a window lets exactly its limit through, concurrently too, then the next window opens", async () => {
    const store = new RateLimitStore(dynamo.documents, TABLE);
    const at = new Date("2026-11-27T10:00:10Z");
    const decisions = await Promise.all(Array.from({ length: 7 }, () => store.take("ten_rate", "test-webhook", 3, 60, at)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(3);
    expect(decisions.filter((d) => !d.allowed)).toEqual(Array.from({ length: 4 }, () => ({ allowed: false, retryAfterSeconds: 50 })));
    expect(await store.take("ten_rate", "test-webhook", 3, 60, new Date("2026-11-27T10:01:00Z"))).toEqual({ allowed: true });
    expect(await store.take("ten_other", "test-webhook", 3, 60, at)).toEqual({ allowed: true });
  });

  it("rate limits: a schedule hands concurrent callers consecutive slots, once each, and restarts at now after idling", async () => {
    const store = new RateLimitStore(dynamo.documents, TABLE);
    const at = new Date("2026-11-27T10:00:10.400Z");
    const uses = [4, 3, 5];
    const firsts = await Promise.all(uses.map((n) => store.reserve("ten_slots", "ENDPOINT#a", n, 100, at)));
    // Whatever the order they ran in, the three got 12 slots from `at` without a gap or an overlap.
    const spans = firsts.map((first, i) => [first, first + uses[i]! * 100] as const).sort((x, y) => x[0] - y[0]);
    expect(spans[0]![0]).toBe(at.getTime());
    expect(spans[1]![0]).toBe(spans[0]![1]);
    expect(spans[2]![0]).toBe(spans[1]![1]);
    expect(spans[2]![1]).toBe(at.getTime() + 1200);
    // A backlog: a later caller queues behind it; another action has a schedule of its own.
    expect(await store.reserve("ten_slots", "ENDPOINT#a", 2, 100, new Date(at.getTime() + 500))).toBe(at.getTime() + 1200);
    expect(await store.reserve("ten_slots", "ENDPOINT#b", 2, 100, at)).toBe(at.getTime());
    // Once the schedule is behind (idle), it starts at now again.
    const later = new Date(at.getTime() + 60_000);
    expect(await store.reserve("ten_slots", "ENDPOINT#a", 1, 100, later)).toBe(later.getTime());
    const item = await dynamo.documents.send(new GetCommand({ TableName: TABLE, Key: keys.rateSchedule("ten_slots", "ENDPOINT#a") }));
    expect(item.Item).toMatchObject({ nextSlot: later.getTime() + 100, expiresAt: Math.floor(later.getTime() / 1000) + 14 * 86_400 });
  });

  it("config: concurrent first PATCHes create one configuration and reveal the secret once", async () => {
    const store = new WebhookConfigStore(dynamo.documents, TABLE);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => store.patch("ten_f", { webhookUrl: `https://f.example.com/${i}`, events: ["boleto.paid"] })),
    );
    expect(results.filter((r) => r.revealedSecret !== undefined)).toHaveLength(1);
    expect(new Set(results.map((r) => r.secret.secret)).size).toBe(1);
    const rotated = await store.regenerateSecret("ten_f");
    expect(await store.getSecret("ten_f")).toMatchObject({ secret: rotated.secret, revealed: true });
    expect((await store.getSecret("ten_f"))?.previous).toBeUndefined();
    // With a grace period the replaced secret signs beside the new one until it ends.
    const at = new Date();
    const graced = await store.regenerateSecret("ten_f", 60, at);
    expect(graced.previous).toEqual({ secret: rotated.secret, until: new Date(at.getTime() + 60_000).toISOString() });
    expect((await store.getSecret("ten_f", new Date(at.getTime() + 59_000)))?.previous?.secret).toBe(rotated.secret);
    expect((await store.getSecret("ten_f", new Date(at.getTime() + 61_000)))?.previous).toBeUndefined();
  });

  it("endpoint health: one of two racing transitions wins, and the secret's rotations keep the record", async () => {
    const store = new WebhookConfigStore(dynamo.documents, TABLE);
    const url = "https://h.example.com/hooks";
    await store.ensureSecret("ten_h");
    const failing = { url, failingSince: "2026-11-27T10:00:00.000Z", failure: "HTTP 503", at: "2026-11-27T10:00:00.000Z" };
    // Two batches saw the endpoint healthy and both saw it fail: one records the streak.
    const first = await Promise.all([store.recordHealth("ten_h", undefined, failing), store.recordHealth("ten_h", undefined, { ...failing, at: "2026-11-27T10:00:00.001Z" })]);
    expect(first.filter(Boolean)).toHaveLength(1);
    const stored = (await store.endpointHealth("ten_h"))("https://H.example.com:443/hooks");
    expect(stored?.failingSince).toBe(failing.failingSince);
    // Both go on to disable it from what they read: one wins (and only it tells the tenant).
    const disabled = { ...stored!, disabledAt: "2026-11-27T11:00:00.000Z", disabledReason: "the endpoint answered 410 Gone", at: "2026-11-27T11:00:00.000Z" };
    const second = await Promise.all([store.recordHealth("ten_h", stored, disabled), store.recordHealth("ten_h", stored, { ...disabled, at: "2026-11-27T11:00:00.002Z" })]);
    expect(second.filter(Boolean)).toHaveLength(1);
    // A rotation rewrites the secret, not the endpoints' health.
    await store.regenerateSecret("ten_h");
    await store.regenerateSecret("ten_h", 60);
    expect((await store.endpointHealth("ten_h"))(url)?.disabledAt).toBe(disabled.disabledAt);
    // Re-enabled concurrently twice: it ends enabled, its first success awaited as a recovery.
    const enabled = await Promise.all([store.reenableEndpoint("ten_h", url), store.reenableEndpoint("ten_h", url)]);
    expect(enabled.every((health) => health?.disabledAt === undefined && health?.reenabledAt !== undefined)).toBe(true);
    expect((await store.deliveryState("ten_h")).secret?.previous).toBeDefined();
    // No secret, no health: a tenant without one cannot have a record made for it.
    expect(await store.recordHealth("ten_nosecret", undefined, failing)).toBe(false);
  });

  it("endpoint health from cached copies: decided again on the table's record, one transition and one notice among racing batches", async () => {
    const store = new WebhookConfigStore(dynamo.documents, TABLE);
    const url = "https://c.example.com/hooks";
    await store.ensureSecret("ten_c");
    const policy = { disableAfterSeconds: 3600 };
    const fromTable = { cached: (id: string) => store.deliveryState(id), fresh: (id: string) => store.deliveryState(id), changed: () => undefined };
    /** A batch whose first read of the tenant was `copy` (a warm environment's cache). */
    const cachedAs = (copy: DeliveryState) => ({ ...fromTable, cached: () => Promise.resolve(copy) });
    const attempt = (n: number, outcome: DeliveryAttempt) => ({
      delivery: { deliveryId: `d-${n}`, tenantId: "ten_c", eventId: `e-${n}`, eventType: "boleto.paid" as const, url, body: "{}", createdAt: "2026-11-27T09:00:00.000Z", attemptsBefore: 0 },
      outcome,
    });
    const failure = (n: number, at: string, statusCode: number) =>
      attempt(n, { kind: "retry-at", attempt: 1, delaySeconds: 5, failure: { reason: `HTTP ${statusCode}`, statusCode, failedAt: at, responseMs: 3 } });
    const success = (n: number, at: string) => attempt(n, { kind: "delivered", attempt: 1, statusCode: 200, deliveredAt: at, responseMs: 3 });

    // Two environments hold the endpoint as healthy; a third batch starts a failure streak.
    const healthy = await store.deliveryState("ten_c");
    await trackHealth([failure(0, "2026-11-27T10:00:00.000Z", 503)], fromTable, store, policy);
    // Both cached batches then see a 410: each one's write from "healthy" fails its condition, so
    // each decides again on the streak as stored; one disables the endpoint and tells the tenant.
    const racing = await Promise.all([1, 2].map((n) => trackHealth([failure(n, `2026-11-27T10:01:0${n}.000Z`, 410)], cachedAs(healthy), store, policy)));
    expect(racing.flatMap((r) => r.notices)).toEqual([expect.objectContaining({ kind: "disabled", failingSince: "2026-11-27T10:00:00.000Z" })]);
    expect((await store.endpointHealth("ten_c"))(url)).toMatchObject({ failingSince: "2026-11-27T10:00:00.000Z", disabledReason: "the endpoint answered 410 Gone" });

    // Environments that cached it disabled: the tenant re-enables it, two batches see it succeed.
    const disabled = await store.deliveryState("ten_c");
    await store.reenableEndpoint("ten_c", url);
    const recovered = await Promise.all([3, 4].map((n) => trackHealth([success(n, `2026-11-27T11:00:0${n}.000Z`)], cachedAs(disabled), store, policy)));
    expect(recovered.flatMap((r) => r.notices)).toEqual([expect.objectContaining({ kind: "recovered", url })]);
    expect((await store.endpointHealth("ten_c"))(url)).toMatchObject({ lastSuccessAt: expect.stringMatching(/^2026-11-27T11:00:0[34]/) });
  });

  it("failures: records of the same millisecond get distinct, time-ordered Number(10) ids, each shard its own", async () => {
    const store = new FailureStore(dynamo.documents, TABLE);
    const failedAt = "2018-09-18T02:30:00.123Z";
    const base = ((23 * 3600 + 30 * 60) * 1000 + 123) * 100;
    // Seven failures of deliveries of shard d (13) and one each of shards 0 and f, in one millisecond.
    const deliveryIds = [...Array.from({ length: 7 }, (_, i) => `d${i}`), "0a", "fa"];
    const stored = await Promise.all(
      deliveryIds.map((deliveryId) =>
        store.record({ tenantId: "ten_g", deliveryId, attempt: 1, evento: "boleto.paid", url: "https://g/", descricao: "x", conteudo: "{}", failedAt }),
      ),
    );
    const ids = stored.map((s) => s.id).sort((a, b) => a - b);
    expect(new Set(ids).size).toBe(9);
    // Shard d owns base + 78 .. base + 83: six there, the seventh in the next millisecond's.
    expect(ids.filter((id) => id >= base + 78 && id <= base + 83)).toHaveLength(6);
    expect(ids).toEqual(expect.arrayContaining([base, base + 90, base + 100 + 78]));
    expect(stored.every((s) => s.data === "17092018")).toBe(true);
    expect((await store.listForDate("ten_g", "17092018", 100)).failures.map((s) => s.id)).toEqual(ids);
    expect((await store.listForDate("ten_g", "18092018", 100)).failures).toEqual([]);
    // Pages of 2, each continuing where the last stopped, across the shards.
    const paged: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listForDate("ten_g", "17092018", 2, cursor);
      paged.push(...page.failures.map((s) => s.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(ids);
    await expect(store.listForDate("ten_g", "17092018", 2, "TENANT#x")).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it("logs: written over 16 partitions and the pre-sharding one, listed as one, newest first, page by page", async () => {
    const store = new DeliveryLogStore(dynamo.documents, TABLE);
    const line = (i: number) => ({
      deliveryId: randomUUID(),
      tenantId: "ten_shards",
      eventId: `e${i}`,
      eventType: "boleto.paid" as const,
      url: "https://shards/",
      status: "success" as const,
      attempts: 1,
      // Two lines share each instant: ties are ordered by delivery id.
      createdAt: new Date(Date.UTC(2026, 10, 27, 10, 0, Math.floor(i / 2))).toISOString(),
    });
    const lines = Array.from({ length: 60 }, (_, i) => line(i));
    await store.recordAll(lines.slice(0, 54));
    // Lines written before sharding, where they were then.
    for (const legacy of lines.slice(54)) {
      await dynamo.documents.send(new PutCommand({ TableName: TABLE, Item: { ...keys.legacyDeliveryLog(legacy.tenantId, legacy.createdAt, legacy.deliveryId), ...legacy } }));
    }
    const shards = new Set(lines.slice(0, 54).map((l) => keys.deliveryLog(l.tenantId, l.createdAt, l.deliveryId).pk));
    expect(shards.size).toBeGreaterThan(8);
    const newestFirst = lines.map((l) => `${l.createdAt}#${l.deliveryId}`).sort().reverse();
    for (const limit of [7, 16, 100]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list("ten_shards", limit, cursor);
        expect(page.entries.length).toBeLessThanOrEqual(limit);
        seen.push(...page.entries.map((e) => `${e.createdAt}#${e.deliveryId}`));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen, `limit ${limit}`).toEqual(newestFirst);
    }
    // A line is found by its key wherever it was written.
    expect(await store.get("ten_shards", lines[0]!.createdAt, lines[0]!.deliveryId)).toMatchObject({ eventId: "e0" });
    expect(await store.get("ten_shards", lines[59]!.createdAt, lines[59]!.deliveryId)).toMatchObject({ eventId: "e59" });
    await expect(store.list("ten_shards", 5, "TENANT#x")).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(store.list("ten_other", 5, (await store.list("ten_shards", 5)).nextCursor)).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it("logs: an attempt is recorded once per step by one message, never over a success; copies stop", async () => {
    const store = new DeliveryLogStore(dynamo.documents, TABLE);
    const line = (attempts: number, status: "retrying" | "success" | "failed" | "canceled" = "retrying") => ({
      deliveryId: "00000000-0000-8000-8000-0000000000aa",
      tenantId: "ten_chain",
      eventId: "e",
      eventType: "boleto.paid" as const,
      url: "https://chain/",
      status,
      attempts,
      createdAt: "2026-11-27T10:00:00.000Z",
    });
    // Two messages carrying attempt 1 at once (a copy SQS delivered twice): one goes on.
    const first = await Promise.all(["m1", "m1-copy"].map((message) => store.recordAttempt(line(1), message, true)));
    expect(first.filter(Boolean)).toHaveLength(1);
    const owner = first[0] ? "m1" : "m1-copy";
    expect(await store.recordAttempt(line(1), owner, true)).toBe(true); // the same message re-running after a crash
    expect(await store.recordAttempt(line(2), "m2", true)).toBe(true);
    expect(await store.recordAttempt(line(2), "m2-copy", true)).toBe(false);
    expect(await store.recordAttempt(line(1), owner, true)).toBe(false); // a step behind
    expect(await store.recordAttempt(line(3, "success"), "m3", true)).toBe(true);
    expect(await store.recordAttempt(line(4), "m4", true)).toBe(false);
    expect(await store.recordAttempt(line(3, "canceled"), "m5", false)).toBe(false);
    expect((await store.list("ten_chain", 1)).entries[0]).toMatchObject({ status: "success", attempts: 3 });
  });

  it("document history: oldest first, paged, the newest read back; a re-dispatch overwrites; scoped to tenant and document", async () => {
    const store = new DocumentHistoryStore(dynamo.documents, TABLE);
    const documentKey = "35241112345678000190550010000001231000001234";
    const delivery = (i: number) => ({ deliveryId: `00000000-0000-8000-8000-0000000001${String(i).padStart(2, "0")}`, url: `https://doc/${i % 2}`, createdAt: `2026-11-27T10:00:${String(i).padStart(2, "0")}.500Z` });
    // 30 events: more than one BatchWriteItem takes; ids that sort against the order of arrival.
    const events = Array.from({ length: 30 }, (_, i) => ({
      tenantId: "ten_doc",
      documentKey,
      eventId: `nfe-${30 - i}#${i}`,
      type: i === 0 ? ("invoice.authorized" as const) : ("cte.cce" as const),
      ...(i === 0 ? {} : { sequence: i }),
      createdAt: `2026-11-27T09:00:${String(i).padStart(2, "0")}.000Z`,
      acceptedAt: `2026-11-27T10:00:${String(i).padStart(2, "0")}.000Z`,
      deliveries: i === 29 ? [] : [delivery(i)],
    }));
    await store.recordAll(events.toReversed());
    const walked: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list("ten_doc", documentKey, 7, cursor);
      walked.push(...page.events.map((event) => event.eventId));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(walked).toEqual(events.map((event) => event.eventId));
    expect((await store.list("ten_doc", documentKey, 1)).events[0]).toEqual(events[0]);
    expect((await store.newest("ten_doc", documentKey, 3)).map((event) => event.eventId)).toEqual(events.slice(27).reverse().map((event) => event.eventId));
    // A re-dispatch of the same message writes the same key: one item, with the deliveries of the last write.
    const again = { ...events[5]!, deliveries: [{ ...delivery(5), createdAt: "2026-11-27T11:00:00.000Z" }] };
    await store.recordAll([again]);
    const all = (await store.list("ten_doc", documentKey, 100)).events;
    expect(all).toHaveLength(30);
    expect(all[5]).toEqual(again);
    // Another tenant, another document: nothing; a cursor of one document is refused by another.
    expect((await store.list("ten_other", documentKey, 10)).events).toEqual([]);
    expect((await store.list("ten_doc", documentKey.replace(/^35/, "41"), 10)).events).toEqual([]);
    const first = await store.list("ten_doc", documentKey, 2);
    await expect(store.list("ten_doc", documentKey.replace(/^35/, "41"), 2, first.nextCursor)).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(store.list("ten_other", documentKey, 2, first.nextCursor)).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(new DeliveryLogStore(dynamo.documents, TABLE).list("ten_doc", 2, first.nextCursor)).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it("document history, as dispatch files a batch: events without a key add nothing; a refused write names each record to retry", async () => {
    const event = (id: string, documentKey?: string) => ({
      tenantId: "ten_docbatch",
      type: "cte.cce" as const,
      id,
      idFromProducer: true,
      createdAt: "2026-11-27T10:00:00.000Z",
      ...(documentKey ? { documentKey, sequence: 1 } : {}),
      data: {},
    });
    const planned = (id: string) => [{ deliveryId: "00000000-0000-8000-8000-000000000301", tenantId: "ten_docbatch", eventId: id, eventType: "cte.cce" as const, url: "https://b/", createdAt: "2026-11-27T10:00:01.000Z" }];
    const key = "35261112345678000190570010000004561000004567";
    const fill = (batch: ReturnType<typeof documentHistoryBatch<string>>) => {
      batch.add("with-key", event("a", key), "2026-11-27T10:00:00.500Z", planned("a"));
      batch.add("without-key", event("b"), "2026-11-27T10:00:00.600Z", planned("b"));
    };
    const store = new DocumentHistoryStore(dynamo.documents, TABLE);
    const written = documentHistoryBatch<string>(store);
    fill(written);
    expect(await written.write()).toEqual([]);
    expect((await store.list("ten_docbatch", key, 10)).events).toEqual([
      { tenantId: "ten_docbatch", documentKey: key, eventId: "a", type: "cte.cce", sequence: 1, createdAt: "2026-11-27T10:00:00.000Z", acceptedAt: "2026-11-27T10:00:00.500Z", deliveries: [{ deliveryId: "00000000-0000-8000-8000-000000000301", url: "https://b/", createdAt: "2026-11-27T10:00:01.000Z" }] },
    ]);
    // DynamoDB refusing the write (here: no such table) fails only the records that had something to file.
    const refused = documentHistoryBatch<string>(new DocumentHistoryStore(dynamo.documents, "no-such-table"));
    fill(refused);
    expect(await refused.write()).toEqual(["with-key"]);
    expect(await documentHistoryBatch<string>(new DocumentHistoryStore(dynamo.documents, "no-such-table")).write()).toEqual([]);
  });

  it("logs: read back by key in batches, more than one BatchGetItem takes, missing ones left out", async () => {
    const store = new DeliveryLogStore(dynamo.documents, TABLE);
    const line = (i: number) => ({
      deliveryId: `00000000-0000-8000-8000-000000002${String(i).padStart(3, "0")}`,
      tenantId: "ten_batchget",
      eventId: `e${i}`,
      eventType: "boleto.paid" as const,
      url: "https://batchget/",
      status: "success" as const,
      attempts: 1,
      createdAt: `2026-11-27T10:00:00.${String(i).padStart(3, "0")}Z`,
    });
    const written = Array.from({ length: 130 }, (_, i) => line(i)).filter((_, i) => i % 10 !== 3);
    await store.recordAll(written);
    const read = await store.getAll("ten_batchget", Array.from({ length: 130 }, (_, i) => line(i)));
    expect(read.map((entry) => entry.eventId).sort()).toEqual(written.map((entry) => entry.eventId).sort());
    expect(read.find((entry) => entry.eventId === "e7")).toEqual(line(7));
    // The tenant is part of the key: another tenant's lines are not read.
    expect(await store.getAll("ten_other", written)).toEqual([]);
  });

  it("dispatched events: a claim past its expiry no longer holds, before TTL removes it", async () => {
    const store = new DispatchedEventStore(dynamo.documents, TABLE);
    const event = { tenantId: "ten_ttl", eventId: "e1" };
    expect(await store.claim(event, "old", new Date("2026-01-01T00:00:00Z"))).toBe(true);
    expect(await store.claim(event, "new", new Date("2026-01-05T00:00:00Z"))).toBe(false);
    expect(await store.claim(event, "new", new Date("2026-01-09T00:00:00Z"))).toBe(true);
  });

  it("logs: newest first, paged by cursor, and a foreign cursor is refused", async () => {
    const store = new DeliveryLogStore(dynamo.documents, TABLE);
    const entries = Array.from({ length: 7 }, (_, i) => ({
      deliveryId: `00000000-0000-8000-8000-00000000000${i}`,
      tenantId: "ten_h",
      eventId: `e${i}`,
      eventType: "boleto.paid" as const,
      url: "https://h/",
      status: "success" as const,
      attempts: 1,
      createdAt: `2026-11-24T10:00:0${i}.000Z`,
    }));
    await store.recordAll(entries);
    const first = await store.list("ten_h", 4);
    expect(first.entries.map((e) => e.eventId)).toEqual(["e6", "e5", "e4", "e3"]);
    const second = await store.list("ten_h", 4, first.nextCursor);
    expect(second.entries.map((e) => e.eventId)).toEqual(["e2", "e1", "e0"]);
    await expect(store.list("ten_h", 4, Buffer.from("SUB#0000000001").toString("base64url"))).rejects.toBeInstanceOf(InvalidCursorError);
    // A cursor is bound to its listing and partition: another tenant's, another listing's or a retouched one is refused.
    await expect(store.list("ten_other", 4, first.nextCursor)).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(new FailureStore(dynamo.documents, TABLE).listForDate("ten_h", "24112026", 4, first.nextCursor)).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(store.list("ten_h", 4, `x${first.nextCursor}`)).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it("dead letters: a retried delivery that dies again replaces its claimed letter, and the late remove keeps it", async () => {
    const store = new DeadLetterStore(dynamo.documents, TABLE);
    const delivery = {
      deliveryId: "11111111-2222-8333-8444-555555555555",
      tenantId: "ten_k",
      eventId: "e",
      eventType: "boleto.paid" as const,
      url: "https://k/",
      body: "{}",
      createdAt: "2026-11-24T10:00:00.000Z",
      attemptsBefore: 0,
    };
    await store.put({ delivery, attempts: 2, lastError: "HTTP 500", failedAt: "2026-11-24T10:01:00.000Z" });
    const claimed = await store.claim("ten_k", delivery.deliveryId);
    expect(claimed).toBeDefined();
    expect(await store.claim("ten_k", delivery.deliveryId)).toBeUndefined();
    // A late duplicate of the same dead message does not disturb the claim...
    await store.put({ delivery, attempts: 2, lastError: "HTTP 500", failedAt: "2026-11-24T10:01:30.000Z" });
    expect(await store.claim("ten_k", delivery.deliveryId)).toBeUndefined();
    // ...but the retried delivery dying again does, and the retry's remove then leaves it.
    await store.put({ delivery: { ...delivery, attemptsBefore: 2 }, attempts: 4, lastError: "timeout", failedAt: "2026-11-24T10:05:00.000Z" });
    await store.remove(claimed!);
    expect(await store.get("ten_k", delivery.deliveryId)).toMatchObject({ attempts: 4, lastError: "timeout" });
    await expect(store.list("ten_k", 10, Buffer.from(JSON.stringify(["", "DEAD#x"])).toString("base64url"))).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it("dead letters: pages hold only claimable letters, newest first, and together list each once", async () => {
    const store = new DeadLetterStore(dynamo.documents, TABLE);
    const ids = Array.from({ length: 7 }, (_, i) => `22222222-2222-8333-8444-00000000000${i}`);
    for (const [i, deliveryId] of ids.entries()) {
      const delivery = { deliveryId, tenantId: "ten_m", eventId: `e${i}`, eventType: "boleto.paid" as const, url: "https://m/", body: "{}", createdAt: "2026-11-24T10:00:00.000Z", attemptsBefore: 0 };
      await store.put({ delivery, attempts: 1, lastError: "HTTP 500", failedAt: `2026-11-24T10:0${i}:00.000Z` });
    }
    // Claimed letters are filtered out, so DynamoDB pages come back short and the store reads on
    // (here past the page size: the page is cut and its cursor points after its last letter).
    for (const i of [1, 5]) await store.claim("ten_m", ids[i]!);
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list("ten_m", 2, cursor);
      expect(page.letters.length).toBeLessThanOrEqual(2);
      listed.push(...page.letters.map((letter) => letter.delivery.deliveryId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(listed).toEqual([ids[6], ids[4], ids[3], ids[2], ids[0]]);
  });

  it("dispatched events: of any number of concurrent claims of one id, one message wins; it may claim again, others may after it lets go", async () => {
    const store = new DispatchedEventStore(dynamo.documents, TABLE);
    const event = { tenantId: "ten_i", eventId: "e1" };
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => store.claim(event, `m${i}`)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    const winner = `m${claims.indexOf(true)}`;
    expect(await store.claim(event, winner)).toBe(true);
    expect(await store.claim(event, "another")).toBe(false);
    expect(await store.claim({ tenantId: "ten_j", eventId: "e1" }, "another")).toBe(true);
    await store.release(event, "another");
    expect(await store.claim(event, "another")).toBe(false);
    await store.release(event, winner);
    expect(await store.claim(event, "another")).toBe(true);
  });
});
