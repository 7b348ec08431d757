import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVENT_CATALOGUE } from "../../lambdas/domain/catalogue.ts";
import { OUTPUTS, STACK_NAME } from "../../lambdas/contract/resources.ts";
import { startEphemeralProduct, type EphemeralProduct } from "../../lib/dev/ephemeral-product.ts";

const run = promisify(execFile);
let env: EphemeralProduct;

beforeAll(async () => {
  env = await startEphemeralProduct();
});
afterAll(() => env?.stop());

const events = (authorization?: string) =>
  fetch(`${env.product.apiUrl}/webhooks/events`, authorization ? { headers: { authorization } } : {});

async function expectProblem(response: Response, status: number, detail: RegExp): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const problem = (await response.json()) as Record<string, unknown>;
  expect(problem).toMatchObject({ status, type: expect.stringMatching(/^urn:fiscal-webhooks:problem:/) });
  expect(String(problem["detail"])).toMatch(detail);
}

/** `npm run tenant -- …` against the running local stack. */
async function tenantCli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "bin/tenant.ts", ...args, "--outputs", env.product.outputsFile]);
  return stdout;
}

describe("GET /webhooks/events on the local runtime", () => {
  it("returns the 16-type catalogue (13 fiscal, 3 operational) to a valid token", async () => {
    const response = await events(`Bearer ${env.product.local.token}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await response.json()) as { type: string; kind: string; description: string }[];
    expect(body).toHaveLength(16);
    expect(body.filter((e) => e.kind === "operational").map((e) => e.type)).toEqual(["webhook.endpoint.disabled", "webhook.endpoint.recovered", "webhook.delivery.exhausted"]);
    expect(body).toEqual(EVENT_CATALOGUE);
    expect(body.find((e) => e.type === "boleto.paid")?.description).toBe("Boleto pago");
  });

  it("answers 401 problem+json without a token, with a malformed one and with an unknown one", async () => {
    await expectProblem(await events(), 401, /no Authorization header/);
    await expectProblem(await events("Basic abc"), 401, /not `Bearer <token>`/);
    await expectProblem(await events(`Bearer fwt_${"A".repeat(43)}`), 401, /unknown or has been revoked/);
  });

  it("answers a path that is not a route with a 404 problem, with or without a token (the API's $default route)", async () => {
    for (const headers of [{ authorization: `Bearer ${env.product.local.token}` }, {}]) {
      const response = await fetch(`${env.product.apiUrl}/webhooks/nothing-here`, { headers });
      await expectProblem(response, 404, /no route GET \/webhooks\/nothing-here/);
    }
  });

  it("answers a method a path does not have with a 405 problem and Allow", async () => {
    const response = await fetch(`${env.product.apiUrl}/webhooks/config`, { method: "DELETE" });
    expect(response.headers.get("allow")).toBe("GET, PATCH");
    await expectProblem(response, 405, /does not answer DELETE; it answers GET, PATCH/);
    const withId = await fetch(`${env.product.apiUrl}/portal/api/ext/webhook/42`, { method: "POST" });
    expect(withId.headers.get("allow")).toBe("PUT, DELETE");
  });
});

describe("outputs.json", () => {
  it("is shaped like cdk deploy --outputs-file plus a local section, readable only by its owner", () => {
    const file = JSON.parse(readFileSync(env.product.outputsFile, "utf8")) as Record<string, Record<string, string>>;
    expect(file[STACK_NAME]?.[OUTPUTS.apiUrl]).toBe(env.product.apiUrl);
    expect(file[STACK_NAME]?.[OUTPUTS.eventsQueueUrl]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/000000000000\/.+EventsQueue/);
    expect(file["local"]).toEqual({
      region: "us-east-1",
      dynamodbEndpoint: env.product.runtime.dynamodbEndpoint,
      sqsEndpoint: env.product.runtime.sqsEndpoint,
      tenantId: env.product.local.tenantId,
      token: env.product.local.token,
      inspectorUrl: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\/webhooks$/),
    });
    expect(statSync(env.product.outputsFile).mode & 0o077).toBe(0);
  });
});

describe("npm run tenant", () => {
  it("creates a tenant whose token works, lists it, and revokes it", async () => {
    const created = await tenantCli("create", "Acme Fiscal");
    const token = /Token \(shown only now\): (\S+)/.exec(created)?.[1];
    const tenantId = /Tenant (ten_[0-9a-f]+)/.exec(created)?.[1];
    expect(token).toBeDefined();
    expect((await events(`Bearer ${token}`)).status).toBe(200);
    expect(await tenantCli("list")).toMatch(new RegExp(`${tenantId}\\tactive\\t.*\\tAcme Fiscal`));

    expect(await tenantCli("revoke", String(tenantId))).toMatch(/revoked/);
    await expectProblem(await events(`Bearer ${token}`), 401, /unknown or has been revoked/);
    expect(await tenantCli("list")).toMatch(new RegExp(`${tenantId}\\trevoked`));
    // The dev tenant is untouched.
    expect((await events(`Bearer ${env.product.local.token}`)).status).toBe(200);
  });
});
