import { createHash, randomBytes } from "node:crypto";

/**
 * API tokens (`fwt_`) and portal-link tokens (`fwl_`): shown to their owner once, stored only
 * as a SHA-256 hash. The prefix says which kind a token is, so the authorizer reads one item.
 */
const TOKEN_PREFIX = "fwt_";
const PORTAL_LINK_PREFIX = "fwl_";
const TOKEN_PATTERN = /^fw[tl]_[A-Za-z0-9_-]{43}$/;

export function newApiToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

export function newPortalLinkToken(): string {
  return PORTAL_LINK_PREFIX + randomBytes(32).toString("base64url");
}

export const isPortalLinkToken = (token: string) => token.startsWith(PORTAL_LINK_PREFIX);

export function apiTokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export type BearerParse =
  | { readonly ok: true; readonly token: string }
  | { readonly ok: false; readonly reason: "missing" | "malformed" };

/** Reads `Authorization: Bearer <token>` (an API token or a portal link's); the scheme is case-insensitive (RFC 9110 §11.1). */
export function parseBearer(header: string | undefined): BearerParse {
  if (header === undefined || header.trim() === "") return { ok: false, reason: "missing" };
  const match = /^Bearer +(\S+) *$/i.exec(header);
  if (!match?.[1] || !TOKEN_PATTERN.test(match[1])) return { ok: false, reason: "malformed" };
  return { ok: true, token: match[1] };
}

export function newTenantId(): string {
  return "ten_" + randomBytes(10).toString("hex");
}
