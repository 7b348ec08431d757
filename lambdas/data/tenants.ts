import {
  ConditionalCheckFailedException,
} from "@aws-sdk/client-dynamodb";
import {
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { apiTokenHash, newApiToken, newTenantId } from "../domain/tokens.ts";
import { TABLE_KEYS } from "../contract/resources.ts";
import { deleteAll } from "./batch.ts";
import { keys } from "./keys.ts";
import { queryAll } from "./query.ts";

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
export class TenantStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

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
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.tenant(tenant.tenantId), ...keys.tenantListing(tenant.tenantId, tenant.createdAt), ...tenant },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    const token = await this.issueToken(tenant.tenantId, now);
    return { tenant, token };
  }

  /** `consistent: false` halves the read's price where a second of staleness is harmless (the fan-out). */
  async get(tenantId: string, consistent = true): Promise<Tenant | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.tenant(tenantId), ConsistentRead: consistent }),
    );
    return result.Item ? toTenant(result.Item) : undefined;
  }

  /** Issues another token for an active tenant (rotation: old tokens keep working until revoked). */
  async issueToken(tenantId: string, now = new Date()): Promise<string> {
    const tenant = await this.get(tenantId);
    if (tenant?.status !== "active") throw new TenantNotActiveError(tenantId);
    const token = newApiToken();
    const createdAt = now.toISOString();
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.apiToken(apiTokenHash(token)),
          ...keys.apiTokenListing(tenantId, createdAt),
          tenantId,
          createdAt,
        },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    return token;
  }

  /**
   * The active tenant a token belongs to, or undefined for an unknown token or a revoked
   * tenant. The tenant's status is checked too: a token issued while a revoke ran (and so
   * missed by its clean-up) still stops working.
   */
  async tenantIdForToken(token: string): Promise<string | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.apiToken(apiTokenHash(token)), ConsistentRead: true }),
    );
    const tenantId = result.Item?.["tenantId"];
    if (typeof tenantId !== "string") return undefined;
    return (await this.get(tenantId))?.status === "active" ? tenantId : undefined;
  }

  async list(): Promise<Tenant[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: TABLE_KEYS.gsi1.indexName,
      KeyConditionExpression: "gsi1pk = :pk",
      ExpressionAttributeValues: { ":pk": keys.tenantsIndex() },
    });
    return items.map(toTenant);
  }

  /**
   * Marks the tenant revoked, then deletes every token it has. Both steps are idempotent:
   * running it again after a crash finishes the job. Returns false for an unknown tenant.
   */
  async revoke(tenantId: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.tenant(tenantId),
          UpdateExpression: "SET #status = :revoked",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":revoked": "revoked" },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
    const tokens = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: TABLE_KEYS.gsi1.indexName,
      KeyConditionExpression: "gsi1pk = :pk",
      ExpressionAttributeValues: { ":pk": keys.apiTokensIndex(tenantId) },
      ProjectionExpression: "pk, sk",
    });
    await deleteAll(this.client, this.tableName, tokens.map((item) => ({ pk: item["pk"], sk: item["sk"] })));
    return true;
  }
}

export class TenantNotActiveError extends Error {
  constructor(readonly tenantId: string) {
    super(`tenant ${tenantId} does not exist or is revoked`);
    this.name = "TenantNotActiveError";
  }
}

function toTenant(item: Record<string, unknown>): Tenant {
  return {
    tenantId: String(item["tenantId"]),
    name: String(item["name"]),
    status: item["status"] === "revoked" ? "revoked" : "active",
    createdAt: String(item["createdAt"]),
  };
}
