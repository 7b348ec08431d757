import { Match, Template } from "aws-cdk-lib/assertions";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../lib/app.ts";
import { MAX_MESSAGE_BYTES } from "../../lib/aws/sqs-batch.ts";

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** The stack's template for these settings; these assertions read no bundle, so none is built. */
function synth(context: Record<string, unknown> = {}): Template {
  const outdir = mkdtempSync(path.join(tmpdir(), "fw-ops-"));
  outdirs.push(outdir);
  const { app, stack } = buildApp({ outdir, context: { "aws:cdk:bundling-stacks": [], ...context } });
  app.synth();
  return Template.fromStack(stack);
}

type Resource = { Properties: Record<string, any> };
const byId = (template: Template, type: string) => Object.entries(template.findResources(type)) as [string, Resource][];
const one = (template: Template, type: string, idPrefix: string): Resource => {
  const found = byId(template, type).filter(([id]) => id.startsWith(idPrefix));
  expect(found.map(([id]) => id)).toHaveLength(1);
  return found[0]![1];
};
/** The maximum concurrency of the mapping that reads `queue` (a queue's logical id prefix). */
const maxConcurrencyOf = (template: Template, queue: string) =>
  byId(template, "AWS::Lambda::EventSourceMapping").find(([, m]) =>
    JSON.stringify(m.Properties.EventSourceArn).includes(`"Queues${queue}`),
  )?.[1].Properties.ScalingConfig?.MaximumConcurrency;
/** The one metric an alarm reads, whether CloudFormation has it inline or as a labelled metric stat. */
const metricOf = (alarm: Record<string, any>) => alarm.Metrics?.[0]?.MetricStat?.Metric ?? alarm;
const alarmsOf = (template: Template) =>
  new Map(byId(template, "AWS::CloudWatch::Alarm").map(([id, alarm]) => [id.replace(/^Alarms/, "").replace(/[0-9A-F]{8}$/, ""), alarm.Properties]));

let template: Template;
beforeAll(() => {
  template = synth();
});

