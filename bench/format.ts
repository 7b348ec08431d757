/** Plain-text table: first column left-aligned, the others right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The same rows as a GitHub Markdown table (pipes in cells escaped), first column left-aligned, the others right-aligned. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${header.map((_, c) => (cells[c] ?? "").replaceAll("|", "\\|")).join(" | ")} |`;
  return [line(header), `|${header.map((_, c) => (c === 0 ? "---" : "---:")).join("|")}|`, ...rows.map(line)].join("\n");
}

export const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");
export const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
export const dollars = (n: number) => (n === 0 ? "-" : `$${n < 0.01 ? n.toFixed(4) : n.toFixed(3)}`);
export const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
export const verdict = (pass: boolean) => (pass ? "PASS" : "MISS");

/** A unit count per million deliveries, compact: 100,000 → 100k, 2,500,000 → 2.5M. */
export function count(n: number): string {
  if (n === 0) return "-";
  if (n >= 1e6) return `${+(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return n.toFixed(n < 10 ? 2 : 0);
}
