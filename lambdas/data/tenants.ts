import { isPortalLinkTtl, PORTAL_LINK_TTL, type Access } from "../domain/portal-links.ts";
import { apiTokenHash, isPortalLinkToken, newApiToken, newPortalLinkToken, newTenantId } from "../domain/tokens.ts";
import { deleteAll } from "./batch.ts";
import { conditionally } from "./conditional.ts";
import { keys, queries } from "./keys.ts";
import { queryAll, queryPage } from "./query.ts";
import { entityOf, IF_ABSENT, IF_PRESENT, PK, SK, tableKey, TableStore, TTL, type Item } from "./table.ts";

export type TenantStatus = "active" | "revoked";

export interface Tenant {
  readonly tenantId: string;
  readonly name: string;
  readonly status: TenantStatus;
  readonly createdAt: string;
}

export interface IssuedToken {
  readonly tenant: Tenant;
  /** The token itself: returned once, never stored. */
  readonly token: string;
}

/** A portal link as it is listed: never its token. */
export interface PortalLink {
  /** The SHA-256 of its token (hex): what the table keeps, and what names it in the API. */
  readonly id: string;
  readonly readOnly: boolean;
  readonly createdAt: string;
  /** The instant it stops working (ISO-8601). */
  readonly expiresAt: string;
}

export interface IssuedPortalLink extends PortalLink {
  /** The link's token: returned once, never stored. */
  readonly token: string;
}

export interface PortalLinkPage {
  readonly links: PortalLink[];
  readonly nextCursor: string | undefined;
}

/** What a Bearer token stands for: its tenant and what it may do, or why it stands for nothing. */
export type ResolvedToken =
  | { readonly ok: true; readonly tenantId: string; readonly access: Access; /** A portal link's end. */ readonly expiresAt?: string }
  | { readonly ok: false; readonly reason: "unknown" | "expired" };

const TENANT_NAME_MAX = 100;

/** Tenants, their API tokens and portal links. Only hashes of tokens reach the table. */
export class TenantStore extends TableStore {
  async create(name: string, now = new Date()): Promise<IssuedToken> {
    const trimmed = name.trim();
    if (trimmed === "" || trimmed.length > TENANT_NAME_MAX) {
      throw new RangeError(`tenant name must have 1 to ${TENANT_NAME_MAX} characters`);
    }
    const tenant: Tenant = {
      tenantId: newTenantId(),
      name: trimmed,
      status: "active",
      createdAt: now.toISOString(),
    };
    await this.table.put({
      Item: { ...keys.tenant(tenant.tenantId), ...keys.tenantListing(tenant.tenantId, tenant.createdAt), ...tenant },
      ConditionExpression: IF_ABSENT,
    });
    const token = await this.issueToken(tenant.tenantId, now);
    return { tenant, token };
  }

  /** `consistent: false` halves the read's price where a second of staleness is harmless (the fan-out). */
  async get(tenantId: string, consistent = true): Promise<Tenant | undefined> {
    const item = await this.table.get(keys.tenant(tenantId), consistent);
    return item ? toTenant(item) : undefined;
  }

  /** Issues another token for an active tenant (rotation: old tokens keep working until revoked). */
  async issueToken(tenantId: string, now = new Date()): Promise<string> {
    const tenant = await this.get(tenantId);
    if (tenant?.status !== "active") throw new TenantNotActiveError(tenantId);
    const token = newApiToken();
    const createdAt = now.toISOString();
    await this.table.put({
      Item: {
        ...keys.apiToken(apiTokenHash(token)),
        ...keys.apiTokenListing(tenantId, createdAt),
        tenantId,
        createdAt,
      },
      ConditionExpression: IF_ABSENT,
    });
    return token;
  }

  /**
   * Issues a portal link of an active tenant, valid for `ttlSeconds` from `now`
   * (PORTAL_LINK_TTL's bounds). DynamoDB's TTL removes the item some time after it expires;
   * until then resolveToken refuses it by its `validUntil`.
   */
  async issuePortalLink(tenantId: string, options: { ttlSeconds: number; readOnly: boolean }, now = new Date()): Promise<IssuedPortalLink> {
    if (!isPortalLinkTtl(options.ttlSeconds)) {
      throw new RangeError(`a portal link lives ${PORTAL_LINK_TTL.min} to ${PORTAL_LINK_TTL.max} seconds`);
    }
    const tenant = await this.get(tenantId);
    if (tenant?.status !== "active") throw new TenantNotActiveError(tenantId);
    const token = newPortalLinkToken();
    const id = apiTokenHash(token);
    const createdAt = now.toISOString();
    const validUntil = new Date(now.getTime() + options.ttlSeconds * 1000);
    await this.table.put({
      Item: {
        ...keys.portalLink(id),
        ...keys.portalLinkListing(tenantId, createdAt, id),
        tenantId,
        readOnly: options.readOnly,
        createdAt,
        validUntil: validUntil.toISOString(),
        [TTL]: Math.ceil(validUntil.getTime() / 1000),
      },
      ConditionExpression: IF_ABSENT,
    });
    return { id, token, readOnly: options.readOnly, createdAt, expiresAt: validUntil.toISOString() };
  }

