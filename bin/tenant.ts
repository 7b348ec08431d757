import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { parseArgs } from "node:util";
import { OUTPUTS } from "../lambdas/contract/resources.ts";
import { TenantStore } from "../lambdas/data/tenants.ts";
import { isPortalLinkTtl, parseDuration, PORTAL_LINK_TTL, portalLinkUrl } from "../lambdas/domain/portal-links.ts";
import { outputsFilePath } from "../lib/dev/product.ts";
import { connectToStack, STACK_OPTIONS, STACK_OPTIONS_USAGE, stackSource } from "../lib/dev/stack-connection.ts";

const usage = `Usage: npm run tenant -- <command> [--stack <name> [--region <r>] [--profile <p>] | --outputs <file>]

Commands:
  create <name>        create a tenant and print its API token (shown once)
  token <tenantId>     issue another token for a tenant (rotation; old ones keep working)
  list                 list tenants
  revoke <tenantId>    revoke a tenant: every token and portal link of it stops working at once
  portal-link <tenantId> [--ttl 1h] [--read-only]
                       print a console link for the tenant's customer, valid for --ttl
                       (s, m, h or d; 5m to 7d, default 1h); --read-only: it can only read

${STACK_OPTIONS_USAGE}`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ...STACK_OPTIONS,
    ttl: { type: "string", default: "1h" },
    "read-only": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

const [command, argument] = positionals;
if (values.help || !command) {
  console.log(usage);
  process.exit(values.help ? 0 : 2);
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const stack = await connectToStack(stackSource(values, outputsFilePath(".local"))).catch((error: unknown) => fail((error as Error).message));
const client = stack.dynamodb();
const tenants = new TenantStore(DynamoDBDocumentClient.from(client), stack.output(OUTPUTS.tableName));

try {
  switch (command) {
    case "create": {
      const { tenant, token } = await tenants.create(argument ?? fail("create needs a tenant name"));
      console.log(`Tenant ${tenant.tenantId} (${tenant.name}) created.\nToken (shown only now): ${token}`);
      break;
    }
    case "token": {
      const token = await tenants.issueToken(argument ?? fail("token needs a tenant id"));
      console.log(`Token (shown only now): ${token}`);
      break;
    }
    case "list": {
      const all = await tenants.list();
      for (const t of all) console.log(`${t.tenantId}\t${t.status}\t${t.createdAt}\t${t.name}`);
      if (all.length === 0) console.log("No tenants.");
      break;
    }
    case "revoke": {
      const id = argument ?? fail("revoke needs a tenant id");
      if (!(await tenants.revoke(id))) fail(`No tenant ${id}`);
      console.log(`Tenant ${id} revoked: its tokens and portal links no longer work.`);
      break;
    }
    case "portal-link": {
      const id = argument ?? fail("portal-link needs a tenant id");
      const ttlSeconds = parseDuration(values.ttl);
      if (ttlSeconds === undefined || !isPortalLinkTtl(ttlSeconds)) {
        fail(`--ttl must be a duration from ${PORTAL_LINK_TTL.min / 60}m to ${PORTAL_LINK_TTL.max / 86_400}d, such as 30m, 1h or 7d`);
      }
      const link = await tenants.issuePortalLink(id, { ttlSeconds, readOnly: values["read-only"] });
      console.log(
        `Portal link for ${id} (${link.readOnly ? "read-only" : "full access"}, valid until ${link.expiresAt}; shown only now):\n` +
          portalLinkUrl(stack.output(OUTPUTS.apiUrl), link.token),
      );
      break;
    }
    default:
      fail(`Unknown command "${command}".\n\n${usage}`);
  }
} catch (error) {
  console.error(`tenant ${command} failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  client.destroy();
}
