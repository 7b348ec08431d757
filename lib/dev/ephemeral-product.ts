import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { OUTPUTS } from "../../lambdas/contract/resources.ts";
import { TenantStore } from "../../lambdas/data/tenants.ts";
import { startProductRuntime, type ProductRuntime, type ProductRuntimeOptions } from "./product.ts";

/**
 * The product on the local runtime, in memory, in a temporary folder removed on stop, with
 * helpers to make tenants and call the API: for tests, the bench and demos.
 */
export interface EphemeralProduct {
  readonly product: ProductRuntime;
  readonly tenants: TenantStore;
  /** A document client on the local DynamoDB, for tests that seed or inspect the table. */
  readonly documents: DynamoDBDocumentClient;
  /** A fresh tenant and a client that calls the API with its token. */
  newTenant(name?: string): Promise<{ tenantId: string; token: string; call: ApiCall }>;
  /** Stops it; rejects if a function was refused any call, so a test that saw a denial fails. */
  stop(): Promise<void>;
}

export type ApiCall = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Response>;

export async function startEphemeralProduct(options: Partial<ProductRuntimeOptions> = {}): Promise<EphemeralProduct> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "fw-product-"));
  // FW_DEBUG=1 shows the functions' logs and absorbed errors while a test runs.
  const debug = process.env["FW_DEBUG"]
    ? {
        functionOutput: (fn: string, line: string) => console.log(`[${fn}] ${line}`),
        onError: (source: string, error: unknown) => console.log(`[${source}]`, error),
      }
    : {};
  // A test reads its own writes at once (a subscription made, then an event sent): warm functions
  // keep nothing unless it asks for caching; the bench asks for the stack's default.
  const product = await startProductRuntime({ dataDir, inMemory: true, configCacheSeconds: 0, ...debug, ...options });
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
      const denials = product.runtime.accessDenials();
      await product.stop();
      rmSync(dataDir, { recursive: true, force: true });
      if (denials.length > 0) {
        throw new Error(`The product's roles refused ${denials.length} call(s):\n${denials.map((denial) => denial.message).join("\n")}`);
      }
    },
  };
}
