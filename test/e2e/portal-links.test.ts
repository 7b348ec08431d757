import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEphemeralProduct, type ApiCall, type EphemeralProduct } from "../../lib/dev/ephemeral-product.ts";
import { problemOf } from "../support/product.ts";

const run = promisify(execFile);
const PORTAL = "/portal/api/ext/webhook";
const MASKED_SECRET = /^whsec_[A-Za-z0-9+/]{2}\.\.\.[A-Za-z0-9+/]{2}$/;

let env: EphemeralProduct;
let alice: { tenantId: string; call: ApiCall };
let bobSubscription: number;

beforeAll(async () => {
  env = await startEphemeralProduct();
  alice = await env.newTenant("alice");
  const bob = await env.newTenant("bob");
  expect((await alice.call("POST", PORTAL, { evento: "invoice.authorized", endpoint: "https://alice.example.com/h" })).status).toBe(201);
  bobSubscription = ((await (await bob.call("POST", PORTAL, { evento: "boleto.paid", endpoint: "https://bob.example.com/h" })).json()) as { id: number }).id;
});
afterAll(async () => env?.stop());

interface PortalLink {
  url: string;
  token: string;
  id: string;
  readOnly: boolean;
  createdAt: string;
  expiresAt: string;
}

/** A caller that uses a portal link's token as its Bearer, as the console does. */
const withLink = (token: string): ApiCall => (method, path, body) =>
  fetch(`${env.product.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function createLink(call: ApiCall, body?: unknown): Promise<PortalLink> {
  const response = await call("POST", "/webhooks/portal-links", body);
  expect(response.status).toBe(201);
  expect(response.headers.get("cache-control")).toBe("no-store");
  return (await response.json()) as PortalLink;
}

const tenantCli = (...args: string[]) =>
  run(process.execPath, ["--import", "tsx", "bin/tenant.ts", ...args, "--outputs", env.product.outputsFile]);

describe("portal links", () => {
  it("are created by the API: a console URL on this API with the token in its fragment, an hour by default", async () => {
    const before = Date.now();
    const link = await createLink(alice.call);
    expect(link).toEqual({
      url: `${env.product.apiUrl}/console/#link=${link.token}`,
      token: expect.stringMatching(/^fwl_[A-Za-z0-9_-]{43}$/),
      id: expect.stringMatching(/^[0-9a-f]{64}$/),
      readOnly: false,
      createdAt: expect.any(String),
      expiresAt: expect.any(String),
    });
    const lifetime = Date.parse(link.expiresAt) - before;
    expect(lifetime).toBeGreaterThan(3_590_000);
    expect(lifetime).toBeLessThanOrEqual(3_600_000 + 60_000);

    const short = await createLink(alice.call, { ttlSeconds: 300, readOnly: true });
    expect(short.readOnly).toBe(true);
    expect(Date.parse(short.expiresAt) - before).toBeLessThan(3_600_000);

    // What each credential may do, as the console asks it.
    expect(await (await withLink(short.token)("GET", "/webhooks/access")).json()).toEqual({ credential: "portalLink", readOnly: true, expiresAt: short.expiresAt });
    expect(await (await withLink(link.token)("GET", "/webhooks/access")).json()).toEqual({ credential: "portalLink", readOnly: false, expiresAt: link.expiresAt });
    expect(await (await alice.call("GET", "/webhooks/access")).json()).toEqual({ credential: "apiToken", readOnly: false });
  });

  it("refuse a lifetime out of bounds and unknown fields with a problem naming the field", async () => {
    for (const [body, field] of [
      [{ ttlSeconds: 299 }, "ttlSeconds"],
      [{ ttlSeconds: 604_801 }, "ttlSeconds"],
      [{ ttlSeconds: 1.5 }, "ttlSeconds"],
      [{ readOnly: "yes" }, "readOnly"],
      [{ scope: "all" }, "scope"],
    ] as const) {
      const problem = await problemOf(await alice.call("POST", "/webhooks/portal-links", body), 400);
      expect((problem["errors"] as { field: string }[]).map((e) => e.field)).toEqual([field]);
    }
  });

  it("give a full link the tenant's data and routes, never another tenant's", async () => {
    const link = withLink((await createLink(alice.call, { ttlSeconds: 600 })).token);
    const listed = (await (await link("GET", PORTAL)).json()) as { endpoint: string }[];
    expect(listed.map((s) => s.endpoint)).toEqual(["https://alice.example.com/h"]);
    expect((await link("GET", "/webhooks/logs")).status).toBe(200);

    const created = await link("POST", PORTAL, { evento: "cte.authorized", endpoint: "https://alice.example.com/cte" });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    expect((await alice.call("GET", PORTAL)).status).toBe(200);
    expect(((await (await alice.call("GET", PORTAL)).json()) as { id: number }[]).map((s) => s.id)).toContain(id);
    expect((await link("DELETE", `${PORTAL}/${id}`)).status).toBe(204);

    // Another tenant's subscription is as absent for the link as for the tenant's token.
    await problemOf(await link("PUT", `${PORTAL}/${bobSubscription}`, { id: bobSubscription, evento: "boleto.paid", endpoint: "https://evil.example.com/h" }), 404);
    await problemOf(await link("DELETE", `${PORTAL}/${bobSubscription}`), 404);
  });

  it("never let a link make links or reach the signing secret", async () => {
    const link = withLink((await createLink(alice.call)).token);
    const again = await problemOf(await link("POST", "/webhooks/portal-links", {}), 403);
    expect(again).toMatchObject({ type: "urn:fiscal-webhooks:problem:forbidden", detail: expect.stringMatching(/API token/) });
    await problemOf(await link("POST", "/webhooks/secret/regenerate"), 403);
    await problemOf(await link("GET", "/webhooks/portal-links"), 403);
    await problemOf(await link("DELETE", `/webhooks/portal-links/${"0".repeat(64)}`), 403);

    // A link's PATCH that creates the configuration does not show the secret it made.
    const dave = await env.newTenant("dave");
    const daveLink = withLink((await createLink(dave.call)).token);
    const created = (await (await daveLink("PATCH", "/webhooks/config", { webhookUrl: "https://dave.example.com/h" })).json()) as { webhookSecret: string };
    expect(created.webhookSecret).toMatch(MASKED_SECRET);
    expect((await dave.call("POST", "/webhooks/secret/regenerate")).status).toBe(200);
  });

  it("let a read-only link read, and answer each of its writes 403", async () => {
    const link = withLink((await createLink(alice.call, { readOnly: true })).token);
    const listed = await link("GET", PORTAL);
    expect(listed.status).toBe(200);
    const [first] = (await listed.json()) as { id: number; evento: string; endpoint: string }[];
    for (const [method, path, body] of [
      ["POST", PORTAL, { evento: "boleto.paid", endpoint: "https://alice.example.com/b" }],
      ["PUT", `${PORTAL}/${first!.id}`, { ...first, endpoint: "https://alice.example.com/moved" }],
      ["DELETE", `${PORTAL}/${first!.id}`, undefined],
      ["PATCH", "/webhooks/config", { webhookUrl: "https://alice.example.com/all" }],
      ["POST", "/webhooks/dlq/retry-all", undefined],
      ["DELETE", "/webhooks/dlq", undefined],
    ] as const) {
      const problem = await problemOf(await link(method, path, body), 403);
      expect(problem["detail"]).toMatch(/read-only/);
    }
    // Reads and writes at once: every verdict is the link's own, none borrowed from a neighbour.
    const mixed = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 3 === 0 ? link("POST", PORTAL, { evento: "boleto.paid", endpoint: `https://alice.example.com/c${i}` }) : link("GET", PORTAL),
      ),
    );
    expect(mixed.map((r) => r.status)).toEqual(Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? 403 : 200)));
    // Nothing changed.
    expect(((await (await alice.call("GET", PORTAL)).json()) as unknown[])[0]).toEqual(first);
    expect(await (await alice.call("GET", PORTAL)).json()).toHaveLength(1);
    await problemOf(await alice.call("GET", "/webhooks/config"), 404);
  });

  it("stop working once expired, even before DynamoDB's TTL deletes them", async () => {
    // Issued 301 s ago for 300 s: expired a second ago, its item still in the table.
    const { token } = await env.tenants.issuePortalLink(alice.tenantId, { ttlSeconds: 300, readOnly: false }, new Date(Date.now() - 301_000));
    const problem = await problemOf(await withLink(token)("GET", PORTAL), 401);
    expect(problem["detail"]).toMatch(/expired/);
  });

  it("stop working when their tenant is revoked", async () => {
    const carol = await env.newTenant("carol");
    const link = withLink((await createLink(carol.call)).token);
    expect((await link("GET", PORTAL)).status).toBe(200);
    expect(await env.tenants.revoke(carol.tenantId)).toBe(true);
    await problemOf(await link("GET", PORTAL), 401);
  });

  it("are listed without their tokens, newest first, and stop working at once when revoked", async () => {
    const erin = await env.newTenant("erin");
    const first = await createLink(erin.call, { ttlSeconds: 600 });
    const second = await createLink(erin.call, { readOnly: true });
    const other = await createLink(alice.call);
    const listed = await erin.call("GET", "/webhooks/portal-links");
    expect(listed.status).toBe(200);
    const view = ({ id, readOnly, createdAt, expiresAt }: PortalLink) => ({ id, readOnly, createdAt, expiresAt });
    expect(await listed.json()).toEqual([view(second), view(first)]);
    const paged = await erin.call("GET", "/webhooks/portal-links?limit=1");
    expect(await paged.json()).toEqual([view(second)]);
    const cursor = paged.headers.get("x-next-cursor")!;
    expect(await (await erin.call("GET", `/webhooks/portal-links?limit=1&cursor=${encodeURIComponent(cursor)}`)).json()).toEqual([view(first)]);

    // Another tenant's link is not this tenant's to revoke: 404, and it keeps working.
    await problemOf(await erin.call("DELETE", `/webhooks/portal-links/${other.id}`), 404);
    expect((await withLink(other.token)("GET", PORTAL)).status).toBe(200);
    const malformed = await problemOf(await erin.call("DELETE", "/webhooks/portal-links/abc"), 400);
    expect(malformed["errors"]).toEqual([expect.objectContaining({ field: "linkId (path)" })]);

    // Requests racing the revocation are each answered 200 or 401; every one after it, 401.
    const racing = Array.from({ length: 8 }, () => withLink(first.token)("GET", PORTAL));
    expect((await erin.call("DELETE", `/webhooks/portal-links/${first.id}`)).status).toBe(204);
    for (const status of (await Promise.all(racing)).map((r) => r.status)) expect([200, 401]).toContain(status);
    const after = await Promise.all(Array.from({ length: 4 }, () => withLink(first.token)("GET", PORTAL)));
    expect(after.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    await problemOf(await erin.call("DELETE", `/webhooks/portal-links/${first.id}`), 404);
    expect(await (await erin.call("GET", "/webhooks/portal-links")).json()).toEqual([view(second)]);
    expect((await withLink(second.token)("GET", PORTAL)).status).toBe(200);
  });

  it("made at once are distinct and each works", async () => {
    const links = await Promise.all(Array.from({ length: 6 }, (_, i) => createLink(alice.call, { readOnly: i % 2 === 0 })));
    expect(new Set(links.map((l) => l.token)).size).toBe(links.length);
    const answers = await Promise.all(links.map(async (l) => [(await withLink(l.token)("GET", PORTAL)).status, (await withLink(l.token)("POST", "/webhooks/test")).status]));
    // Every link reads; only the full ones reach the test route (409 there: alice has no config).
    expect(answers).toEqual(links.map((l) => [200, l.readOnly ? 403 : 409]));
  });

  it("are printed by npm run tenant -- portal-link, with --ttl and --read-only", async () => {
    const { stdout } = await tenantCli("portal-link", alice.tenantId, "--ttl", "2h", "--read-only");
    expect(stdout).toMatch(/read-only/);
    const token = new RegExp(`${env.product.apiUrl.replace(/[.]/g, "\\.")}/console/#link=(fwl_[A-Za-z0-9_-]{43})`).exec(stdout)?.[1];
    expect(token).toBeDefined();
    const link = withLink(token!);
    expect((await link("GET", PORTAL)).status).toBe(200);
    await problemOf(await link("POST", PORTAL, { evento: "boleto.paid", endpoint: "https://alice.example.com/b" }), 403);

    await expect(tenantCli("portal-link", alice.tenantId, "--ttl", "1m")).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--ttl/) });
    await expect(tenantCli("portal-link", "ten_00000000000000000000")).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/revoked/) });
  });
});
