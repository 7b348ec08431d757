import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { OUTPUTS } from "../../lambdas/contract/resources.ts";
import { maskSigningSecret } from "../../lambdas/domain/signing.ts";
import { answer, verifyWebhook, type HttpsReceiver } from "../../lib/dev/https-receiver.ts";
import { browserFixture, expectAccessible, pictureFor } from "../support/browser.ts";
import { eventually } from "../support/eventually.ts";
import { PORTAL, pipelineFixture } from "../support/pipeline.ts";

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

const browser = browserFixture();

type Tenant = Awaited<ReturnType<typeof fixture.tenantWith>>;
type Letter = { id: string; endpoint: string; lastError: string };

/** What the API itself says to a request with this token: the console must show the same. */
async function apiDetail(token: string): Promise<string> {
  const answered = await fetch(`${fixture.env.product.apiUrl}/webhooks/events`, { headers: { authorization: `Bearer ${token}` } });
  return ((await answered.json()) as { detail: string }).detail;
}

async function signIn(page: Page, token: string) {
  await page.goto(consoleUrl());
  await page.getByLabel("Token de API").fill(token);
  await page.getByRole("button", { name: "Entrar" }).click();
}

const heading = (page: Page, name: string) => page.getByRole("heading", { name, exact: true, level: 1 }).waitFor();
const said = (page: Page, text: string | RegExp) => page.getByRole("status").filter({ hasText: text }).waitFor();
/** The table row with a cell that reads exactly `cell` (a header such as "Entregue em" is no match for "entregue"). */
const rowWith = (page: Page, cell: string) => page.getByRole("row").filter({ has: page.getByRole("cell", { name: cell, exact: true }) });
const storedToken = (page: Page) => page.evaluate(() => sessionStorage.getItem("fiscal-webhooks.token"));

