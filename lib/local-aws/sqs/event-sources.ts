import type { LocalFunction } from "../lambda/lambda-host.ts";
import type { LocalQueue } from "../provision/queues.ts";
import type { ResolvedTemplate } from "../template/resolve.ts";
import type { SqsEventSource } from "./sqs-poller.ts";

/** The template's event source mappings; each must read a queue of the stack into a function of the stack. */
export function eventSourcesOf(
  resolved: ResolvedTemplate,
  functions: readonly LocalFunction[],
  queues: readonly LocalQueue[],
): SqsEventSource[] {
  return resolved.ofType("AWS::Lambda::EventSourceMapping").map(([logicalId]) => {
    const props = resolved.properties(logicalId);
    const queue = queues.find((candidate) => candidate.arn === props["EventSourceArn"]);
    if (!queue) throw new Error(`Event source mapping ${logicalId}: only SQS queues of this stack are supported locally`);
    const name = String(props["FunctionName"]);
    const fn = functions.find((candidate) => candidate.functionName === name || candidate.functionArn === name);
    if (!fn) throw new Error(`Event source mapping ${logicalId}: function ${name} is not in this stack`);
    const scaling = props["ScalingConfig"] as { MaximumConcurrency?: number } | undefined;
    const responseTypes = (props["FunctionResponseTypes"] as string[] | undefined) ?? [];
    return {
      functionId: fn.logicalId,
      queueUrl: queue.url,
      queueArn: queue.arn,
      batchSize: Number(props["BatchSize"] ?? 10),
      maximumBatchingWindowSeconds: Number(props["MaximumBatchingWindowInSeconds"] ?? 0),
      reportBatchItemFailures: responseTypes.includes("ReportBatchItemFailures"),
      ...(scaling?.MaximumConcurrency ? { maximumConcurrency: scaling.MaximumConcurrency } : {}),
    };
  });
}
