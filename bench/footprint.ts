/**
 * Footprint of the function bundles: for each function of the synthesized stack, its bundle's
 * size and how long a fresh Node process takes to import it (the module's load, parse and
 * top-level evaluation: what a cold start adds before the first handler call), beside an empty
 * module imported the same way.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildConsole, consoleSizes } from "../console/build.ts";
import { synthesizeProductApart } from "../lib/dev/synth-apart.ts";
import { fixed, int, table, verdict } from "./format.ts";

/** Issue 14's footprint targets, for the deliver function; issue 15's for the web console (all its files, gzipped). */
export const FOOTPRINT_TARGETS = { deliverBytes: 400_000, deliverImportMs: 50, consoleGzipBytes: 100_000 } as const;

export interface BundleFootprint {
  /** The construct id that declares the function (`Deliver`, `configRoutes`, …). */
  readonly name: string;
  readonly file: string;
  /** The handler module's bytes (source map excluded: Lambda does not load it unless asked). */
  readonly bytes: number;
  /** Median cold import time in a fresh process, in ms. */
  readonly importMs: number;
}

export interface FootprintResult {
  readonly bundles: readonly BundleFootprint[];
  /** Median cold import time of an empty module, in ms. */
  readonly emptyImportMs: number;
  /** Deliver's, with `--enable-source-maps` added to its NODE_OPTIONS (what the functions ran with before). */
  readonly deliverWithSourceMapsMs: number;
  readonly runs: number;
}

