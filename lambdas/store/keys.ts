/**
 * Key layout of the single table. Every item's keys are built here, so the access
 * patterns can be read in one place:
 *
 *   tenant        pk TENANT#<tenantId>          sk TENANT           gsi1 TENANTS / <createdAt>#<tenantId>
 *   api token     pk TOKEN#<sha256 of token>    sk TOKEN            gsi1 TENANT#<tenantId>#TOKENS / <createdAt>
 */
export const keys = {
  tenant: (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: "TENANT" }),
  tenantListing: (tenantId: string, createdAt: string) => ({
    gsi1pk: "TENANTS",
    gsi1sk: `${createdAt}#${tenantId}`,
  }),
  tenantsIndex: () => "TENANTS",
  apiToken: (tokenHash: string) => ({ pk: `TOKEN#${tokenHash}`, sk: "TOKEN" }),
  apiTokenListing: (tenantId: string, createdAt: string) => ({
    gsi1pk: `TENANT#${tenantId}#TOKENS`,
    gsi1sk: createdAt,
  }),
  apiTokensIndex: (tenantId: string) => `TENANT#${tenantId}#TOKENS`,
} as const;
