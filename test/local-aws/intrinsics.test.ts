import { describe, expect, it } from "vitest";
import { localPhysicalResources, resolveIntrinsics, type LocalPlacement } from "../../lib/local-aws/template/intrinsics.ts";
import type { CfnTemplate } from "../../lib/local-aws/template/template.ts";

const at: LocalPlacement = {
  stackName: "S",
  region: "sa-east-1",
  accountId: "000000000000",
  sqsEndpoint: "http://127.0.0.1:9324",
  apiEndpoint: "http://127.0.0.1:3000",
  apiId: "local",
};
const template: CfnTemplate = {
  Resources: {
    Table: { Type: "AWS::DynamoDB::Table" },
    Named: { Type: "AWS::SQS::Queue", Properties: { QueueName: "chosen" } },
    Queue: { Type: "AWS::SQS::Queue" },
    Fn: { Type: "AWS::Lambda::Function" },
    Api: { Type: "AWS::ApiGatewayV2::Api" },
  },
};
const physical = localPhysicalResources(template, at);
const resolve = (value: unknown) => resolveIntrinsics(value, physical, at);

describe("intrinsic functions, resolved locally", () => {
  it("resolves Ref to physical names, URLs and pseudo parameters", () => {
    expect(resolve({ Ref: "Table" })).toBe("S-Table");
    expect(resolve({ Ref: "Queue" })).toBe("http://127.0.0.1:9324/000000000000/S-Queue");
    expect(resolve({ Ref: "Named" })).toBe("http://127.0.0.1:9324/000000000000/chosen");
    expect(resolve({ Ref: "AWS::Region" })).toBe("sa-east-1");
  });

  it("resolves Fn::GetAtt in both spellings", () => {
    expect(resolve({ "Fn::GetAtt": ["Queue", "Arn"] })).toBe("arn:aws:sqs:sa-east-1:000000000000:S-Queue");
    expect(resolve({ "Fn::GetAtt": "Fn.Arn" })).toBe("arn:aws:lambda:sa-east-1:000000000000:function:S-Fn");
    expect(resolve({ "Fn::GetAtt": ["Api", "ApiEndpoint"] })).toBe("http://127.0.0.1:3000");
  });

  it("resolves Join, Select, Split and Sub, nested in plain objects and lists", () => {
    expect(
      resolve({
        Variables: {
          A: { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":x/", { Ref: "Table" }]] },
          B: { "Fn::Select": [1, { "Fn::Split": ["/", "a/b/c"] }] },
          C: { "Fn::Sub": "${AWS::AccountId}-${Table}-${Queue.QueueName}" },
          D: { "Fn::Sub": ["${X}!", { X: { Ref: "Table" } }] },
        },
        List: [{ Ref: "Table" }, 3],
      }),
    ).toEqual({
      Variables: { A: "arn:aws:x/S-Table", B: "b", C: "000000000000-S-Table-S-Queue", D: "S-Table!" },
      List: ["S-Table", 3],
    });
  });

  it("refuses what it cannot resolve, by name", () => {
    expect(() => resolve({ Ref: "Missing" })).toThrow(/unknown resource or parameter Missing/);
    expect(() => resolve({ "Fn::GetAtt": ["Table", "Nope"] })).toThrow(/Table\.Nope/);
    expect(() => resolve({ "Fn::ImportValue": "x" })).toThrow(/does not resolve Fn::ImportValue/);
  });
});

describe("queue creation order", () => {
  it("creates every dead-letter target before the queues that redrive to it, along chains", async () => {
    const { orderQueuesForCreation } = await import("../../lib/local-aws/provision/queues.ts");
    const queue = (name: string, target?: string) => ({
      logicalId: name,
      queueName: name,
      queueUrl: `http://127.0.0.1:1/000000000000/${name}`,
      properties: target ? { RedrivePolicy: { deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:${target}`, maxReceiveCount: 3 } } : {},
    });
    const order = orderQueuesForCreation([queue("main", "dlq"), queue("dlq", "last"), queue("other"), queue("last")]).map((q) => q.queueName);
    expect(order.indexOf("last")).toBeLessThan(order.indexOf("dlq"));
    expect(order.indexOf("dlq")).toBeLessThan(order.indexOf("main"));
  });
});
