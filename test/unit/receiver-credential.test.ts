import { describe, expect, it } from "vitest";
import { credentialFor, type CredentialReads } from "../../lambdas/delivery/credentials.ts";
import {
  CREDENTIAL_MASK,
  credentialHeaders,
  credentialPartProblem,
  credentialView,
  fromPortal,
  portalCredentialView,
  type ReceiverCredential,
} from "../../lambdas/domain/receiver-credential.ts";
import type { Subscription } from "../../lambdas/domain/subscriptions.ts";
import type { WebhookConfig } from "../../lambdas/domain/webhook-config.ts";

const rule = (...args: Parameters<typeof credentialPartProblem>) => credentialPartProblem(...args)?.rule;

describe("receiver credential rules", () => {
  it("accepts header names that are tokens and refuses the rest", () => {
    for (const name of ["X-Api-Key", "x-api-key", "Api_Key.v2", "!#$%&'*+-.^_`|~"]) expect(rule("headerName", name)).toBeUndefined();
    for (const name of ["X Api", "X-Api:", "Ключ", "a\r\nb", "(x)", "a/b", ""]) expect(rule("headerName", name)).toMatch(/^(token|length)$/);
    expect(rule("headerName", "x".repeat(101))).toBe("length");
  });

  it("refuses hop-by-hop, framing, delivery and authorization header names, in any case", () => {
    const reserved = [
      "Connection", "keep-alive", "Proxy-Authorization", "proxy-connection", "TE", "trailer", "Transfer-Encoding", "upgrade", "host",
      "content-length", "Content-Type", "expect", "webhook-id", "Webhook-Timestamp", "webhook-signature", "X-Webhook-Signature",
      "x-webhook-event", "x-webhook-attempt", "AUTHORIZATION",
    ];
    for (const name of reserved) expect(rule("headerName", name), name).toBe("reservedHeader");
    expect(credentialPartProblem("headerName", "Authorization")?.message).toMatch(/basic and bearer/);
  });

  it("refuses control characters in every value, and bounds their length", () => {
    for (const part of ["username", "password", "token", "headerValue"] as const) {
      for (const bad of ["a\rb", "a\nb", "a\u0000b", "a\u007fb", "a\u0085b", "\tab"]) expect(rule(part, bad), `${part} ${JSON.stringify(bad)}`).toBe("controlCharacter");
      expect(rule(part, "")).toBe("length");
      expect(rule(part, "x".repeat(1025))).toBe("length");
      expect(rule(part, "x".repeat(1024))).toBeUndefined();
    }
  });

  it("keeps each value what its header can carry", () => {
    expect(rule("username", "fiscal:1")).toBe("colon");
    expect(rule("password", "p:ss wörd ✓")).toBeUndefined();
    expect(rule("username", "joão")).toBeUndefined();
    expect(rule("token", "eyJhbGciOi.J9-_~+/=")).toBeUndefined();
    expect(rule("token", "two words")).toBe("printableAscii");
    expect(rule("token", "café")).toBe("printableAscii");
    expect(rule("headerValue", "key with spaces")).toBeUndefined();
    expect(rule("headerValue", " padded")).toBe("whitespace");
    expect(rule("headerValue", "€")).toBe("printableAscii");
  });
});

