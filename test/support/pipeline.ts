import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { OUTPUTS } from "../../lambdas/contract/resources.ts";
import { startEphemeralProduct, type EphemeralProduct } from "../../lib/dev/ephemeral-product.ts";
import { receiverFactory, type Behaviour, type HttpsReceiver, type ReceiverFactory } from "../../lib/dev/https-receiver.ts";
import type { ProductRuntimeOptions } from "../../lib/dev/product.ts";
import { eventually } from "./eventually.ts";

export const PORTAL = "/portal/api/ext/webhook";

/**
 * The product for one test file, started before its tests and stopped after them, with
 * HTTPS receivers its delivery functions trust, and the steps pipeline tests share.
 */
export function pipelineFixture(options: Partial<ProductRuntimeOptions>) {
  const dir = mkdtempSync(path.join(tmpdir(), "fw-pipeline-"));
  let env: EphemeralProduct | undefined;
  let receivers: ReceiverFactory | undefined;
  const open: HttpsReceiver[] = [];
  beforeAll(async () => {
    receivers = await receiverFactory(dir);
    env = await startEphemeralProduct({ ...options, extraCaFile: receivers.caFile });
  });
  afterAll(async () => {
    await Promise.all(open.map((receiver) => receiver.close()));
    await env?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const started = () => {
    if (!env || !receivers) throw new Error("the product starts in beforeAll");
    return { env, receivers };
  };
  /** An HTTPS receiver on loopback, closed after the file's tests. */
  const receiver = async (behaviour?: Behaviour): Promise<HttpsReceiver> => {
    const receiving = await started().receivers.start(behaviour);
    open.push(receiving);
    return receiving;
  };
  /** A new tenant with these Portal subscriptions and a signing secret. */
  const tenantWith = async (subscriptions: readonly { evento: string; endpoint: string }[]) => {
    const tenant = await started().env.newTenant("pipeline");
    const ids: number[] = [];
    for (const subscription of subscriptions) {
      const created = await tenant.call("POST", PORTAL, subscription);
      expect(created.status).toBe(201);
      ids.push(((await created.json()) as { id: number }).id);
    }
    const { webhookSecret } = (await (await tenant.call("POST", "/webhooks/secret/regenerate")).json()) as { webhookSecret: string };
    return { ...tenant, ids, secret: webhookSecret };
  };
  /** Reasons of the events set aside so far, by original message id (each read from the queue once). */
  const setAside = new Map<string, string>();
  return {
    get env(): EphemeralProduct {
      return started().env;
    },
    receiver,
    tenantWith,
    /** A receiver answering with `behaviour` and a new tenant subscribed to it for one event type. */
    async subscriber(evento: string, behaviour?: Behaviour) {
      const hook = await receiver(behaviour);
      return { hook, tenant: await tenantWith([{ evento, endpoint: hook.url }]) };
    },
    /** Sends one message to the events queue, as a producer does; returns its message id. */
    async emit(body: string | Record<string, unknown>): Promise<string> {
      const { product } = started().env;
      const { MessageId } = await product.runtime.sqs.send(
        new SendMessageCommand({ QueueUrl: String(product.outputs[OUTPUTS.eventsQueueUrl]), MessageBody: typeof body === "string" ? body : JSON.stringify(body) }),
      );
      return String(MessageId);
    },
    /**
     * Sends events, in order, to the ordered (FIFO) events queue in one message group, as a
     * producer of a fiscal document's events does; ten per call, one call after another.
     */
    async emitInGroup(groupId: string, bodies: readonly Record<string, unknown>[]): Promise<void> {
      const { product } = started().env;
      for (let start = 0; start < bodies.length; start += 10) {
        await product.runtime.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: String(product.outputs[OUTPUTS.orderedEventsQueueUrl]),
            Entries: bodies.slice(start, start + 10).map((body, i) => ({
              Id: String(i),
              MessageBody: JSON.stringify(body),
              MessageGroupId: groupId,
              MessageDeduplicationId: String(body["id"] ?? `${start + i}`),
            })),
          }),
        );
      }
    },
    /** The `rejection-reason` of the event sent as `messageId`, once it is on the events dead-letter queue. */
    async setAsideReason(messageId: string): Promise<string> {
      const { product } = started().env;
      const queue = product.queue("eventsDeadLetterQueue");
      return eventually(async () => {
        const { Messages = [] } = await product.runtime.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ["All"] }),
        );
        for (const m of Messages) {
          const attributes = m.MessageAttributes ?? {};
          setAside.set(String(attributes["original-message-id"]?.StringValue), String(attributes["rejection-reason"]?.StringValue));
        }
        return setAside.get(messageId);
      }, 10_000);
    },
    /** Sends up to ten events in one SendMessageBatch call, so that they share a batch. */
    async emitBatch(bodies: readonly string[]): Promise<void> {
      const { product } = started().env;
      await product.runtime.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: String(product.outputs[OUTPUTS.eventsQueueUrl]),
          Entries: bodies.map((MessageBody, i) => ({ Id: String(i), MessageBody })),
        }),
      );
    },
  };
}