describe("concurrency", () => {
  it("caps every queue's event source mapping: dispatch 5, deliver 20, the DLQ indexer and jobs 2", () => {
    expect(maxConcurrencyOf(template, "EventsQueue")).toBe(5);
    expect(maxConcurrencyOf(template, "DeliveriesQueue")).toBe(20);
    expect(maxConcurrencyOf(template, "DeliveriesDeadLetterQueue")).toBe(2);
    expect(maxConcurrencyOf(template, "DeadLetterJobsQueue")).toBe(2);
    for (const [, fn] of byId(template, "AWS::Lambda::Function")) expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it("takes the caps and opt-in reserved concurrency per function group from settings", () => {
    const tuned = synth({ dispatchMaxConcurrency: "8", deliverMaxConcurrency: 40, deliverReservedConcurrency: "50", apiReservedConcurrency: 3 });
    expect(maxConcurrencyOf(tuned, "EventsQueue")).toBe(8);
    expect(maxConcurrencyOf(tuned, "DeliveriesQueue")).toBe(40);
    const reserved = Object.fromEntries(
      byId(tuned, "AWS::Lambda::Function").map(([id, fn]) => [id.replace(/Function[0-9A-F]{8}$/, ""), fn.Properties.ReservedConcurrentExecutions]),
    );
    expect(reserved.Deliver).toBe(50);
    expect(reserved.Dispatch).toBeUndefined();
    expect(reserved.Authorizer).toBe(3);
    expect(reserved.subscriptionsRoutes).toBe(3);
  });

  it("refuses a reservation that would throttle its queue's mapping", () => {
    expect(() => synth({ deliverReservedConcurrency: 10 })).toThrow(/reserved concurrency of deliver \(10\) is below its queue's maximum concurrency \(20\)/);
    expect(() => synth({ dispatchMaxConcurrency: 0 })).toThrow(/dispatchMaxConcurrency must be a positive integer/);
  });
});

describe("alarms", () => {
  it("covers the pipeline, the API and the dead letters", () => {
    expect([...alarmsOf(template).keys()].sort()).toEqual(
      [
        "Api5xx",
        "DeadLettersBacklog",
        "DeadLettersNotIndexed",
        "DeliveriesBacklog",
        "DeliverErrors",
        "DeliverThrottles",
        "DeliveriesExhausted",
        "DeliveriesQueueAge",
        "DeliverySuccessRatio",
        "DispatchErrors",
        "DispatchThrottles",
        "EventsQueueAge",
        "RejectedEvents",
        "StuckDeadLetterJobs",
        "StuckOrderedMessages",
        "UnindexableDeadLetters",
      ].sort(),
    );
  });

  it("pages the alarm topic, going red and back to OK, and says what each means and what to do", () => {
    const topic = Object.keys(template.findResources("AWS::SNS::Topic"));
    expect(topic).toHaveLength(1);
    for (const [name, alarm] of alarmsOf(template)) {
      expect(alarm.AlarmActions, name).toEqual([{ Ref: topic[0] }]);
      expect(alarm.OKActions, name).toEqual([{ Ref: topic[0] }]);
      expect(alarm.AlarmDescription, name).toMatch(/\. .+/);
    }
  });

  it("alarms on the delivery success ratio by outcome, only with traffic, below the threshold setting", () => {
    const ratio = alarmsOf(template).get("DeliverySuccessRatio")!;
    expect(ratio).toMatchObject({ ComparisonOperator: "LessThanThreshold", Threshold: 0.9, TreatMissingData: "notBreaching" });
    const metrics = ratio.Metrics as { Expression?: string; MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: unknown } } }[];
    expect(metrics.find((m) => m.Expression?.startsWith("IF("))?.Expression).toBe(
      "IF(delivered + retrying + exhausted > 0, delivered / (delivered + retrying + exhausted))",
    );
    const outcomes = metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
    expect(outcomes.map((m) => [m.Namespace, m.MetricName, m.Dimensions])).toEqual(
      ["delivered", "retrying", "exhausted"].map((outcome) => ["FiscalWebhooks", "Deliveries", [{ Name: "Outcome", Value: outcome }]]),
    );
    expect(alarmsOf(synth({ deliverySuccessRatioThreshold: "0.95" })).get("DeliverySuccessRatio")?.Threshold).toBe(0.95);
    expect(() => synth({ deliverySuccessRatioThreshold: 95 })).toThrow(/above 0 and at most 1/);
  });

  it("alarms on the rate of rejected events, so the alarm clears by itself", () => {
    const rejected = alarmsOf(template).get("RejectedEvents")!;
    const names = (rejected.Metrics as { MetricStat?: { Metric: { MetricName: string } } }[]).flatMap((m) => m.MetricStat?.Metric.MetricName ?? []);
    expect(names).toContain("NumberOfMessagesSent");
    expect(JSON.stringify(rejected.Metrics)).toContain("DIFF(FILL(visible, 0))");
  });

  it("reads Lambda errors and throttles, queue ages and the HTTP API's 5xx", () => {
    const alarms = alarmsOf(template);
    for (const name of ["DispatchErrors", "DeliverErrors"]) expect(metricOf(alarms.get(name)!)).toMatchObject({ Namespace: "AWS/Lambda", MetricName: "Errors" });
    for (const name of ["DispatchThrottles", "DeliverThrottles"]) expect(metricOf(alarms.get(name)!)).toMatchObject({ MetricName: "Throttles" });
    // An event is retried 5 × 3 minutes before SQS sets it aside: 20 minutes means a stalled queue.
    expect(alarms.get("EventsQueueAge")).toMatchObject({ Threshold: 1200 });
    // Each attempt is its own message: the longest single wait (10 h + 20 %, SQS's 12 h cap), plus 15 minutes.
    expect(alarms.get("DeliveriesQueueAge")).toMatchObject({ Threshold: 43_200 + 900 });
    expect(alarms.get("DeliveriesBacklog")).toMatchObject({ Threshold: 1000, EvaluationPeriods: 3 });
    for (const name of ["EventsQueueAge", "DeliveriesQueueAge"]) expect(metricOf(alarms.get(name)!)).toMatchObject({ MetricName: "ApproximateAgeOfOldestMessage" });
    expect(metricOf(alarms.get("Api5xx")!)).toMatchObject({ Namespace: "AWS/ApiGateway", MetricName: "5xx" });
    expect(metricOf(alarms.get("DeliveriesExhausted")!)).toMatchObject({ Namespace: "FiscalWebhooks", MetricName: "DeliveriesExhausted" });
  });

  it("notifies through an encrypted, TLS-only topic, e-mailing the alarmEmail setting", () => {
    template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]) },
    });
    template.hasResourceProperties("AWS::KMS::Key", {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: "cloudwatch.amazonaws.com" } })]) },
    });
    template.resourceCountIs("AWS::SNS::Subscription", 0);
    synth({ alarmEmail: "oncall@example.com" }).hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "oncall@example.com" });
    template.hasOutput("AlarmTopicArn", { Value: { Ref: Match.stringLikeRegexp("^AlarmsTopic") } });
  });
});

