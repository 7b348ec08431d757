/**
 * Portal links: a short-lived credential an operator or an ERP hands its customer so that the
 * customer sees (and, unless the link is read-only, manages) the tenant's webhooks in the web
 * console without the tenant's API token. The token travels in the console URL's fragment,
 * which browsers never send to a server.
 */

/** How long a link may live, in seconds: five minutes to seven days, an hour by default. */
export const PORTAL_LINK_TTL = { min: 300, max: 604_800, default: 3_600 } as const;

/**
 * What a request's credential may do. A portal link never does more than the tenant's API token:
 * the authorizer resolves it to the same tenant, and the route wrapper only takes routes away.
 */
export type Access = "token" | "link" | "read-only-link";

/** The console page a link opens: the token after `#link=`, so it reaches no server and no log. */
export function portalLinkUrl(apiBaseUrl: string, token: string): string {
  return `${apiBaseUrl.replace(/\/+$/, "")}/console/#link=${token}`;
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;

/** Reads a duration such as `90s`, `15m`, `1h` or `7d` (a bare number is seconds). */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,7})([smhd]?)$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[(match[2] || "s") as keyof typeof UNIT_SECONDS];
}

export const isPortalLinkTtl = (seconds: number) => Number.isInteger(seconds) && seconds >= PORTAL_LINK_TTL.min && seconds <= PORTAL_LINK_TTL.max;

/**
 * Why a portal link may not make this request, or undefined when it may. A read-only link makes
 * only GET requests; no link reaches a route closed to links (making links, the signing secret).
 */
export function portalLinkRefusal(access: Access, method: string, openToLinks: boolean): string | undefined {
  if (access === "token") return undefined;
  if (!openToLinks) return "A portal link cannot use this route; it needs the account's API token.";
  if (access === "read-only-link" && method !== "GET") return "This portal link is read-only: it can only read (GET).";
  return undefined;
}