/** Imports `file` once in a new node process and returns the import's duration in ms. */
function coldImportMs(file: string, env: Readonly<Record<string, string>>): number {
  const script =
    "const t = performance.now(); await import(process.argv[1]); " +
    "process.stdout.write(String(performance.now() - t)); process.exit(0);";
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script, path.resolve(file)], {
    env: { PATH: process.env["PATH"] ?? "", ...env },
    cwd: path.dirname(file),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const ms = Number(out);
  if (!Number.isFinite(ms)) throw new Error(`cold import of ${file} printed ${JSON.stringify(out)}`);
  return ms;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * Synthesizes the stack into a temporary folder and measures each bundle. The imports run
 * interleaved (empty module, then every bundle, `runs` rounds) so a busy moment of the machine
 * spreads over all of them rather than landing on one.
 */
export async function measureFootprint(options: { readonly runs?: number } = {}): Promise<FootprintResult> {
  const runs = options.runs ?? 9;
  const dir = mkdtempSync(path.join(tmpdir(), "fw-footprint-"));
  try {
    // In a child process: aws-cdk-lib would otherwise stay in the bench's memory, counted in every RSS it reports.
    const stack = await synthesizeProductApart(path.join(dir, "cdk.out"), {});
    const byLogicalId = new Map(Object.entries(stack.logicalIds.functions).map(([name, id]) => [id, name]));
    const functions = Object.entries(stack.template.Resources)
      .filter(([, resource]) => resource.Type === "AWS::Lambda::Function")
      .map(([logicalId, resource]) => {
        const assetPath = String(resource.Metadata?.["aws:asset:path"]);
        const props = (resource.Properties ?? {}) as { Handler?: string; Environment?: { Variables?: Record<string, unknown> } };
        const moduleName = String(props.Handler).split(".")[0]!;
        const assetDir = path.resolve(stack.assemblyDir, assetPath);
        const file = readdirSync(assetDir)
          .filter((name) => name.startsWith(`${moduleName}.`) && /\.(mjs|js|cjs)$/.test(name))
          .map((name) => path.join(assetDir, name))[0];
        if (!file) throw new Error(`no handler module for ${logicalId} in ${assetDir}`);
        // The template's variables, NODE_OPTIONS included (Lambda honours it); references (queue
        // URLs, the table name) become placeholders.
        const env: Record<string, string> = { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench" };
        for (const [key, value] of Object.entries(props.Environment?.Variables ?? {})) {
          env[key] = typeof value === "string" ? value : `https://placeholder.invalid/${key}`;
        }
        return { name: byLogicalId.get(logicalId) ?? logicalId, file, env, bytes: statSync(file).size };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    const empty = path.join(dir, "empty.mjs");
    writeFileSync(empty, "");
    const emptyTimes: number[] = [];
    const times = functions.map((): number[] => []);
    const deliver = functions.find((fn) => fn.name === "Deliver");
    if (!deliver) throw new Error("the stack has no Deliver function");
    const withSourceMaps = { ...deliver.env, NODE_OPTIONS: `${deliver.env["NODE_OPTIONS"] ?? ""} --enable-source-maps`.trim() };
    const sourceMapTimes: number[] = [];
    coldImportMs(empty, {}); // warms the file cache and node's own start
    for (let round = 0; round < runs; round++) {
      emptyTimes.push(coldImportMs(empty, {}));
      functions.forEach((fn, i) => times[i]!.push(coldImportMs(fn.file, fn.env)));
      sourceMapTimes.push(coldImportMs(deliver.file, withSourceMaps));
    }
    return {
      bundles: functions.map((fn, i) => ({ name: fn.name, file: fn.file, bytes: fn.bytes, importMs: median(times[i]!) })),
      emptyImportMs: median(emptyTimes),
      deliverWithSourceMapsMs: median(sourceMapTimes),
      runs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bench's footprint scenario: prints the table and returns the summary rows. */
export async function footprintScenario(options: { readonly runs?: number } = {}): Promise<string[][]> {
  const wall = performance.now();
  const r = await measureFootprint(options);
  const kb = (bytes: number) => `${fixed(bytes / 1000)} kB`;
  console.log(
    `\nFootprint: each function's bundle (handler module, source map excluded) and its cold import in a fresh node process ` +
      `with the function's environment (its NODE_OPTIONS too), median of ${r.runs}, interleaved, beside an empty module's ${fixed(r.emptyImportMs)} ms; measured in ${fixed((performance.now() - wall) / 1000)} s`,
  );
  console.log(
    table(
      ["function", "bytes", "size", "import ms", "minus empty"],
      r.bundles.map((b) => [b.name, int(b.bytes), kb(b.bytes), fixed(b.importMs), fixed(b.importMs - r.emptyImportMs)]),
    ),
  );
  const deliver = r.bundles.find((b) => b.name === "Deliver")!;
  const importMs = deliver.importMs - r.emptyImportMs;
  console.log(
    `   Deliver with --enable-source-maps (its map beside it): ${fixed(r.deliverWithSourceMapsMs)} ms, ` +
      `${fixed(r.deliverWithSourceMapsMs - deliver.importMs)} ms more`,
  );
  // What a browser downloads to open the web console, as built for the stack.
  const consoleFiles = consoleSizes(buildConsole());
  const consoleGzip = consoleFiles.reduce((sum, file) => sum + file.gzipBytes, 0);
  console.log(`\nWeb console: its files as served, and gzipped (level 9)`);
  console.log(
    table(
      ["file", "bytes", "gzipped"],
      consoleFiles.map((file) => [file.name, int(file.bytes), int(file.gzipBytes)]),
    ),
  );
  return [
    ["web console, all files gzipped", kb(consoleGzip), `≤ ${kb(FOOTPRINT_TARGETS.consoleGzipBytes)}`, verdict(consoleGzip <= FOOTPRINT_TARGETS.consoleGzipBytes)],
    ["deliver bundle", kb(deliver.bytes), `≤ ${kb(FOOTPRINT_TARGETS.deliverBytes)}`, verdict(deliver.bytes <= FOOTPRINT_TARGETS.deliverBytes)],
    ["deliver cold import − empty module", `${fixed(importMs)} ms`, `≤ ${FOOTPRINT_TARGETS.deliverImportMs} ms`, verdict(importMs <= FOOTPRINT_TARGETS.deliverImportMs)],
    ["largest bundle", `${kb(Math.max(...r.bundles.map((b) => b.bytes)))}`, "", ""],
  ];
}
