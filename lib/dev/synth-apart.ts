import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { SynthesizedProduct } from "./synth.ts";

const PROJECT_ROOT = path.resolve(import.meta.dirname, "..", "..");
const SYNTH_CLI = path.join(import.meta.dirname, "synth-cli.ts");

/**
 * synthesizeProduct in a child process. Loading aws-cdk-lib and building the app take some
 * 300 MB that a process keeps once allocated; synthesized apart, the runtime's process never
 * holds them (its idle memory is what it runs). The child's stderr is the caller's.
 */
export async function synthesizeProductApart(
  outdir: string,
  context: Readonly<Record<string, unknown>>,
  options: { readonly verbose?: boolean } = {},
): Promise<SynthesizedProduct> {
  const resultFile = `${outdir}.synthesis.json`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", SYNTH_CLI, outdir, JSON.stringify(context), resultFile, options.verbose ? "verbose" : "quiet"], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => (code === 0 ? resolve() : reject(new Error(`synthesis ended with ${signal ?? `exit code ${code}`}`))));
  });
  const result = JSON.parse(await readFile(resultFile, "utf8")) as { product: SynthesizedProduct } | { error: string };
  await rm(resultFile, { force: true });
  if ("error" in result) throw new Error(result.error);
  return result.product;
}