describe("the dashboard", () => {
  it("shows the pipeline's health on one screen", () => {
    const [dashboard] = byId(template, "AWS::CloudWatch::Dashboard");
    const body = JSON.stringify(dashboard?.[1].Properties.DashboardBody);
    for (const title of [
      "Alarms",
      "Deliveries by outcome",
      "Delivery success ratio",
      "End-to-end latency (ms)",
      "Receiver response time (ms)",
      "Queue depth (visible messages)",
      "Age of oldest message (s)",
      "Function errors",
      "Function throttles",
      "Function concurrency (max)",
      "API requests: 4xx and 5xx",
      "Dead letters",
    ]) {
      expect(body).toContain(`\\"title\\":\\"${title}\\"`);
    }
    expect(body).toContain("p99");
    template.hasOutput("DashboardName", { Value: { Ref: Match.stringLikeRegexp("^Dashboard") } });
  });
});

describe("producers", () => {
  it("get the events queues' addresses and a managed policy that may only send to them", () => {
    template.hasOutput("EventsQueueArn", { Value: { "Fn::GetAtt": [Match.stringLikeRegexp("^QueuesEventsQueue"), "Arn"] } });
    template.hasOutput("OrderedEventsQueueUrl", { Value: { Ref: Match.stringLikeRegexp("^QueuesOrderedEventsQueue") } });
    const policy = one(template, "AWS::IAM::ManagedPolicy", "ProducersPolicy");
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Effect: "Allow",
        Action: "sqs:SendMessage",
        Resource: [
          { "Fn::GetAtt": [expect.stringMatching(/^QueuesEventsQueue[0-9A-F]{8}$/), "Arn"] },
          { "Fn::GetAtt": [expect.stringMatching(/^QueuesOrderedEventsQueue[0-9A-F]{8}$/), "Arn"] },
        ],
      },
    ]);
    expect(policy.Properties.Roles ?? policy.Properties.Users ?? policy.Properties.Groups).toBeUndefined();
    template.hasOutput("ProducerPolicyArn", { Value: { Ref: Match.stringLikeRegexp("^ProducersPolicy") } });
  });

  it("in the accounts of producerAccountIds may send to the events queue", () => {
    const eventsPolicy = (t: Template) =>
      byId(t, "AWS::SQS::QueuePolicy").find(([id]) => id.startsWith("QueuesEventsQueuePolicy"))![1].Properties.PolicyDocument.Statement as {
        Sid?: string;
      }[];
    expect(eventsPolicy(template).some((s) => s.Sid === "ProducerAccounts")).toBe(false);
    const shared = eventsPolicy(synth({ producerAccountIds: ["111111111111", "222222222222"] })).find((s) => s.Sid === "ProducerAccounts");
    expect(shared).toMatchObject({
      Effect: "Allow",
      Action: "sqs:SendMessage",
      Principal: { AWS: [{ "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":iam::111111111111:root"]] }, { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":iam::222222222222:root"]] }] },
    });
    expect(eventsPolicy(synth({ producerAccountIds: "333333333333" })).find((s) => s.Sid === "ProducerAccounts")).toBeDefined();
    expect(() => synth({ producerAccountIds: "12345" })).toThrow(/not a 12-digit AWS account id/);
  });
});

describe("queues", () => {
  it("set the 256 KiB message size the functions assume on every queue", () => {
    const queues = byId(template, "AWS::SQS::Queue");
    expect(queues).toHaveLength(10);
    for (const [id, queue] of queues) expect(queue.Properties.MaximumMessageSize, id).toBe(MAX_MESSAGE_BYTES);
  });

  it("refuse a retry schedule that could outlast the deliveries queue's 14-day retention", () => {
    // 28 retries 12 hours apart (SQS's longest delay, which jitter cannot pass): 14 days, plus visibility timeouts.
    expect(() => synth({ retrySchedule: [0, ...Array<number>(28).fill(43_200)] })).toThrow(/14 days/);
    // 19 such retries fit: 9.5 days.
    expect(() => synth({ retrySchedule: [0, ...Array<number>(19).fill(43_200)] })).not.toThrow();
  });
});

describe("cdk.json", () => {
  it("holds every setting at the stack's default, so a plain cdk deploy changes nothing", () => {
    const { context } = JSON.parse(readFileSync("cdk.json", "utf8")) as { context: Record<string, unknown> };
    for (const name of ["retrySchedule", "deliveryTimeoutSeconds", "maxSubscriptionsPerTenant", "testWebhooksPerMinute", "endpointDisableAfterSeconds", "configCacheSeconds", "dispatchMaxConcurrency",
      "deliverMaxConcurrency", "deadLettersMaxConcurrency", "deliverReservedConcurrency", "deliverySuccessRatioThreshold", "alarmEmail", "producerAccountIds"]) {
      expect(context, name).toHaveProperty(name);
    }
    expect(synth(context).toJSON()).toEqual(template.toJSON());
  });
});