describe("receiver credential headers and views", () => {
  const basic: ReceiverCredential = { type: "basic", username: "joão", password: "s3:cr:et" };
  const bearer: ReceiverCredential = { type: "bearer", token: "tok-123" };
  const header: ReceiverCredential = { type: "header", name: "X-Api-Key", value: "k-456" };

  it("builds Authorization Basic (UTF-8, RFC 7617), Bearer, or the custom header", () => {
    const encoded = credentialHeaders(basic)["authorization"]!;
    expect(encoded).toMatch(/^Basic /);
    expect(Buffer.from(encoded.slice(6), "base64").toString("utf8")).toBe("joão:s3:cr:et");
    expect(credentialHeaders(bearer)).toEqual({ authorization: "Bearer tok-123" });
    expect(credentialHeaders(header)).toEqual({ "x-api-key": "k-456" });
    expect(credentialHeaders(undefined)).toEqual({});
  });

  it("shows the type, the username or header name, and no character of any secret", () => {
    expect(credentialView(basic)).toEqual({ type: "basic", username: "joão", password: CREDENTIAL_MASK });
    expect(credentialView(bearer)).toEqual({ type: "bearer", token: CREDENTIAL_MASK });
    expect(credentialView(header)).toEqual({ type: "header", name: "X-Api-Key", value: CREDENTIAL_MASK });
    expect(portalCredentialView(basic)).toEqual({ tipo: "basic", usuario: "joão", senha: CREDENTIAL_MASK });
    expect(portalCredentialView(bearer)).toEqual({ tipo: "bearer", token: CREDENTIAL_MASK });
    expect(portalCredentialView(header)).toEqual({ tipo: "cabecalho", nome: "X-Api-Key", valor: CREDENTIAL_MASK });
    for (const credential of [basic, bearer, header]) expect(fromPortal(portalCredentialView(credential)).type).toBe(credential.type);
    expect(fromPortal({ tipo: "cabecalho", nome: "X-Api-Key", valor: "v" })).toEqual({ type: "header", name: "X-Api-Key", value: "v" });
    expect(fromPortal({ tipo: "basic", usuario: "u", senha: "p" })).toEqual({ type: "basic", username: "u", password: "p" });
  });
});

describe("resolving a delivery's credential", () => {
  const A = "https://a.example/hook";
  const subscription = (id: number, endpoint: string, authentication?: ReceiverCredential) =>
    ({ id, endpoint, evento: "boleto.paid", authentication }) as Subscription;
  function reads(subscriptions: Subscription[], config?: Partial<WebhookConfig>) {
    const calls: string[] = [];
    const fake: CredentialReads = {
      subscribed: async ({ tenantId, type }) => (calls.push(`subscribed ${tenantId} ${type}`), subscriptions),
      config: async (tenantId) => (calls.push(`config ${tenantId}`), config as WebhookConfig | undefined),
    };
    return { fake, calls };
  }
  const delivery = (credential?: { subscription: number } | { config: true }, url = A) =>
    ({ tenantId: "ten_1", eventType: "boleto.paid", url, credential }) as const;
  const bearer: ReceiverCredential = { type: "bearer", token: "t" };

  it("reads nothing for a delivery without a reference", async () => {
    const { fake, calls } = reads([subscription(1, A, bearer)], { webhookUrl: A, authentication: bearer });
    expect(await credentialFor(fake, delivery())).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it("reads the subscription's credential now, or none once it is removed or the subscription moved", async () => {
    expect(await credentialFor(reads([subscription(1, A, bearer)]).fake, delivery({ subscription: 1 }))).toEqual(bearer);
    expect(await credentialFor(reads([subscription(1, A)]).fake, delivery({ subscription: 1 }))).toBeUndefined();
    expect(await credentialFor(reads([subscription(1, "https://elsewhere/", bearer)]).fake, delivery({ subscription: 1 }))).toBeUndefined();
    expect(await credentialFor(reads([subscription(2, A, bearer)]).fake, delivery({ subscription: 1 }))).toBeUndefined();
  });

  it("reads the config's credential only for the config's URL", async () => {
    expect(await credentialFor(reads([], { webhookUrl: A, authentication: bearer }).fake, delivery({ config: true }))).toEqual(bearer);
    expect(await credentialFor(reads([], { webhookUrl: "https://new/", authentication: bearer }).fake, delivery({ config: true }))).toBeUndefined();
    expect(await credentialFor(reads([], undefined).fake, delivery({ config: true }))).toBeUndefined();
  });
});