describe("the web console in a browser (Debian's chromium)", () => {
  let tenant: Tenant;
  let page: Page;
  let hook: HttpsReceiver;
  let failing: HttpsReceiver;
  let subscriptionId: number;
  const deadLetters = async () => (await (await tenant.call("GET", "/webhooks/dlq")).json()) as Letter[];

  beforeAll(async () => {
    [tenant, hook, failing] = await Promise.all([fixture.tenantWith([]), fixture.receiver(), fixture.receiver(answer(500, "down"))]);
    // Far from Brazil, so that a date shown in the browser's own zone would not pass for São Paulo's.
    ({ page } = await browser.open({ timezoneId: "Asia/Tokyo" }));
  });

  it("refuses a wrong token with the API's own message and keeps nothing, used with the keyboard alone", async () => {
    const { page: other } = await browser.open();
    await other.goto(consoleUrl());
    // Tab reaches the token field (past the skip link and the language button), its focus drawn.
    const focused = async () => String(await other.evaluate("[document.activeElement.id, getComputedStyle(document.activeElement).outlineStyle]"));
    for (let tabs = 0; tabs < 5 && (await focused()) !== "token,solid"; tabs++) await other.keyboard.press("Tab");
    expect(await focused()).toBe("token,solid");
    await other.keyboard.type("fwt_this-is-not-a-token");
    await other.keyboard.press("Enter");
    await other.getByRole("alert").filter({ hasText: await apiDetail("fwt_this-is-not-a-token") }).waitFor();
    await heading(other, "Entrar");
    expect(await storedToken(other)).toBeNull();
    await expectAccessible(other);
  });

  it("signs in with a token kept in the tab's sessionStorage only", async () => {
    await page.goto(consoleUrl());
    await expectAccessible(page);
    await signIn(page, tenant.token);
    await heading(page, "Assinaturas (Portal Único)");
    expect(await storedToken(page)).toBe(tenant.token);
    expect(page.url()).not.toContain(tenant.token);
    expect(await page.context().cookies()).toEqual([]);
  });

  it("subscribes an HTTPS receiver, showing the API's problem at the field it names", async () => {
    await page.getByLabel("Evento").selectOption("invoice.authorized");
    await page.getByLabel("Endpoint (URL https)").fill("http://erp.example.com/hook");
    await page.getByRole("button", { name: "Assinar" }).click();
    const refused = (await (await tenant.call("POST", PORTAL, { evento: "invoice.authorized", endpoint: "http://erp.example.com/hook" })).json()) as {
      errors: { field: string; message: string }[];
    };
    const message = refused.errors.find((error) => error.field === "endpoint")?.message ?? "";
    expect(message).not.toBe("");
    expect(await page.locator("#new-endpoint-error").textContent()).toBe(message);
    expect(await page.getByLabel("Endpoint (URL https)").getAttribute("aria-invalid")).toBe("true");
    await expectAccessible(page);

    // An option the API refuses is named at its own field too.
    await page.getByLabel("Endpoint (URL https)").fill(hook.url);
    await page.getByLabel("Máximo de entregas por segundo (opcional)").fill("5000");
    await page.getByRole("button", { name: "Assinar" }).click();
    const tooFast = (await (await tenant.call("POST", PORTAL, { evento: "invoice.authorized", endpoint: hook.url, maxPorSegundo: 5000 })).json()) as {
      errors: { field: string; message: string }[];
    };
    await page.locator("#new-rate-error").waitFor();
    expect(await page.locator("#new-rate-error").textContent()).toBe(tooFast.errors.find((error) => error.field === "maxPorSegundo")?.message);
    expect(await page.locator("#new-endpoint-error").count()).toBe(0);

    await page.getByLabel("Máximo de entregas por segundo (opcional)").fill("");
    await page.getByRole("button", { name: "Assinar" }).click();
    await said(page, /Assinatura \d+ criada\./);
    const [created] = (await (await tenant.call("GET", PORTAL)).json()) as { id: number }[];
    subscriptionId = created?.id ?? 0;
    await said(page, `Assinatura ${subscriptionId} criada.`);
    await rowWith(page, "ativa").filter({ hasText: hook.url }).waitFor();
    await expectAccessible(page);
  });

  it("shows an emitted event's delivery in the logs, its times in São Paulo's, and filters by status", async () => {
    await fixture.emit({ tenantId: tenant.tenantId, type: "invoice.authorized", id: "console-delivered", data: { n: 1 } });
    const received = await eventually(() => hook.received[0]);
    const webhookId = String(received.headers["webhook-id"]);
    await page.getByRole("link", { name: "Entregas" }).click();
    await heading(page, "Entregas");
    // The log line is written as the delivery ends: look again until the page lists it.
    const delivered = rowWith(page, "entregue");
    await eventually(async () => {
      await page.reload();
      return delivered.waitFor({ timeout: 2_000 }).then(
        () => true,
        () => false,
      );
    });
    await page.getByRole("button", { name: `Detalhes ${webhookId}` }).click();
    const detail = page.getByRole("complementary");
    await detail.getByRole("heading", { name: `Entrega ${webhookId}` }).waitFor();
    await pictureFor(page, "deliveries");
    const [log] = (await (await tenant.call("GET", "/webhooks/logs")).json()) as { createdAt: string }[];
    const inBrazil = (options: Intl.DateTimeFormatOptions) =>
      new Intl.DateTimeFormat("pt-BR", { timeZone: "America/Sao_Paulo", ...options }).format(new Date(log?.createdAt ?? ""));
    const text = (await detail.textContent()) ?? "";
    expect(text).toContain(inBrazil({ dateStyle: "short" }));
    expect(text).toContain(inBrazil({ hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }));
    await expectAccessible(page);

    await page.getByLabel("Situação").selectOption("failed");
    await page.getByText("Nada por aqui.").waitFor();
    await page.getByLabel("Situação").selectOption("success");
    await rowWith(page, "entregue").waitFor();
  });

  it("edits the subscription to a failing receiver, whose dead letter it retries from the DLQ page", async () => {
    // An option set through the API is shown, and kept by the console's change.
    const withLimit = await tenant.call("PUT", `${PORTAL}/${subscriptionId}`, { id: subscriptionId, evento: "invoice.authorized", endpoint: hook.url, maxPorSegundo: 10 });
    expect(withLimit.status).toBe(200);
    await page.getByRole("link", { name: "Assinaturas" }).click();
    await rowWith(page, "até 10 por segundo").waitFor();
    await page.getByRole("button", { name: `Alterar ${subscriptionId}` }).click();
    await page.getByRole("heading", { name: `Alterar a assinatura ${subscriptionId}` }).waitFor();
    await page.getByLabel("Endpoint (URL https)").fill(failing.url);
    // A receiver credential, sent on every delivery to the endpoint, never shown again.
    await page.getByLabel("Credencial enviada ao endpoint (opcional)").selectOption("bearer");
    await page.getByLabel("Token", { exact: true }).fill("console-t0k3n");
    await page.getByRole("button", { name: "Salvar" }).click();
    await said(page, `Assinatura ${subscriptionId} alterada.`);
    await rowWith(page, "até 10 por segundo · credencial bearer").waitFor();
    await pictureFor(page, "subscriptions");
    expect(await page.content()).not.toContain("console-t0k3n");
    await page.getByRole("row").filter({ hasText: failing.url }).waitFor();
    expect(await (await tenant.call("GET", PORTAL)).json()).toEqual([
      expect.objectContaining({ endpoint: failing.url, maxPorSegundo: 10, autenticacao: { tipo: "bearer", token: "****" } }),
    ]);

    await fixture.emit({ tenantId: tenant.tenantId, type: "invoice.authorized", id: "console-retried", data: { n: 2 } });
    const [letter] = await eventually(async () => {
      const letters = await deadLetters();
      return letters.length === 1 ? letters : undefined;
    }, 30_000);
    await page.getByRole("link", { name: "Falhas definitivas (DLQ)" }).click();
    await page.getByRole("row").filter({ hasText: "HTTP 500 Internal Server Error" }).filter({ hasText: failing.url }).waitFor();
    await pictureFor(page, "dead-letters");
    await expectAccessible(page);

    failing.behave(answer(200, "OK"));
    await page.getByRole("button", { name: `Reenviar ${letter?.id}` }).click();
    await said(page, `Entrega ${letter?.id} reenviada.`);
    // Two failed attempts, then the retry, all with the dead letter's webhook-id and the credential set in the console.
    const attempts = await eventually(() => {
      const sent = failing.received.filter((webhook) => webhook.headers["webhook-id"] === letter?.id);
      return sent.length === 3 ? sent : undefined;
    }, 30_000);
    expect(attempts.map((webhook) => webhook.headers["authorization"])).toEqual(Array(3).fill("Bearer console-t0k3n"));
    await page.getByText("Nada por aqui.").waitFor();
  });

  it("purges the dead letters only once the purge is confirmed", async () => {
    failing.behave(answer(500, "down"));
    await fixture.emit({ tenantId: tenant.tenantId, type: "invoice.authorized", id: "console-purged", data: { n: 3 } });
    await eventually(async () => (await deadLetters()).length === 1, 30_000);
    await page.reload();
    await page.getByRole("row").filter({ hasText: failing.url }).waitFor();
    await page.getByRole("button", { name: "Limpar a DLQ" }).click();
    const confirmation = page.getByRole("group", { name: "Apagar todas as falhas definitivas desta conta? Não dá para desfazer." });
    await confirmation.waitFor();
    await expectAccessible(page);
    expect(await deadLetters()).toHaveLength(1);
    await confirmation.getByRole("button", { name: "Confirmar limpeza" }).click();
    await said(page, "1 falhas apagadas.");
    expect(await deadLetters()).toEqual([]);
  });

  it("finds the day's failed attempts under Falhas por data, today being Brazil's date", async () => {
    await page.getByRole("link", { name: "Falhas por data" }).click();
    await heading(page, "Falhas por data");
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: "America/Sao_Paulo", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
    expect(await page.getByLabel("Data", { exact: true }).inputValue()).toBe(today);
    const failures = (await (await tenant.call("GET", `${PORTAL}/falhas?data=${today.split("-").reverse().join("")}`)).json()) as unknown[];
    // Two failed attempts of the retried delivery, two of the purged one.
    expect(failures).toHaveLength(4);
    const rows = rowWith(page, "HTTP 500 Internal Server Error");
    await rows.first().waitFor();
    expect(await rows.count()).toBe(4);
    await rows.last().getByText("Mostrar").click();
    expect(await rows.last().locator("pre").textContent()).toContain('"n":3');
    await expectAccessible(page);
  });

  it("sets up the account webhook: its URL and events, a new secret shown once, a signed test", async () => {
    await page.getByRole("link", { name: "Webhook da conta" }).click();
    await page.getByRole("heading", { name: "Configurar o webhook da conta" }).waitFor();
    await page.getByLabel("URL do webhook (https)").fill("http://erp.example.com/hook");
    await page.getByLabel("boleto.paid").check();
    await page.getByRole("button", { name: "Salvar" }).click();
    await page.locator("#config-url-error").waitFor();
    expect(await page.getByLabel("URL do webhook (https)").getAttribute("aria-invalid")).toBe("true");
    await expectAccessible(page);

    await page.getByLabel("URL do webhook (https)").fill(hook.url);
    await page.getByLabel("Máximo de entregas por segundo (opcional)").fill("20");
    await page.getByRole("button", { name: "Salvar" }).click();
    await said(page, "Configuração salva.");
    const saved = (await (await tenant.call("GET", "/webhooks/config")).json()) as { events: string[]; webhookSecret: string; maxPerSecond: number };
    const masked = saved.webhookSecret;
    expect(saved).toMatchObject({ events: ["boleto.paid"], maxPerSecond: 20 });
    // The tenant's secret was shown when it was made: here it is masked.
    await page.getByRole("definition").filter({ hasText: masked }).waitFor();
    expect(await page.locator(".secret").count()).toBe(0);
    await page.getByRole("definition").filter({ hasText: "ativo" }).waitFor();
    await pictureFor(page, "account");
    await expectAccessible(page);

    await page.getByRole("button", { name: "Gerar novo secret" }).click();
    await page.getByLabel("O secret atual continua assinando, ao lado do novo, por").selectOption("86400");
    const confirmation = page.getByRole("group", { name: "Gerar um novo secret? O atual deixa de assinar ao fim do prazo escolhido." });
    await confirmation.getByRole("button", { name: "Gerar novo secret" }).click();
    const shown = page.locator(".secret code");
    await shown.waitFor();
    const secret = (await shown.textContent()) ?? "";
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await page.getByText("O secret anterior assina junto até").waitFor();
    const { webhookSecret: renewed } = (await (await tenant.call("GET", "/webhooks/config")).json()) as { webhookSecret: string };
    expect(renewed).not.toBe(masked);
    expect(maskSigningSecret(secret)).toBe(renewed);
    await expectAccessible(page);

    const before = hook.received.length;
    await page.getByRole("button", { name: "Enviar webhook de teste" }).click();
    await said(page, "Teste entregue: o endpoint respondeu HTTP 200.");
    const test = hook.received[before];
    expect(test?.headers["x-webhook-event"]).toBe("webhook.test");
    // Signed with the very secret the console showed.
    expect(verifyWebhook(test?.body ?? "", String(test?.headers["x-webhook-signature"]), secret)).toBe(true);
  });

  it("lists the event catalogue, and speaks English on request", async () => {
    await page.getByRole("link", { name: "Catálogo de eventos" }).click();
    await page.getByRole("row").filter({ hasText: "invoice.authorized" }).first().waitFor();
    await expectAccessible(page);
    await page.getByRole("button", { name: "English" }).click();
    await heading(page, "Event catalogue");
    expect(await page.evaluate("document.documentElement.lang")).toBe("en");
    await page.getByRole("button", { name: "Português" }).click();
    await heading(page, "Catálogo de eventos");
  });

  it("finds a fiscal document's history by its access key", async () => {
    failing.behave(answer(200, "OK"));
    const chave = "35261111222333000181550010000001231123456787";
    await page.getByRole("link", { name: "Documentos fiscais" }).click();
    const key = page.getByLabel("Chave de acesso (44 caracteres)");
    await key.fill("3526");
    await page.getByRole("button", { name: "Buscar" }).click();
    await page.locator("#document-key-error").waitFor();
    expect(await key.getAttribute("aria-invalid")).toBe("true");
    await key.fill(chave);
    await page.getByRole("button", { name: "Buscar" }).click();
    await said(page, "Nenhum evento deste documento nesta conta.");

    await fixture.emit({ tenantId: tenant.tenantId, type: "invoice.authorized", id: "console-document", documentKey: chave, data: { n: 4 } });
    await eventually(async () => (await (await tenant.call("GET", `/webhooks/documents/${chave}`)).json() as { endpoints?: { status: string }[] }).endpoints?.[0]?.status === "success", 30_000);
    await page.getByRole("button", { name: "Buscar" }).click();
    await rowWith(page, "console-document").waitFor();
    await rowWith(page, "entregue").filter({ hasText: failing.url }).waitFor();
    await expectAccessible(page);
  });

  it("shows an endpoint disabled by a 410 Gone, and enables it again", async () => {
    failing.behave(answer(410, "Gone"));
    await fixture.emit({ tenantId: tenant.tenantId, type: "invoice.authorized", id: "console-gone", data: { n: 5 } });
    type Listed = { situacao: { codigo: string } }[];
    await eventually(async () => ((await (await tenant.call("GET", PORTAL)).json()) as Listed)[0]?.situacao.codigo === "desativada", 30_000);
    await page.getByRole("link", { name: "Assinaturas" }).click();
    await page.reload();
    await page.getByRole("row").filter({ hasText: failing.url }).filter({ hasText: "desativada" }).waitFor();
    await expectAccessible(page);
    await page.getByRole("button", { name: `Reativar ${subscriptionId}` }).click();
    await said(page, `Assinatura ${subscriptionId} reativada: o endpoint volta a receber entregas.`);
    expect(((await (await tenant.call("GET", PORTAL)).json()) as Listed)[0]?.situacao.codigo).toBe("ativa");
    await rowWith(page, "ativa").filter({ hasText: failing.url }).waitFor();
  });

  it("deletes a subscription only once the deletion is confirmed", async () => {
    await page.getByRole("link", { name: "Assinaturas" }).click();
    await page.getByRole("button", { name: `Excluir ${subscriptionId}` }).click();
    await page.getByRole("group", { name: `Excluir a assinatura ${subscriptionId}?` }).waitFor();
    expect(await (await tenant.call("GET", PORTAL)).json()).toHaveLength(1);
    await page.getByRole("button", { name: "Confirmar exclusão" }).click();
    await said(page, `Assinatura ${subscriptionId} excluída.`);
    expect(await (await tenant.call("GET", PORTAL)).json()).toEqual([]);
  });

  it("signs out, forgetting the token", async () => {
    await page.getByRole("button", { name: "Sair" }).click();
    await heading(page, "Entrar");
    expect(await storedToken(page)).toBeNull();
  });

  it("takes a portal link's token from the fragment and removes it from the address", async () => {
    const { page: linked } = await browser.open();
    await linked.goto(`${consoleUrl()}#link=${encodeURIComponent(tenant.token)}`);
    await heading(linked, "Assinaturas (Portal Único)");
    expect(linked.url()).toBe(consoleUrl());
    expect(await storedToken(linked)).toBe(tenant.token);
    // A link mangled on its way signs nobody in, and leaves no trace in the address either.
    const { page: mangled } = await browser.open();
    await mangled.goto(`${consoleUrl()}#link=%E0%A4%A`);
    await heading(mangled, "Entrar");
    expect(mangled.url()).toBe(consoleUrl());
    expect(await storedToken(mangled)).toBeNull();
  });

  it("returns to sign-in with the API's message when the token stops working", async () => {
    const revoked = await fixture.tenantWith([]);
    const { page: other } = await browser.open();
    await signIn(other, revoked.token);
    await heading(other, "Assinaturas (Portal Único)");
    // Both of the page's reads answered before the token is revoked.
    await other.getByText("Nada por aqui.").waitFor();
    await other.locator("option", { hasText: "invoice.authorized" }).first().waitFor({ state: "attached" });
    await fixture.env.tenants.revoke(revoked.tenantId);
    await other.getByRole("link", { name: "Entregas" }).click();
    await other.getByRole("alert").filter({ hasText: await apiDetail(revoked.token) }).waitFor();
    await heading(other, "Entrar");
    expect(await storedToken(other)).toBeNull();
  });
});

