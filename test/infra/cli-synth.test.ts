import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { STACK_NAME } from "../../lambdas/contract/resources.ts";

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), "fw-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npx cdk synth", () => {
  it("synthesizes with the pinned CLI, offline, without Docker, cdk-nag passing", async () => {
    const out = path.join(dir, "cdk.out");
    const cli = path.join(process.cwd(), "node_modules", ".bin", "cdk");
    const { stderr } = await run(cli, ["synth", "--quiet", "-o", out], {
      env: {
        ...process.env,
        CDK_DISABLE_VERSION_CHECK: "1",
        CDK_HOME: path.join(dir, "home"),
        // No proxy, no registry: a network attempt would fail rather than pass unnoticed.
        HTTPS_PROXY: "http://127.0.0.1:9",
        HTTP_PROXY: "http://127.0.0.1:9",
      },
    });
    expect(stderr).not.toMatch(/docker/i);
    const template = JSON.parse(readFileSync(path.join(out, `${STACK_NAME}.template.json`), "utf8")) as { Resources: object };
    expect(Object.keys(template.Resources).length).toBeGreaterThan(20);
    expect(existsSync(path.join(out, "validation-report.json"))).toBe(true);
  }, 120_000);
});
