import { apiTokenHash, newApiToken, newTenantId } from "../domain/tokens.ts";
import { deleteAll } from "./batch.ts";
import { conditionally } from "./conditional.ts";
import { keys, queries } from "./keys.ts";
import { queryAll } from "./query.ts";
import { entityOf, IF_ABSENT, IF_PRESENT, PK, SK, tableKey, TableStore, type Item } from "./table.ts";

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

const TENANT_NAME_MAX = 100;

/** Tenants and their API tokens. Only hashes of tokens reach the table. */
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
   * The active tenant a token belongs to, or undefined for an unknown token or a revoked
   * tenant. The tenant's status is checked too: a token issued while a revoke ran (and so
   * missed by its clean-up) still stops working.
   */
  async tenantIdForToken(token: string): Promise<string | undefined> {
    const tenantId = (await this.table.get(keys.apiToken(apiTokenHash(token))))?.["tenantId"];
    if (typeof tenantId !== "string") return undefined;
    return (await this.get(tenantId))?.status === "active" ? tenantId : undefined;
  }

  async list(): Promise<Tenant[]> {
    return (await queryAll(this.table, queries.tenants())).map(toTenant);
  }

  /**
   * Marks the tenant revoked, then deletes every token it has. Both steps are idempotent:
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
    const tokens = await queryAll(this.table, { ...queries.apiTokens(tenantId), keysOnly: true });
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
