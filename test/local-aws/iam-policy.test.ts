import { describe, expect, it } from "vitest";
import { evaluate, statementsOf, type PolicyStatement } from "../../lib/local-aws/iam/policy.ts";
import { dynamodbApi, sqsApi } from "../../lib/local-aws/iam/requests.ts";
import { functionIdentities } from "../../lib/local-aws/iam/roles.ts";
import { resolveTemplate } from "../../lib/local-aws/template/resolve.ts";
import type { CfnTemplate } from "../../lib/local-aws/template/template.ts";

const table = "arn:aws:dynamodb:us-east-1:000000000000:table/Data";
const allow = (actions: string[], resources: string[]): PolicyStatement => ({ effect: "Allow", actions, resources });
const services = ["dynamodb", "sqs"];

describe("IAM policy evaluation", () => {
  it("denies what no statement allows", () => {
    expect(evaluate([], "dynamodb:GetItem", table)).toBe("implicitDeny");
    expect(evaluate([allow(["dynamodb:GetItem"], [table])], "dynamodb:PutItem", table)).toBe("implicitDeny");
    expect(evaluate([allow(["dynamodb:GetItem"], [table])], "dynamodb:GetItem", `${table}2`)).toBe("implicitDeny");
  });

  it("matches actions case-insensitively and resources case-sensitively", () => {
    expect(evaluate([allow(["DynamoDB:getitem"], [table])], "dynamodb:GetItem", table)).toBe("allowed");
    expect(evaluate([allow(["dynamodb:GetItem"], [table.toLowerCase()])], "dynamodb:GetItem", table)).toBe("implicitDeny");
  });

  it("expands * and ? in actions and resources", () => {
    const statements = [allow(["dynamodb:*Item", "sqs:?eceiveMessage"], ["arn:aws:dynamodb:*:*:table/D?ta", "arn:aws:sqs:*"])];
    expect(evaluate(statements, "dynamodb:BatchWriteItem", table)).toBe("allowed");
    expect(evaluate(statements, "dynamodb:Query", table)).toBe("implicitDeny");
    expect(evaluate(statements, "sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:000000000000:work")).toBe("allowed");
    // `table/D?ta` does not reach the index: `?` is one character.
    expect(evaluate(statements, "dynamodb:GetItem", `${table}/index/gsi1`)).toBe("implicitDeny");
    // Regex characters in patterns are literal.
    expect(evaluate([allow(["dynamodb:GetItem"], ["arn.aws"])], "dynamodb:GetItem", "arnXaws")).toBe("implicitDeny");
  });

  it("lets an explicit Deny win over any Allow", () => {
    const statements: PolicyStatement[] = [
      allow(["dynamodb:*"], ["*"]),
      { effect: "Deny", actions: ["dynamodb:DeleteItem"], resources: [table] },
    ];
    expect(evaluate(statements, "dynamodb:DeleteItem", table)).toBe("explicitDeny");
    expect(evaluate(statements, "dynamodb:PutItem", table)).toBe("allowed");
  });

  it("supports NotAction and NotResource", () => {
    const statements: PolicyStatement[] = [
      { effect: "Allow", notActions: ["dynamodb:Delete*"], resources: [table] },
      { effect: "Deny", actions: ["dynamodb:PutItem"], notResources: [table] },
    ];
    expect(evaluate(statements, "dynamodb:PutItem", table)).toBe("allowed");
    expect(evaluate(statements, "dynamodb:DeleteItem", table)).toBe("implicitDeny");
    expect(evaluate([...statements, allow(["*"], ["*"])], "dynamodb:PutItem", `${table}2`)).toBe("explicitDeny");
  });
});

describe("reading policy documents", () => {
  it("reads single values and lists, and skips statements about other services", () => {
    const statements = statementsOf(
      {
        Statement: [
          { Effect: "Allow", Action: "logs:PutLogEvents", Resource: "*", Condition: { StringLike: { "logs:x": "y" } } },
          { Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: table },
          { Effect: "Deny", NotAction: "sqs:SendMessage", NotResource: ["*"] },
        ],
      },
      "test",
      services,
    );
    expect(statements).toEqual([
      { effect: "Allow", actions: ["dynamodb:GetItem"], resources: [table] },
      { effect: "Deny", notActions: ["sqs:SendMessage"], notResources: ["*"] },
    ]);
  });

  it("treats local traffic as secure transport", () => {
    const secureOnly = (value: string) =>
      statementsOf({ Statement: { Effect: "Deny", Action: "sqs:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": value } } } }, "test", services);
    expect(secureOnly("false")).toEqual([]);
    expect(secureOnly("true")).toHaveLength(1);
  });

  it("refuses constructs it would have to guess at", () => {
    const refuses = (statement: object) => () => statementsOf({ Statement: [statement] }, "Policy P", services);
    expect(refuses({ Effect: "Allow", Action: "dynamodb:GetItem", Resource: "*", Condition: { StringEquals: { "aws:SourceVpc": "v" } } })).toThrow(
      /Policy P, statement 0: condition StringEquals on aws:SourceVpc cannot be evaluated locally/,
    );
    expect(refuses({ Effect: "Allow", Action: "sqs:*", NotAction: "sqs:x", Resource: "*" })).toThrow(/exactly one of Action and NotAction/);
    expect(refuses({ Effect: "Allow", Action: "sqs:*" })).toThrow(/exactly one of Resource and NotResource/);
    expect(refuses({ Effect: "Allow", Action: "*", Resource: "*", Principal: "*" })).toThrow(/cannot name a principal/);
  });
});

