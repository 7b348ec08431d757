import { buildSync } from "esbuild";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

const SOURCE = path.join(import.meta.dirname, "src");

/** One file of the built console, as served. */
export interface ConsoleFile {
  readonly name: string;
  readonly content: Buffer;
}

/**
 * Builds the web console, flat: `index.html` and the script and style sheet it loads, named
 * by a hash of their content (so they can be cached for good, and index.html never). No inline
 * script or style anywhere, so the strict Content-Security-Policy the console function sends
 * holds; no source maps (they would double what is served).
 */
export function buildConsole(): readonly ConsoleFile[] {
  const result = buildSync({
    entryPoints: [path.join(SOURCE, "main.tsx")],
    outdir: "/",
    entryNames: "[name]-[hash]",
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    jsx: "automatic",
    jsxImportSource: "preact",
    legalComments: "none",
    metafile: true,
    write: false,
    logLevel: "warning",
  });
  // The entry's script and the style sheet esbuild gathered from its CSS imports.
  const entry = Object.entries(result.metafile.outputs).find(([, output]) => output.entryPoint !== undefined);
  const sheet = entry?.[1].cssBundle;
  if (!entry || !sheet) throw new Error("the console build made no script or no style sheet");
  const built = (file: string): ConsoleFile => {
    const output = result.outputFiles.find((candidate) => path.basename(candidate.path) === path.basename(file));
    if (!output) throw new Error(`the console build wrote no ${file}`);
    return { name: path.basename(file), content: Buffer.from(output.contents) };
  };
  const script = built(entry[0]);
  const styles = built(sheet);
  const page = readFileSync(path.join(SOURCE, "index.html"), "utf8").replace("{{styles}}", styles.name).replace("{{script}}", script.name);
  return [{ name: "index.html", content: Buffer.from(page) }, styles, script];
}

/**
 * Writes a build into a folder of `parent` named by its content, and answers that folder. The
 * same sources give the same path, which the function's bundling command names, so synthesizing
 * twice gives the same asset hash; concurrent syntheses find the folder whole or write their own.
 */
export function writeConsole(files: readonly ConsoleFile[], parent: string): string {
  const hash = createHash("sha256");
  for (const file of files) hash.update(file.name).update(file.content);
  const dir = path.join(parent, `console-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(dir)) return dir;
  mkdirSync(parent, { recursive: true });
  const staging = mkdtempSync(`${dir}.`);
  for (const file of files) writeFileSync(path.join(staging, file.name), file.content);
  try {
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(dir)) throw error;
  }
  return dir;
}

/** What the browser downloads: each file's size, and gzipped as a server or CDN would send it. */
export function consoleSizes(files: readonly ConsoleFile[]) {
  return files.map((file) => ({ name: file.name, bytes: file.content.length, gzipBytes: gzipSync(file.content, { level: 9 }).length }));
}
