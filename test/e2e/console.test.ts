import { describe, expect, it } from "vitest";
import { OUTPUTS } from "../../lambdas/contract/resources.ts";
import { pipelineFixture } from "../support/pipeline.ts";

// Two attempts, one second apart: a failing delivery reaches the DLQ quickly.
const fixture = pipelineFixture({ retrySchedule: [0, 1] });

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const consoleUrl = () => String(fixture.env.product.outputs[OUTPUTS.consoleUrl]);

describe("the web console's files, served by the stack's own HTTP API", () => {
  it("is at ConsoleUrl, /console/ of the API, and /console redirects there", async () => {
    expect(consoleUrl()).toBe(`${fixture.env.product.apiUrl}/console/`);
    const redirect = await fetch(`${fixture.env.product.apiUrl}/console`, { redirect: "manual" });
    expect(redirect.status).toBe(301);
    expect(new URL(redirect.headers.get("location") ?? "", redirect.url).href).toBe(consoleUrl());
  });

  it("serves the page with a strict CSP and no inline code, its files hashed and cached for good", async () => {
    const page = await fetch(consoleUrl());
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toBe(CSP);
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const html = await page.text();
    // Every script and sheet is a file of its own: nothing inline for the CSP to refuse.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
    const files = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? "");
    expect(files).toEqual([expect.stringMatching(/^main-[A-Z0-9]+\.css$/), expect.stringMatching(/^main-[A-Z0-9]+\.js$/)]);
    for (const file of files) {
      const asset = await fetch(new URL(file, consoleUrl()));
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toBe(file.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8");
      expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(asset.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  it("answers a file it does not have, or a method it does not take, with a problem", async () => {
    const missing = await fetch(`${consoleUrl()}nope.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    expect(await missing.json()).toMatchObject({ status: 404, detail: "The console has no file nope.js." });
    const posted = await fetch(consoleUrl(), { method: "POST" });
    expect(posted.status).toBe(404);
    const wrongMethod = await fetch(`${consoleUrl()}index.html`, { method: "DELETE" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET");
    // The other unmatched paths still get the API's 404 problem.
    const elsewhere = await fetch(`${fixture.env.product.apiUrl}/nowhere`);
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.headers.get("content-type")).toBe("application/problem+json");
  });
});
