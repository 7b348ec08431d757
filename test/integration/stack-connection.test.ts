import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUTPUTS } from "../../lambdas/contract/resources.ts";
import { connectToStack, outputsOfStack, stackSource } from "../../lib/dev/stack-connection.ts";

// A loopback CloudFormation that answers DescribeStacks in the query protocol the SDK speaks.
const requests: URLSearchParams[] = [];
const OUTPUT_VALUES = {
  [OUTPUTS.eventsQueueUrl]: "https://sqs.sa-east-1.amazonaws.com/123456789012/FiscalWebhooks-EventsQueue",
  [OUTPUTS.tableName]: "FiscalWebhooks-Data",
  [OUTPUTS.region]: "sa-east-1",
};
function describeStacksResponse(stackName: string): { status: number; body: string } {
  if (stackName !== "FiscalWebhooks") {
    return {
      status: 400,
      body: `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${stackName} does not exist</Message></Error><RequestId>r2</RequestId></ErrorResponse>`,
    };
  }
  const members = Object.entries(OUTPUT_VALUES)
    .map(([key, value]) => `<member><OutputKey>${key}</OutputKey><OutputValue>${value}</OutputValue></member>`)
    .join("");
  return {
    status: 200,
    body: `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${stackName}</StackName><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-01-01T00:00:00Z</CreationTime><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeStacksResponse>`,
  };
}

let server: Server;
const saved = { ...process.env };
beforeAll(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const form = new URLSearchParams(body);
      requests.push(form);
      const answer = describeStacksResponse(form.get("StackName") ?? "");
      response.writeHead(answer.status, { "content-type": "text/xml" }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.AWS_ACCESS_KEY_ID = "AKIDLOCAL";
  process.env.AWS_SECRET_ACCESS_KEY = "local";
  delete process.env.AWS_PROFILE;
});
afterAll(async () => {
  process.env = saved;
  await new Promise((resolve) => server.close(resolve));
});

describe("the CLIs' stack connection", () => {
  it("reads a deployed stack's outputs with DescribeStacks and reaches its region", async () => {
    const stack = await connectToStack({ stack: "FiscalWebhooks", region: "sa-east-1" });
    expect(requests.at(-1)?.get("Action")).toBe("DescribeStacks");
    expect(requests.at(-1)?.get("StackName")).toBe("FiscalWebhooks");
    expect(stack.output(OUTPUTS.eventsQueueUrl)).toBe(OUTPUT_VALUES[OUTPUTS.eventsQueueUrl]);
    expect(stack.output(OUTPUTS.tableName)).toBe("FiscalWebhooks-Data");
    expect(() => stack.output("Nope")).toThrow(/stack FiscalWebhooks has no output Nope/);
    expect(stack.local).toBeUndefined();
    const sqs = stack.sqs();
    expect(await sqs.config.region()).toBe("sa-east-1");
    sqs.destroy();
  });

  it("says which stack it could not describe", async () => {
    await expect(connectToStack({ stack: "Missing", region: "sa-east-1" })).rejects.toThrow(/cannot describe stack Missing: .*does not exist/);
  });

  it("takes --stack over --outputs, and the local runtime's file by default", () => {
    expect(stackSource({ stack: "S", region: "r", profile: "p", outputs: "o.json" }, ".local/outputs.json")).toEqual({ stack: "S", region: "r", profile: "p" });
    expect(stackSource({ outputs: "o.json" }, ".local/outputs.json")).toEqual({ outputs: "o.json" });
    expect(stackSource({}, ".local/outputs.json")).toEqual({ outputs: ".local/outputs.json" });
  });

  it("maps a stack's outputs like cdk deploy --outputs-file", () => {
    expect(outputsOfStack({ StackName: "S", StackStatus: "CREATE_COMPLETE", CreationTime: new Date(), Outputs: [{ OutputKey: "A", OutputValue: "1" }, { OutputKey: "B" }] })).toEqual({ A: "1" });
  });
});
