import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { maskSigningSecret, newSigningSecret, signDelivery } from "../../lambdas/domain/signing.ts";
// The receiver snippet from the documentation, unchanged: it must verify our signatures.
import { verifyWebhook } from "../../lib/dev/https-receiver.ts";

/** Standard Webhooks verification as a receiver using the reference library does it. */
function standardVerifies(secret: string, body: string, headers: Record<string, string>): boolean {
  try {
    new Webhook(secret).verify(body, headers, { jsonParse: false });
    return true;
  } catch {
    return false;
  }
}

const BODY = JSON.stringify({ event: "nfe.authorized", data: { chave: "3524", emitente: "Açúcar & Café Ltda" } });

function sign(secret: string, body = BODY) {
  return signDelivery({ secret, webhookId: "msg_2v9kQ", timestamp: new Date(), body });
}

describe("signing secrets", () => {
  it("are whsec_ and the base64 of 32 random bytes", () => {
    const a = newSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), "base64")).toHaveLength(32);
    expect(newSigningSecret()).not.toBe(a);
  });

  it("are masked to the first and last two data characters of their base64 part", () => {
    expect(maskSigningSecret("whsec_abCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnoxy")).toBe("whsec_ab...xy");
    const secret = newSigningSecret();
    expect(maskSigningSecret(secret)).toBe(`whsec_${secret.slice(6, 8)}...${secret.slice(-3, -1)}`);
  });
});

describe("delivery signatures", () => {
  it("verify with the documented receiver snippet, keyed by the whole secret string", () => {
    const secret = newSigningSecret();
    const headers = sign(secret);
    expect(headers["x-webhook-signature"]).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyWebhook(BODY, headers["x-webhook-signature"] ?? "", secret)).toBe(true);
  });

  it("verify with the standardwebhooks library", () => {
    const secret = newSigningSecret();
    const timestamp = new Date();
    const headers = signDelivery({ secret, webhookId: "msg_2v9kQ", timestamp, body: BODY });
    expect(headers["webhook-id"]).toBe("msg_2v9kQ");
    expect(headers["webhook-timestamp"]).toBe(String(Math.floor(timestamp.getTime() / 1000)));
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(BODY, headers)).toEqual(JSON.parse(BODY));
  });

  it("fail for a tampered body", () => {
    const secret = newSigningSecret();
    const headers = sign(secret);
    const tampered = BODY.replace("3524", "3525");
    expect(verifyWebhook(tampered, headers["x-webhook-signature"] ?? "", secret)).toBe(false);
    expect(standardVerifies(secret, tampered, headers)).toBe(false);
  });

  it("fail with another secret", () => {
    const headers = sign(newSigningSecret());
    const other = newSigningSecret();
    expect(verifyWebhook(BODY, headers["x-webhook-signature"] ?? "", other)).toBe(false);
    expect(standardVerifies(other, BODY, headers)).toBe(false);
  });

  it("fail for a replayed message under another id", () => {
    const secret = newSigningSecret();
    const headers = { ...sign(secret), "webhook-id": "msg_other" };
    expect(standardVerifies(secret, BODY, headers)).toBe(false);
  });

  it("carry a signature per secret in the grace period: either verifies the Standard Webhooks header, the new one the HMAC", () => {
    const [fresh, replaced, stranger] = [newSigningSecret(), newSigningSecret(), newSigningSecret()];
    const headers = signDelivery({ secret: fresh, alsoSignedBy: [replaced], webhookId: "msg_rot", timestamp: new Date(), body: BODY });
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(standardVerifies(fresh, BODY, headers)).toBe(true);
    expect(standardVerifies(replaced, BODY, headers)).toBe(true);
    expect(standardVerifies(stranger, BODY, headers)).toBe(false);
    expect(verifyWebhook(BODY, headers["x-webhook-signature"] ?? "", fresh)).toBe(true);
    expect(verifyWebhook(BODY, headers["x-webhook-signature"] ?? "", replaced)).toBe(false);
  });

  it("refuse a key that is not a signing secret", () => {
    expect(() => sign("c2VjcmV0")).toThrow(/whsec_/);
  });

  it("verify both ways for any body and secret, and for no other body", () => {
    const secrets = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => "whsec_" + Buffer.from(bytes).toString("base64"));
    const bodies = fc.string({ unit: "binary", maxLength: 300 });
    fc.assert(
      fc.property(secrets, bodies, bodies, (secret, body, other) => {
        const headers = sign(secret, body);
        expect(verifyWebhook(body, headers["x-webhook-signature"] ?? "", secret)).toBe(true);
        expect(standardVerifies(secret, body, headers)).toBe(true);
        if (other !== body) {
          expect(verifyWebhook(other, headers["x-webhook-signature"] ?? "", secret)).toBe(false);
          expect(standardVerifies(secret, other, headers)).toBe(false);
        }
      }),
    );
  });
});
