import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalRuntime, type LocalRuntime } from "../../lib/local-aws/runtime.ts";
import type { CfnTemplate } from "../../lib/local-aws/template/template.ts";
import { synthesizeProbeStack, type ProbeStack } from "../fixtures/probe-stack.ts";

const workDir = mkdtempSync(path.join(tmpdir(), "fw-iam-"));
let stack: ProbeStack;
const runtimes: LocalRuntime[] = [];

beforeAll(() => {
  stack = synthesizeProbeStack(path.join(workDir, "cdk.out"));
});
afterAll(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.stop()));
  rmSync(workDir, { recursive: true, force: true });
});

async function start(template: CfnTemplate, enforceIam = true) {
  const errors: { source: string; message: string }[] = [];
  const runtime = await startLocalRuntime({
    stack: { ...stack, template },
    enforceIam,
    onError: (source, error) => errors.push({ source, message: (error as Error).message }),
  });
  runtimes.push(runtime);
  const call = async (name: string) => {
    const response = await fetch(`${runtime.apiUrl}/probe/${name}`, { headers: { authorization: "let-me-in" } });
    return ((await response.json()) as { awsError: string | null }).awsError;
  };
  return { runtime, errors, call };
}

/** The probe stack with `edit` applied to every policy statement of the probe function's role. */
function withProbeStatements(edit: (statement: { Action: string | string[] }) => object | undefined): CfnTemplate {
  const template = structuredClone(stack.template) as { Resources: Record<string, { Type: string; Properties: any }> };
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== "AWS::IAM::Policy" || !JSON.stringify(resource.Properties.Roles).includes("ProbeFunction")) continue;
    const document = resource.Properties.PolicyDocument;
    document.Statement = document.Statement.map(edit).filter(Boolean);
  }
  return template as CfnTemplate;
}

const actionsOf = (statement: { Action: string | string[] }) => [statement.Action].flat();

describe("IAM enforced on the probe stack", () => {
  it("lets a function make the calls its role allows, and refuses the others as AWS does", async () => {
    const { runtime, errors, call } = await start(stack.template);
    expect(await call("put-granted")).toBeNull();
    const { Item } = await runtime.dynamodb.send(
      new GetItemCommand({ TableName: runtime.tables[0]!.tableName, Key: { pk: { S: "put-granted" } } }),
    );
    expect(Item).toBeDefined();
    expect(runtime.accessDenials()).toEqual([]);

    // The role may consume the work queue but not send to it.
    expect(await call("send")).toBe("AccessDenied");
    const queueArn = runtime.queue(stack.queueIds.work).arn;
    expect(runtime.accessDenials()).toMatchObject([
      { functionId: expect.stringMatching(/^ProbeFunction/), action: "sqs:SendMessage", resource: queueArn },
    ]);
    expect(errors.map((error) => error.source)).toEqual([expect.stringMatching(/^iam ProbeFunction/)]);
  });

  it("refuses a call once its grant is removed from the template, with the message AWS gives", async () => {
    const { runtime, errors, call } = await start(
      withProbeStatements((statement) => (actionsOf(statement).includes("dynamodb:PutItem") ? undefined : statement)),
    );
    expect(await call("put-ungranted")).toBe("AccessDeniedException");
    const tableArn = `arn:aws:dynamodb:us-east-1:000000000000:table/${runtime.tables[0]!.tableName}`;
    const [denial] = runtime.accessDenials();
    expect(denial).toMatchObject({ action: "dynamodb:PutItem", resource: tableArn });
    expect(denial?.message).toMatch(
      new RegExp(
        `^User: arn:aws:sts::000000000000:assumed-role/Probe-ProbeFunctionServiceRole\\w+/Probe-ProbeFunction\\w+ ` +
          `is not authorized to perform: dynamodb:PutItem on resource: ${tableArn} ` +
          "because no identity-based policy allows the dynamodb:PutItem action$",
      ),
    );
    expect(errors[0]?.message).toBe(denial?.message);
  });

  it("does not create an event source mapping whose function may not receive from its queue", async () => {
    const { runtime, errors } = await start(
      withProbeStatements((statement) => ({
        ...statement,
        Action: actionsOf(statement).filter((action) => action !== "sqs:ReceiveMessage"),
      })),
    );
    expect(runtime.accessDenials()).toMatchObject([
      { action: "sqs:ReceiveMessage", resource: runtime.queue(stack.queueIds.work).arn },
    ]);
    expect(errors).toHaveLength(1);
  });

  it("lets everything through when enforcement is off", async () => {
    const { runtime, call } = await start(
      withProbeStatements((statement) => (actionsOf(statement).includes("dynamodb:PutItem") ? undefined : statement)),
      false,
    );
    expect(await call("put-unchecked")).toBeNull();
    expect(await call("send")).toBeNull();
    expect(runtime.accessDenials()).toEqual([]);
  });
});
