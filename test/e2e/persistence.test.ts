import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startProductRuntime } from "../../lib/dev/product.ts";

const dataDir = mkdtempSync(path.join(tmpdir(), "fw-persist-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("the local runtime with persisted data", () => {
  it("keeps the dev tenant and its token across a stop and a start", async () => {
    const first = await startProductRuntime({ dataDir });
    const { token, tenantId } = first.local;
    await first.stop();

    const second = await startProductRuntime({ dataDir });
    try {
      expect(second.local).toMatchObject({ token, tenantId });
      const response = await fetch(`${second.apiUrl}/webhooks/events`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it("starts fresh with --in-memory: a new dev tenant, nothing persisted", async () => {
    const first = await startProductRuntime({ dataDir, inMemory: true });
    const second = await startProductRuntime({ dataDir: mkdtempSync(path.join(tmpdir(), "fw-mem-")), inMemory: true });
    try {
      expect(second.local.tenantId).not.toBe(first.local.tenantId);
      const stale = await fetch(`${second.apiUrl}/webhooks/events`, {
        headers: { authorization: `Bearer ${first.local.token}` },
      });
      expect(stale.status).toBe(401);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});