/** An instant as the console shows it: São Paulo's date and time, whatever the browser's zone. */
const inSaoPaulo = (iso: string) => new Intl.DateTimeFormat("pt-BR", { timeZone: "America/Sao_Paulo", dateStyle: "short", timeStyle: "medium" }).format(new Date(iso));

interface NewLink {
  url: string;
  token: string;
  id: string;
  readOnly: boolean;
  expiresAt: string;
}

/** The console's address a link's `url` names, on this API (the API names its base as it was reached). */
const onThisApi = (url: string) => {
  const { hash } = new URL(url);
  expect(hash).toMatch(/^#link=fwl_[A-Za-z0-9_-]{43}$/);
  return `${consoleUrl()}${hash}`;
};

describe("portal links in the web console", () => {
  let shop: Tenant;
  let down: HttpsReceiver;
  let subscription: number;

  beforeAll(async () => {
    down = await fixture.receiver(answer(500, "down"));
    shop = await fixture.tenantWith([{ evento: "invoice.authorized", endpoint: down.url }]);
    [subscription = 0] = shop.ids;
    // A delivery that fails both attempts: a log line and a dead letter for the link to see.
    await fixture.emit({ tenantId: shop.tenantId, type: "invoice.authorized", id: "console-link", data: { n: 1 } });
    expect((await shop.call("PATCH", "/webhooks/config", { webhookUrl: down.url })).status).toBe(200);
  });

  it("signs in with a link the API made: its token leaves the address, and a route closed to links answers in place", async () => {
    const made = await shop.call("POST", "/webhooks/portal-links", { ttlSeconds: 600 });
    expect(made.status).toBe(201);
    const link = (await made.json()) as NewLink;
    const { page: customer } = await browser.open({ timezoneId: "Asia/Tokyo" });
    await customer.goto(onThisApi(link.url));
    await heading(customer, "Assinaturas (Portal Único)");
    expect(customer.url()).toBe(consoleUrl());
    expect(await storedToken(customer)).toBe(link.token);
    await customer.getByText(`link do portal · até ${inSaoPaulo(link.expiresAt)}`, { exact: true }).waitFor();
    // A full link changes what its tenant's token changes, but makes no links.
    await customer.getByRole("button", { name: `Alterar ${subscription}` }).waitFor();
    expect(await customer.getByRole("link", { name: "Links do portal" }).count()).toBe(0);
    await expectAccessible(customer);

    const { webhookSecret } = (await (await shop.call("GET", "/webhooks/config")).json()) as { webhookSecret: string };
    await customer.getByRole("link", { name: "Webhook da conta" }).click();
    await customer.getByRole("button", { name: "Gerar novo secret" }).click();
    await customer.getByRole("group", { name: /^Gerar um novo secret\?/ }).getByRole("button", { name: "Gerar novo secret" }).click();
    const refused = await fetch(`${fixture.env.product.apiUrl}/webhooks/secret/regenerate`, { method: "POST", headers: { authorization: `Bearer ${link.token}` } });
    expect(refused.status).toBe(403);
    await customer.getByRole("alert").filter({ hasText: ((await refused.json()) as { detail: string }).detail }).waitFor();
    // Refused one action, not signed out.
    await heading(customer, "Webhook da conta");
    expect(await storedToken(customer)).toBe(link.token);
    expect(((await (await shop.call("GET", "/webhooks/config")).json()) as { webhookSecret: string }).webhookSecret).toBe(webhookSecret);
    await expectAccessible(customer);
  });

  it("refuses an expired link with the API's message on the sign-in page", async () => {
    // Issued 301 s ago for 300 s: expired a second ago.
    const { token } = await fixture.env.tenants.issuePortalLink(shop.tenantId, { ttlSeconds: 300, readOnly: false }, new Date(Date.now() - 301_000));
    const detail = await apiDetail(token);
    expect(detail).toMatch(/expired/);
    const { page: late } = await browser.open();
    await late.goto(`${consoleUrl()}#link=${token}`);
    await late.getByRole("alert").filter({ hasText: detail }).waitFor();
    await heading(late, "Entrar");
    expect(late.url()).toBe(consoleUrl());
    expect(await storedToken(late)).toBeNull();
    await expectAccessible(late);
  });

  let readOnlyUrl: string;
  let readOnlyLink: { id: string; expiresAt: string };

  it("makes a read-only link on the Portal links page, its address shown once with a copy button", async () => {
    const { page: operator, context } = await browser.open();
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(consoleUrl()).origin });
    await signIn(operator, shop.token);
    await operator.getByRole("link", { name: "Links do portal" }).click();
    await heading(operator, "Links do portal");
    await rowWith(operator, "completo").waitFor();
    await operator.getByLabel("Validade").selectOption("86400");
    await operator.getByLabel("Somente leitura (só consulta, sem alterar nada)").check();
    await operator.getByRole("button", { name: "Criar link" }).click();
    const address = operator.getByLabel("Endereço do link");
    await address.waitFor();
    const shown = await address.inputValue();
    const [newest] = (await (await shop.call("GET", "/webhooks/portal-links")).json()) as { id: string; readOnly: boolean; createdAt: string; expiresAt: string }[];
    expect(newest?.readOnly).toBe(true);
    expect(Date.parse(newest?.expiresAt ?? "") - Date.parse(newest?.createdAt ?? "")).toBe(86_400_000);
    readOnlyLink = { id: newest?.id ?? "", expiresAt: newest?.expiresAt ?? "" };
    readOnlyUrl = onThisApi(shown);
    await rowWith(operator, "somente leitura").filter({ hasText: inSaoPaulo(readOnlyLink.expiresAt) }).waitFor();
    await operator.getByRole("button", { name: "Copiar" }).click();
    await said(operator, "Endereço copiado.");
    // The test's own tsconfig has no DOM: the page reads its clipboard from a string.
    expect(await operator.evaluate("navigator.clipboard.readText()")).toBe(shown);
    await expectAccessible(operator);
    // Shown once: the page left and come back to, the address is gone; the token is nowhere in storage.
    await operator.getByRole("link", { name: "Assinaturas" }).click();
    await operator.getByRole("link", { name: "Links do portal" }).click();
    await rowWith(operator, "somente leitura").waitFor();
    expect(await operator.getByLabel("Endereço do link").count()).toBe(0);
    await pictureFor(operator, "portal-links");
    expect(await operator.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }))).not.toContain(new URL(shown).hash.slice("#link=".length));
  });

  it("shows a read-only link's customer the subscriptions, deliveries, dead letters and account, with no write offered", async () => {
    await eventually(async () => ((await (await shop.call("GET", "/webhooks/dlq")).json()) as unknown[]).length === 1, 30_000);
    const { page: reader } = await browser.open({ timezoneId: "Asia/Tokyo" });
    await reader.goto(readOnlyUrl);
    await heading(reader, "Assinaturas (Portal Único)");
    expect(reader.url()).toBe(consoleUrl());
    await reader.getByText(`somente leitura · até ${inSaoPaulo(readOnlyLink.expiresAt)}`, { exact: true }).waitFor();
    const noWrites = async () => {
      expect(await reader.locator("main form").count()).toBe(0);
      expect(await reader.getByRole("button", { name: /Alterar|Excluir|Reativar|Reenviar|Limpar|Gerar|Enviar|Assinar|Salvar|Criar|Revogar/ }).count()).toBe(0);
    };
    await reader.getByRole("row").filter({ hasText: down.url }).waitFor();
    await noWrites();
    await expectAccessible(reader);

    await reader.getByRole("link", { name: "Entregas" }).click();
    await rowWith(reader, "falhou").waitFor();
    await noWrites();
    await expectAccessible(reader);

    await reader.getByRole("link", { name: "Falhas definitivas (DLQ)" }).click();
    await reader.getByRole("row").filter({ hasText: "HTTP 500 Internal Server Error" }).filter({ hasText: down.url }).waitFor();
    await noWrites();
    await pictureFor(reader, "read-only");
    await expectAccessible(reader);

    await reader.getByRole("link", { name: "Webhook da conta" }).click();
    await reader.getByRole("definition").filter({ hasText: /^whsec_/ }).waitFor();
    await noWrites();
    await expectAccessible(reader);
    expect(await reader.getByRole("link", { name: "Links do portal" }).count()).toBe(0);
  });

  it("retries all the dead letters and shows how many remain while the API goes on in the background", async () => {
    await fixture.emit({ tenantId: shop.tenantId, type: "invoice.authorized", id: "console-link-2", data: { n: 2 } });
    const letters = await eventually(async () => {
      const listed = (await (await shop.call("GET", "/webhooks/dlq")).json()) as Letter[];
      return listed.length === 2 ? listed : undefined;
    }, 30_000);
    const { page: operator } = await browser.open();
    await signIn(operator, shop.token);
    // The API answers `complete: false` only to a retry-all that outlasts its 20 s budget. The
    // browser is given that one answer in its place (nothing is retried by it); the test then
    // empties the DLQ itself through the API, and the page follows from the API's real list.
    await operator.route("**/webhooks/dlq/retry-all", (route) =>
      route.fulfill({ status: 202, contentType: "application/json", body: JSON.stringify({ retried: 0, complete: false }) }),
    );
    await operator.getByRole("link", { name: "Falhas definitivas (DLQ)" }).click();
    await operator.getByRole("row").filter({ hasText: down.url }).nth(1).waitFor();
    await operator.getByRole("button", { name: "Reenviar todas" }).click();
    await said(operator, "0 entregas reenviadas; o restante continua em segundo plano.");
    await said(operator, "Em andamento: restam 2 na DLQ.");
    expect(await operator.getByRole("button", { name: "Reenviar todas" }).isDisabled()).toBe(true);
    await expectAccessible(operator);

    down.behave(answer(200, "OK"));
    expect((await shop.call("POST", `/webhooks/dlq/${letters[0]?.id}/retry`)).status).toBe(202);
    await said(operator, "Em andamento: restam 1 na DLQ.");
    expect((await shop.call("POST", `/webhooks/dlq/${letters[1]?.id}/retry`)).status).toBe(202);
    await said(operator, "Concluído: todas as entregas foram reenviadas e a DLQ está vazia.");
    await operator.getByText("Nada por aqui.").waitFor();
    expect(await operator.getByText(/^Em andamento/).count()).toBe(0);
  });

  it("revokes a link from the Portal links page: its customer is back at sign-in at the next request", async () => {
    const { page: operator } = await browser.open();
    await signIn(operator, shop.token);
    await operator.getByRole("link", { name: "Links do portal" }).click();
    const short = readOnlyLink.id.slice(0, 8);
    await operator.getByRole("button", { name: `Revogar ${short}` }).click();
    await operator.getByRole("group", { name: `Revogar o link ${short}? Ele para de funcionar na hora.` }).getByRole("button", { name: "Confirmar revogação" }).click();
    await said(operator, `Link ${short} revogado.`);
    const live = (await (await shop.call("GET", "/webhooks/portal-links")).json()) as { id: string }[];
    expect(live.map((link) => link.id)).not.toContain(readOnlyLink.id);

    const { page: reader } = await browser.open();
    await reader.goto(readOnlyUrl);
    await reader.getByRole("alert").filter({ hasText: await apiDetail(new URL(readOnlyUrl).hash.slice("#link=".length)) }).waitFor();
    await heading(reader, "Entrar");
    expect(await storedToken(reader)).toBeNull();
  });
});

it("hit no Content-Security-Policy violation on any page", () => {
  expect(browser.violations()).toEqual([]);
});