describe("what a request asks for", () => {
  const at = { region: "us-east-1", accountId: "000000000000" };
  const dynamodb = dynamodbApi(at);
  const sqs = sqsApi(at);

  it("names the table, or the index for Query and Scan on one", () => {
    expect(dynamodb.access("PutItem", { TableName: "Data" })).toEqual([{ action: "dynamodb:PutItem", resource: table }]);
    expect(dynamodb.access("Query", { TableName: "Data", IndexName: "gsi1" })).toEqual([
      { action: "dynamodb:Query", resource: `${table}/index/gsi1` },
    ]);
    expect(dynamodb.access("GetItem", { TableName: table })).toEqual([{ action: "dynamodb:GetItem", resource: table }]);
    expect(dynamodb.access("ListTables", {})).toEqual([{ action: "dynamodb:ListTables", resource: "*" }]);
  });

  it("asks for every table of a batch and every item of a transaction", () => {
    expect(dynamodb.access("BatchWriteItem", { RequestItems: { Data: [], Other: [] } })).toEqual([
      { action: "dynamodb:BatchWriteItem", resource: table },
      { action: "dynamodb:BatchWriteItem", resource: `${table.replace("Data", "Other")}` },
    ]);
    expect(dynamodb.access("TransactWriteItems", { TransactItems: [{ Put: { TableName: "Data" } }, { ConditionCheck: { TableName: "Data" } }] })).toEqual([
      { action: "dynamodb:PutItem", resource: table },
      { action: "dynamodb:ConditionCheckItem", resource: table },
    ]);
    const statements = [allow(["dynamodb:BatchWriteItem"], [table])];
    const decisions = dynamodb
      .access("BatchWriteItem", { RequestItems: { Data: [], Other: [] } })
      .map(({ action, resource }) => evaluate(statements, action, resource));
    expect(decisions).toEqual(["allowed", "implicitDeny"]);
  });

  it("names the queue, with batch operations needing their single-message action", () => {
    const url = "http://127.0.0.1:9324/000000000000/work";
    const queue = "arn:aws:sqs:us-east-1:000000000000:work";
    expect(sqs.access("SendMessageBatch", { QueueUrl: url })).toEqual([{ action: "sqs:SendMessage", resource: queue }]);
    expect(sqs.access("GetQueueUrl", { QueueName: "work" })).toEqual([{ action: "sqs:GetQueueUrl", resource: queue }]);
    expect(sqs.access("ListQueues", {})).toEqual([{ action: "sqs:ListQueues", resource: "*" }]);
  });

  it("answers denials in the shapes the SDK maps to AccessDenied errors", () => {
    expect(JSON.parse(dynamodb.accessDenied("no").body)).toEqual({ __type: "com.amazon.coral.service#AccessDeniedException", message: "no" });
    expect(sqs.accessDenied("no").headers["x-amzn-query-error"]).toBe("AccessDenied;Sender");
  });
});

describe("a function's role in the template", () => {
  const placement = { stackName: "S", region: "us-east-1", accountId: "000000000000", sqsEndpoint: "http://q", apiEndpoint: "", apiId: "a" };
  const statement = (action: string) => ({ Statement: [{ Effect: "Allow", Action: action, Resource: { "Fn::GetAtt": ["T", "Arn"] } }] });
  const template = (role: unknown): CfnTemplate => ({
    Resources: {
      T: { Type: "AWS::DynamoDB::Table", Properties: {} },
      R: {
        Type: "AWS::IAM::Role",
        Properties: {
          Policies: [{ PolicyName: "inline", PolicyDocument: statement("dynamodb:GetItem") }],
          ManagedPolicyArns: [{ Ref: "M" }, "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
        },
      },
      P: { Type: "AWS::IAM::Policy", Properties: { PolicyDocument: statement("dynamodb:PutItem"), Roles: [{ Ref: "R" }] } },
      M: { Type: "AWS::IAM::ManagedPolicy", Properties: { PolicyDocument: statement("dynamodb:Query") } },
      N: { Type: "AWS::IAM::ManagedPolicy", Properties: { PolicyDocument: statement("dynamodb:DeleteItem"), Roles: [{ Ref: "R" }] } },
      Other: { Type: "AWS::IAM::Policy", Properties: { PolicyDocument: statement("dynamodb:Scan"), Roles: ["someone-else"] } },
      F: { Type: "AWS::Lambda::Function", Properties: { Role: role } },
    },
  });

  it("gathers inline policies, attached policies and the stack's managed policies", () => {
    const [identity] = functionIdentities(resolveTemplate(template({ "Fn::GetAtt": ["R", "Arn"] }), placement));
    expect(identity).toMatchObject({ functionId: "F", functionName: "S-F", roleName: "S-R" });
    expect(identity!.statements.flatMap((s) => s.actions)).toEqual(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"]);
  });

  it("refuses a function whose role is not in the stack", () => {
    expect(() => functionIdentities(resolveTemplate(template("arn:aws:iam::000000000000:role/elsewhere"), placement))).toThrow(
      /Function F: role arn:aws:iam::000000000000:role\/elsewhere is not a role of this stack/,
    );
  });
});
