import axe from "axe-core";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";

/** Debian's chromium (`.ci/run` installs it when missing); never a browser download. */
export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
/** Screenshots of failed tests' pages (git-ignored). */
export const SCREENSHOTS = path.resolve("test-output", "screenshots");

/**
 * One headless browser for a test file. Every page it opens records the Content-Security-Policy
 * violations it hits (none is allowed) and, when a test fails, leaves a screenshot under
 * `test-output/screenshots`.
 */
export function browserFixture() {
  let browser: Browser | undefined;
  const pages: { readonly page: Page; readonly violations: string[] }[] = [];
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      mkdirSync(SCREENSHOTS, { recursive: true });
      const name = task.name.replace(/[^a-z0-9]+/gi, "-").slice(0, 80);
      await Promise.all(
        pages.filter(({ page }) => !page.isClosed()).map(({ page }, i) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${i}.png`), fullPage: true })),
      );
    });
  });
  return {
    /** The Content-Security-Policy violations every page of the file reported so far. */
    violations: (): string[] => pages.flatMap(({ violations }) => violations),
    /** A new context (its own sessionStorage, like a new tab) and a page in it. */
    async open(options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
      if (!browser) throw new Error("the browser starts in beforeAll");
      const context = await browser.newContext({ locale: "pt-BR", ...options });
      const page = await context.newPage();
      const violations: string[] = [];
      page.on("console", (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      pages.push({ page, violations });
      return { context, page };
    },
  };
}

/**
 * Runs axe-core in the page (evaluated through the DevTools protocol, which the page's CSP
 * does not govern) and fails on any violation, naming the rule and the elements.
 */
export async function expectAccessible(page: Page): Promise<void> {
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const result = await (globalThis as unknown as { axe: typeof axe }).axe.run();
    return result.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`);
  });
  expect(violations).toEqual([]);
}

/**
 * With `CONSOLE_SCREENSHOTS=<folder>`, saves the page as `<folder>/<name>.png` (the README's
 * pictures: `CONSOLE_SCREENSHOTS=console/screenshots npx vitest run test/e2e/console.test.ts`).
 */
export async function pictureFor(page: Page, name: string): Promise<void> {
  const folder = process.env["CONSOLE_SCREENSHOTS"];
  if (!folder) return;
  mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: path.join(folder, `${name}.png`), fullPage: true });
}
