import { CreateQueueCommand, GetQueueUrlCommand, QueueDoesNotExist, SetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ResolvedTemplate } from "../template/resolve.ts";

/** A queue of the stack as it runs locally. */
export interface LocalQueue {
  readonly logicalId: string;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

/** Creates every queue of the template, dead-letter targets first. */
export async function provisionQueues(client: SQSClient, resolved: ResolvedTemplate): Promise<LocalQueue[]> {
  const queues: LocalQueue[] = resolved.ofType("AWS::SQS::Queue").map(([logicalId]) => {
    const { ref, attributes } = resolved.physical(logicalId);
    return { logicalId, name: String(attributes["QueueName"]), url: ref, arn: String(attributes["Arn"]) };
  });
  const declarations: QueueDeclaration[] = queues.map((queue) => ({
    logicalId: queue.logicalId,
    queueName: queue.name,
    queueUrl: queue.url,
    properties: resolved.properties(queue.logicalId),
  }));
  for (const declaration of orderQueuesForCreation(declarations)) await provisionQueue(client, declaration);
  return queues;
}

/** An SQS queue as the template declares it, with intrinsics already resolved. */
export interface QueueDeclaration {
  readonly logicalId: string;
  readonly queueName: string;
  /** The URL on the emulator's endpoint origin (the emulator's own may use a host that does not resolve). */
  readonly queueUrl: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** Template properties that are SQS queue attributes of the same name. */
const QUEUE_ATTRIBUTES = [
  "ContentBasedDeduplication",
  "DelaySeconds",
  "MaximumMessageSize",
  "MessageRetentionPeriod",
  "ReceiveMessageWaitTimeSeconds",
  "VisibilityTimeout",
] as const;

/**
 * Creates the queue (idempotent), then sets every attribute the template declares, so a
 * queue persisted by an earlier run picks up changed settings (a new maxReceiveCount, say).
 * Encryption settings have no local meaning and are not applied.
 */
export async function provisionQueue(client: SQSClient, queue: QueueDeclaration): Promise<Record<string, string>> {
  const p = queue.properties;
  const attributes: Record<string, string> = {};
  for (const name of QUEUE_ATTRIBUTES) {
    if (p[name] !== undefined) attributes[name] = String(p[name]);
  }
  const redrive = p["RedrivePolicy"] as { deadLetterTargetArn?: string; maxReceiveCount?: number } | undefined;
  if (redrive) {
    if (!redrive.deadLetterTargetArn || !redrive.maxReceiveCount) {
      throw new Error(`Queue ${queue.logicalId}: RedrivePolicy needs deadLetterTargetArn and maxReceiveCount`);
    }
    attributes["RedrivePolicy"] = JSON.stringify({
      deadLetterTargetArn: redrive.deadLetterTargetArn,
      maxReceiveCount: Number(redrive.maxReceiveCount),
    });
  }
  // Whether a queue is FIFO is fixed when it is created; the rest is set afterwards, also on a
  // queue persisted by an earlier run (whose CreateQueue would be refused for differing attributes).
  if (!(await queueExists(client, queue.queueName))) {
    await client.send(new CreateQueueCommand({ QueueName: queue.queueName, ...(p["FifoQueue"] === true ? { Attributes: { FifoQueue: "true" } } : {}) }));
  }
  if (Object.keys(attributes).length > 0) {
    await client.send(new SetQueueAttributesCommand({ QueueUrl: queue.queueUrl, Attributes: attributes }));
  }
  return attributes;
}

async function queueExists(client: SQSClient, queueName: string): Promise<boolean> {
  try {
    await client.send(new GetQueueUrlCommand({ QueueName: queueName }));
    return true;
  } catch (error) {
    if (error instanceof QueueDoesNotExist) return false;
    throw error;
  }
}

/**
 * Dead-letter targets before the queues that redrive to them, along whole chains (a DLQ may
 * have a DLQ of its own), so a redrive policy never names a queue that does not exist yet.
 */
export function orderQueuesForCreation(queues: readonly QueueDeclaration[]): QueueDeclaration[] {
  const byName = new Map(queues.map((q) => [q.queueName, q]));
  const targetOf = (q: QueueDeclaration) =>
    (q.properties["RedrivePolicy"] as { deadLetterTargetArn?: string } | undefined)?.deadLetterTargetArn?.split(":").pop();
  const depth = (q: QueueDeclaration, seen = new Set<string>()): number => {
    const target = targetOf(q);
    const next = target === undefined ? undefined : byName.get(target);
    if (!next || seen.has(q.queueName)) return 0;
    seen.add(q.queueName);
    return 1 + depth(next, seen);
  };
  return [...queues].sort((a, b) => depth(a) - depth(b));
}
