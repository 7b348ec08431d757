import { Match, Template } from "aws-cdk-lib/assertions";
import { Queue } from "aws-cdk-lib/aws-sqs";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../lib/app.ts";
import { ROUTES } from "../../lambdas/contract/routes.ts";
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from "../../lambdas/domain/retry-schedule.ts";
import { ENV, TABLE_KEYS } from "../../lambdas/contract/resources.ts";

const outdirs: string[] = [];
function outdir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "fw-synth-"));
  outdirs.push(dir);
  return dir;
}
afterAll(() => outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

let template: Template;
beforeAll(() => {
  const { app, stack } = buildApp({ outdir: outdir() });
  app.synth();
  template = Template.fromStack(stack);
});

describe("the stack", () => {
  it("keeps data in one on-demand, encrypted, recoverable table with TTL and the overloaded index", () => {
    template.resourceCountIs("AWS::DynamoDB::Table", 1);
    template.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      Properties: {
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: "HASH" },
          { AttributeName: TABLE_KEYS.sortKey, KeyType: "RANGE" },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: TABLE_KEYS.timeToLive, Enabled: true },
        GlobalSecondaryIndexes: [
          Match.objectLike({
            IndexName: TABLE_KEYS.gsi1.indexName,
            KeySchema: [
              { AttributeName: TABLE_KEYS.gsi1.partitionKey, KeyType: "HASH" },
              { AttributeName: TABLE_KEYS.gsi1.sortKey, KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "ALL" },
          }),
        ],
      },
    });
  });

  it("has encrypted queues whose deliveries redrive after the retry schedule's attempts", () => {
    template.resourceCountIs("AWS::SQS::Queue", 10);
    const queues = template.findResources("AWS::SQS::Queue");
    for (const queue of Object.values(queues)) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    }
    const deliveries = Object.entries(queues).find(([id]) => id.startsWith("QueuesDeliveriesQueue"));
    // A safety net above the schedule: the deliver function counts attempts and moves exhausted deliveries itself.
    expect(deliveries?.[1].Properties.RedrivePolicy.maxReceiveCount).toBe(2 * DEFAULT_RETRY_SCHEDULE_SECONDS.length + 10);
    expect(deliveries?.[1].Properties.RedrivePolicy.deadLetterTargetArn).toEqual({
      "Fn::GetAtt": [expect.stringContaining("DeliveriesDeadLetterQueue"), "Arn"],
    });
    // Dead letters that cannot be indexed are set aside, not lost.
    const deadLetters = Object.entries(queues).find(([id]) => id.includes("DeliveriesDeadLetterQueue"));
    expect(deadLetters?.[1].Properties.RedrivePolicy.deadLetterTargetArn).toEqual({
      "Fn::GetAtt": [expect.stringContaining("UnindexableDeadLetterQueue"), "Arn"],
    });
    // The ordered path: FIFO queues, with the same safety net into a FIFO dead-letter queue.
    const ordered = Object.entries(queues).filter(([id]) => id.startsWith("QueuesOrdered"));
    expect(ordered.map(([, queue]) => queue.Properties.FifoQueue)).toEqual([true, true, true]);
    const orderedDeliveries = ordered.find(([id]) => id.startsWith("QueuesOrderedDeliveriesQueue"));
    // Received again with its group's first at each of that one's attempts: a net ten times higher.
    expect(orderedDeliveries?.[1].Properties.RedrivePolicy).toEqual({
      maxReceiveCount: 10 * (2 * DEFAULT_RETRY_SCHEDULE_SECONDS.length + 10),
      deadLetterTargetArn: { "Fn::GetAtt": [expect.stringContaining("OrderedDeadLetterQueue"), "Arn"] },
    });
  });

  it("refuses every queue request that is not over TLS", () => {
    template.resourceCountIs("AWS::SQS::QueuePolicy", 10);
    template.allResourcesProperties("AWS::SQS::QueuePolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Action: "sqs:*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });

  it("runs every function on Node.js 24, arm64, with a role of its own and no managed policy", () => {
    const functions = Object.values(template.findResources("AWS::Lambda::Function"));
    expect(functions.length).toBeGreaterThanOrEqual(2);
    const roles = new Set<string>();
    for (const fn of functions) {
      expect(fn.Properties.Runtime).toBe("nodejs24.x");
      expect(fn.Properties.Architectures).toEqual(["arm64"]);
      roles.add(JSON.stringify(fn.Properties.Role));
    }
    expect(roles.size).toBe(functions.length);
    for (const role of Object.values(template.findResources("AWS::IAM::Role"))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it("lets the authorizer only read single items of the table", () => {
    const authorizerPolicy = Object.entries(template.findResources("AWS::IAM::Policy")).find(([id]) =>
      id.startsWith("AuthorizerRole"),
    );
    const statements = authorizerPolicy?.[1].Properties.PolicyDocument.Statement as { Action: unknown }[];
    expect(statements.map((statement) => statement.Action)).toEqual([
      ["logs:CreateLogStream", "logs:PutLogEvents"],
      "dynamodb:GetItem",
    ]);
  });

  it("serves every route of the route table behind the Bearer-token authorizer", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "REQUEST",
      EnableSimpleResponses: true,
      AuthorizerPayloadFormatVersion: "2.0",
      AuthorizerResultTtlInSeconds: 0,
    });
    const routes = Object.values(template.findResources("AWS::ApiGatewayV2::Route"));
    // Every route of the table, plus $default, which serves the console's entry page and answers what matches none with a problem.
    expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual(
      [...ROUTES.map((route) => `${route.method} ${route.path}`), "$default"].sort(),
    );
    for (const route of routes) {
      const isPublic = ["GET /openapi.json", "GET /console", "GET /console/{asset}", "$default"].includes(route.Properties.RouteKey);
      expect(route.Properties.AuthorizationType).toBe(isPublic ? "NONE" : "CUSTOM");
    }
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it("gives the route families item-level table actions and no wildcard", () => {
    const policies = Object.entries(template.findResources("AWS::IAM::Policy"));
    const actionsOf = (prefix: string) =>
      policies
        .filter(([id]) => id.startsWith(prefix))
        .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const subscriptions = actionsOf("subscriptionsRoutes");
    expect(subscriptions.flatMap((s) => s.Action)).toEqual(
      expect.arrayContaining(["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"]),
    );
    expect(actionsOf("referenceRoutes").flatMap((s) => s.Action)).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
    // The console's function serves static files: its logs, and nothing else, not even the table's name.
    expect(actionsOf("consoleRoutes").flatMap((s) => s.Action)).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
    const consoleFunction = Object.entries(template.findResources("AWS::Lambda::Function")).find(([id]) => id.startsWith("consoleRoutes"));
    expect(consoleFunction?.[1].Properties.Environment?.Variables ?? {}).not.toHaveProperty(ENV.tableName);
    for (const [, policy] of policies) {
      expect(JSON.stringify(policy.Properties.PolicyDocument)).not.toMatch(/"\*"|:\*"|index\/\*/);
    }
  });

  it("lets the deliver function send to the deliveries queue, its DLQ and the events queue (operational events), and to no other queue", () => {
    const deliverStatements = Object.entries(template.findResources("AWS::IAM::Policy"))
      .filter(([id]) => id.startsWith("DeliverRoleDefaultPolicy"))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const sendsTo = deliverStatements
      .filter((statement) => [statement.Action].flat().includes("sqs:SendMessage"))
      .map((statement) => {
        expect(statement.Action).toBe("sqs:SendMessage");
        return (statement.Resource as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0].replace(/[0-9A-F]{8}$/, "");
      });
    expect(sendsTo.sort()).toEqual(["QueuesDeliveriesDeadLetterQueue", "QueuesDeliveriesQueue", "QueuesEventsQueue"]);
    const deliver = Object.entries(template.findResources("AWS::Lambda::Function")).find(([id]) => id.startsWith("DeliverFunction"))!;
    expect(deliver[1].Properties.Environment.Variables.EVENTS_QUEUE_URL).toEqual({ Ref: expect.stringMatching(/^QueuesEventsQueue/) });
  });

  it("drains the deliveries DLQ into the index and alarms on what operators must know", () => {
    const mappings = Object.values(template.findResources("AWS::Lambda::EventSourceMapping"));
    const sources = mappings.map((m) => JSON.stringify(m.Properties.EventSourceArn));
    for (const queue of ["EventsQueue", "DeliveriesQueue", "DeliveriesDeadLetterQueue", "DeadLetterJobsQueue"]) {
      expect(sources.some((s) => s.includes(queue))).toBe(true);
    }
    for (const mapping of mappings) expect(mapping.Properties.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "ApproximateAgeOfOldestMessage", Threshold: 900 });
  });

  it("outputs the API URL and the events queue URL", () => {
    template.hasOutput("ApiUrl", { Value: { "Fn::GetAtt": [Match.stringLikeRegexp("HttpApi"), "ApiEndpoint"] } });
    template.hasOutput("EventsQueueUrl", { Value: { Ref: Match.stringLikeRegexp("EventsQueue") } });
  });

  it("takes the retry schedule from context", () => {
    const { app, stack } = buildApp({ outdir: outdir(), context: { retrySchedule: "0,1,2" } });
    app.synth();
    const queues = Template.fromStack(stack).findResources("AWS::SQS::Queue");
    const deliveries = Object.entries(queues).find(([id]) => id.startsWith("QueuesDeliveriesQueue"));
    expect(deliveries?.[1].Properties.RedrivePolicy.maxReceiveCount).toBe(2 * 3 + 10);
    expect(() => buildApp({ outdir: outdir(), context: { retrySchedule: "0,x" } })).toThrow(/not a whole number/);
  });

  it("takes the receivers' time to answer from context, within bounds", () => {
    const { app, stack } = buildApp({ outdir: outdir(), context: { deliveryTimeoutSeconds: "5" } });
    app.synth();
    const functions = Object.values(Template.fromStack(stack).findResources("AWS::Lambda::Function"));
    const timeouts = functions.map((fn) => fn.Properties.Environment?.Variables?.DELIVERY_TIMEOUT_MS).filter(Boolean);
    expect(timeouts).toEqual(["5000", "5000"]);
    expect(() => buildApp({ outdir: outdir(), context: { deliveryTimeoutSeconds: "25" } })).toThrow(/from 1 to 20/);
  });

  it("gives dispatch and deliver, and only them, the age their warm caches may reach, 0 included", () => {
    const cacheSeconds = (context: Record<string, unknown>) => {
      const { app, stack } = buildApp({ outdir: outdir(), context: { "aws:cdk:bundling-stacks": [], ...context } });
      app.synth();
      const functions = Object.values(Template.fromStack(stack).findResources("AWS::Lambda::Function"));
      return functions.map((fn) => fn.Properties.Environment?.Variables?.CONFIG_CACHE_SECONDS).filter((value) => value !== undefined);
    };
    expect(cacheSeconds({})).toEqual(["10", "10"]);
    expect(cacheSeconds({ configCacheSeconds: "0" })).toEqual(["0", "0"]);
    expect(() => buildApp({ outdir: outdir(), context: { configCacheSeconds: "301" } })).toThrow(/from 0 to 300/);
    expect(() => buildApp({ outdir: outdir(), context: { configCacheSeconds: "-1" } })).toThrow(/from 0 to 300/);
  });
});

describe("cdk-nag AwsSolutions", () => {
  it("finds nothing in the stack", () => {
    const dir = outdir();
    buildApp({ outdir: dir }).app.synth();
    const report = JSON.parse(readFileSync(path.join(dir, "validation-report.json"), "utf8")) as {
      pluginReports: { pluginName: string; conclusion: string; violations: unknown[] }[];
    };
    // A clean run lists no plugin report at all; any violation would be listed here.
    expect(report.pluginReports.flatMap((r) => r.violations)).toEqual([]);
  });

  it("fails synthesis on a finding", () => {
    const { app, stack } = buildApp({ outdir: outdir() });
    new Queue(stack, "UnencryptedQueueWithoutDeadLetters", {});
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3[\s\S]*AwsSolutions-SQS4/);
  });
});