  /** The tenant's live portal links, newest first, a page at a time. */
  async listPortalLinks(tenantId: string, limit: number, cursor?: string, now = new Date()): Promise<PortalLinkPage> {
    const live = { expression: "validUntil > :now", values: { ":now": now.toISOString() } };
    const page = await queryPage(this.table, { ...queries.portalLinks(tenantId), filter: live }, limit, cursor);
    return {
      links: page.items.map((item) => ({
        id: String(item[PK]).slice("LINK#".length),
        readOnly: item["readOnly"] === true,
        createdAt: String(item["createdAt"]),
        expiresAt: String(item["validUntil"]),
      })),
      nextCursor: page.nextCursor,
    };
  }

  /** Deletes one of the tenant's portal links: it stops working at once. False when the tenant has no such link. */
  async revokePortalLink(tenantId: string, id: string): Promise<boolean> {
    const deleted = await conditionally(
      this.table.delete({
        Key: keys.portalLink(id),
        ConditionExpression: "tenantId = :tenantId",
        ExpressionAttributeValues: { ":tenantId": tenantId },
      }),
    );
    return deleted.written;
  }

  /**
   * What a token stands for: an API token or an unexpired portal link of an active tenant. The
   * tenant's status is checked too: a token issued while a revoke ran (and so missed by its
   * clean-up) still stops working, and so does every portal link of a revoked tenant.
   */
  async resolveToken(token: string, now = new Date()): Promise<ResolvedToken> {
    const link = isPortalLinkToken(token);
    const item = await this.table.get(link ? keys.portalLink(apiTokenHash(token)) : keys.apiToken(apiTokenHash(token)));
    const tenantId = item?.["tenantId"];
    if (typeof tenantId !== "string") return { ok: false, reason: "unknown" };
    const validUntil = String(item?.["validUntil"]);
    if (link && !(now.toISOString() < validUntil)) return { ok: false, reason: "expired" };
    if ((await this.get(tenantId))?.status !== "active") return { ok: false, reason: "unknown" };
    if (!link) return { ok: true, tenantId, access: "token" };
    return { ok: true, tenantId, access: item?.["readOnly"] === true ? "read-only-link" : "link", expiresAt: validUntil };
  }

  /** The active tenant an API token (or a live portal link) belongs to, or undefined. */
  async tenantIdForToken(token: string): Promise<string | undefined> {
    const resolved = await this.resolveToken(token);
    return resolved.ok ? resolved.tenantId : undefined;
  }

  async list(): Promise<Tenant[]> {
    return (await queryAll(this.table, queries.tenants())).map(toTenant);
  }

  /**
   * Marks the tenant revoked, then deletes every token and portal link it has. Both steps are idempotent:
   * running it again after a crash finishes the job. Returns false for an unknown tenant.
   */
  async revoke(tenantId: string): Promise<boolean> {
    const revocation = await conditionally(
      this.table.update({
        Key: keys.tenant(tenantId),
        UpdateExpression: "SET #status = :revoked",
        ConditionExpression: IF_PRESENT,
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":revoked": "revoked" },
      }),
    );
    if (!revocation.written) return false;
    const tokens = (
      await Promise.all([queries.apiTokens(tenantId), queries.portalLinks(tenantId)].map((query) => queryAll(this.table, { ...query, keysOnly: true })))
    ).flat();
    await deleteAll(this.table, tokens.map((item) => tableKey(String(item[PK]), String(item[SK]))));
    return true;
  }
}

export class TenantNotActiveError extends Error {
  constructor(readonly tenantId: string) {
    super(`tenant ${tenantId} does not exist or is revoked`);
    this.name = "TenantNotActiveError";
  }
}

const toTenant = (item: Item) => entityOf<Tenant>(item, { tenantId: true, name: true, status: true, createdAt: true });
