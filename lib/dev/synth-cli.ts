/**
 * `node --import tsx lib/dev/synth-cli.ts <outdir> <context JSON> <result file> [verbose]`:
 * synthesizes the product (synth.ts) and writes what the runtime needs of it, or the error, to
 * the result file. Run by synthesizeProductApart, so the CDK's memory leaves with this process.
 */
import { writeFileSync } from "node:fs";
import { synthesizeProduct } from "./synth.ts";

const [outdir = "", context = "{}", resultFile = "", verbose] = process.argv.slice(2);
try {
  const product = synthesizeProduct(outdir, JSON.parse(context) as Record<string, unknown>, { verbose: verbose === "verbose" });
  writeFileSync(resultFile, JSON.stringify({ product }));
} catch (error) {
  writeFileSync(resultFile, JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
}
