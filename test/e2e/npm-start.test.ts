import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..", "..");

it("npm start prints its banner, not the bundler's output, and stops cleanly on Ctrl-C", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "fw-start-"));
  const ports = ["--port", "0", "--dynamodb-port", "0", "--sqs-port", "0", "--inspector-port", "0"];
  // What `npm start` runs, under this node.
  const child = spawn(process.execPath, ["--import", "tsx", "bin/local.ts", "--in-memory", "--quiet", "--data-dir", dataDir, ...ports], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  try {
    const deadline = Date.now() + 90_000;
    while (!output.includes("Ctrl-C stops it.") && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(output).toContain("Fiscal Webhooks is running locally");
    expect(output).not.toMatch(/Bundling asset|⚡ Done|index\.mjs/);
    expect(output.trim().split("\n").length).toBeLessThan(30);
    // The web console: its URL in the banner and in outputs.json, and served there.
    const consoleUrl = /Console\s+(http:\/\/\S+\/console\/)/.exec(output)?.[1];
    const outputs = JSON.parse(readFileSync(path.join(dataDir, "outputs.json"), "utf8")) as Record<string, Record<string, string>>;
    expect(consoleUrl).toBe(outputs["FiscalWebhooks"]?.["ConsoleUrl"]);
    const page = await fetch(String(consoleUrl));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>Fiscal Webhooks</title>");
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(output).toContain("SIGINT: stopping");
  } finally {
    child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 120_000);
