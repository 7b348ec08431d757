import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { OUTPUTS } from "../../lambdas/contract/resources.ts";
import { TenantStore } from "../../lambdas/data/tenants.ts";
import { startProductRuntime, type ProductRuntime, type ProductRuntimeOptions } from "../../lib/local/product.ts";

/** The product on the local runtime, in memory, with helpers to make tenants and call the API. */
export interface TestProduct {
  readonly product: ProductRuntime;
  readonly tenants: TenantStore;
  /** A document client on the local DynamoDB, for tests that seed or inspect the table. */
  readonly documents: DynamoDBDocumentClient;
  /** A fresh tenant and a client that calls the API with its token. */
  newTenant(name?: string): Promise<{ tenantId: string; token: string; call: ApiCall }>;
  stop(): Promise<void>;
}

export type ApiCall = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Response>;

export async function startTestProduct(options: Partial<ProductRuntimeOptions> = {}): Promise<TestProduct> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "fw-test-"));
  // FW_DEBUG=1 shows the functions' logs and absorbed errors while a test runs.
  const debug = process.env["FW_DEBUG"]
    ? {
        functionOutput: (fn: string, line: string) => console.log(`[${fn}] ${line}`),
        onError: (source: string, error: unknown) => console.log(`[${source}]`, error),
      }
    : {};
  const product = await startProductRuntime({ dataDir, inMemory: true, ...debug, ...options });
  const documents = DynamoDBDocumentClient.from(product.runtime.dynamodb);
  const tenants = new TenantStore(documents, String(product.outputs[OUTPUTS.tableName]));
  const caller =
    (token: string): ApiCall =>
    (method, route, body, headers = {}) =>
      fetch(`${product.apiUrl}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      });
  return {
    product,
    tenants,
    documents,
    async newTenant(name = "tenant") {
      const { tenant, token } = await tenants.create(name);
      return { tenantId: tenant.tenantId, token, call: caller(token) };
    },
    async stop() {
      await product.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A request fetch cannot make: a GET with a body, as the Portal's falhas search sends it. */
export async function requestWithBody(url: string, method: string, token: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": Buffer.byteLength(payload) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
      },
    );
    request.on("error", reject);
    request.end(payload);
  });
}

/** Reads a problem+json answer, checking status and media type. */
export async function problemOf(response: Response, status: number): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${text}`);
  if (response.headers.get("content-type") !== "application/problem+json") {
    throw new Error(`expected application/problem+json, got ${response.headers.get("content-type")}: ${text}`);
  }
  return JSON.parse(text) as Record<string, unknown>;
}
