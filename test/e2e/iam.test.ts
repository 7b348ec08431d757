import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OUTPUTS } from "../../lambdas/contract/resources.ts";
import { TenantStore } from "../../lambdas/data/tenants.ts";
import { synthesizeProduct } from "../../lib/dev/synth.ts";
import { startLocalRuntime, type LocalRuntime } from "../../lib/local-aws/runtime.ts";
import type { CfnTemplate } from "../../lib/local-aws/template/template.ts";

const workDir = mkdtempSync(path.join(tmpdir(), "fw-iam-product-"));
let runtime: LocalRuntime | undefined;
afterAll(async () => {
  await runtime?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

/** The template without one action in the policies of the role whose policy id starts with `rolePrefix`. */
function withoutAction(template: CfnTemplate, rolePrefix: string, action: string): CfnTemplate {
  const edited = structuredClone(template) as { Resources: Record<string, { Type: string; Properties: any }> };
  for (const [id, resource] of Object.entries(edited.Resources)) {
    if (resource.Type !== "AWS::IAM::Policy" || !id.startsWith(rolePrefix)) continue;
    for (const statement of resource.Properties.PolicyDocument.Statement) {
      statement.Action = [statement.Action].flat().filter((candidate: string) => candidate !== action);
    }
  }
  return edited as CfnTemplate;
}

// The e2e files that start the product fail on any denial (see ephemeral-product.ts): together
// they drive every route and pipeline path under the stack's own grants. This proves the converse.
describe("the product's IAM grants, enforced locally", () => {
  it("refuses a route's write and a worker's polling once their grants are removed from the template, and reports both", async () => {
    const stack = synthesizeProduct(path.join(workDir, "cdk.out"), {}, { verbose: false });
    const errors: string[] = [];
    const template = withoutAction(
      withoutAction(stack.template, "subscriptionsRoutesRoleDefaultPolicy", "dynamodb:PutItem"),
      "DispatchRoleDefaultPolicy",
      "sqs:ReceiveMessage",
    );
    runtime = await startLocalRuntime({ stack: { ...stack, template }, onError: (source) => errors.push(source) });
    // Like CreateEventSourceMapping, the engine does not start a mapping whose function may not receive.
    // Its two mappings: the events queue and the ordered (FIFO) one.
    expect(runtime.accessDenials().map(({ functionId, action, resource }) => ({ functionId, action, resource })).toSorted((a, b) => a.resource.localeCompare(b.resource))).toMatchObject([
      { functionId: expect.stringMatching(/^DispatchFunction/), action: "sqs:ReceiveMessage", resource: expect.stringMatching(/-QueuesEventsQueue/) },
      { functionId: expect.stringMatching(/^DispatchFunction/), action: "sqs:ReceiveMessage", resource: expect.stringMatching(/-QueuesOrderedEventsQueue.*\.fifo$/) },
    ]);
    const tenants = new TenantStore(DynamoDBDocumentClient.from(runtime.dynamodb), String(runtime.outputs[OUTPUTS.tableName]));
    const { token } = await tenants.create("iam");
    const response = await fetch(`${runtime.apiUrl}/portal/api/ext/webhook`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ evento: "invoice.authorized", endpoint: "https://example.com/hook" }),
    });
    expect(response.status).toBe(500);
    expect(runtime.accessDenials().slice(2)).toMatchObject([
      { functionId: expect.stringMatching(/^subscriptionsRoutes/), action: "dynamodb:PutItem", resource: expect.stringMatching(/:table\//) },
    ]);
    expect(errors).toEqual([expect.stringMatching(/^iam DispatchFunction/), expect.stringMatching(/^iam DispatchFunction/), expect.stringMatching(/^iam subscriptionsRoutes/)]);
  }, 120_000);
});
