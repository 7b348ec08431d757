/**
 * Prices the DynamoDB and SQS requests the code actually made, as the local runtime's request
 * hook saw them, with cost-model.ts's prices and billing units. Pure apart from `sizeLater`,
 * which reads items back once a phase is over.
 */
import { BatchGetItemCommand, type AttributeValue, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { ObservedRequest } from "../lib/local-aws/runtime.ts";
import { PRICES, UNITS } from "./cost-model.ts";

/** FIFO queue requests, us-east-1, after the free tier (https://aws.amazon.com/sqs/pricing/). */
export const SQS_FIFO_PER_REQUEST = 0.5 / 1e6;

/** One priced line: a service, an operation (and for SQS the queue kind), its billed units. */
export interface RequestLine {
  readonly service: "SQS" | "DynamoDB";
  readonly component: string;
  readonly calls: number;
  readonly units: number;
  readonly unit: "requests" | "RRU" | "WRU";
  readonly dollars: number;
}

/** An item whose size the call does not show (UpdateItem, DeleteItem): billed once it is read back. */
interface Pending {
  readonly table: string;
  readonly key: Record<string, AttributeValue>;
  readonly component: string;
}

/** Accumulates the calls of one phase. */
export class RequestTally {
  private readonly lines = new Map<string, { service: RequestLine["service"]; component: string; calls: number; units: number; unit: RequestLine["unit"]; price: number }>();
  private readonly pending: Pending[] = [];
  /** ReceiveMessage calls that returned nothing: AWS's own pollers make theirs, a fixed cost not per delivery. */
  emptyReceives = 0;
  /** Calls answered with an error that is not billed (anything but a failed condition). */
  unbilledErrors = 0;

  add(call: ObservedRequest): void {
    const request = parse(call.requestBody);
    const response = call.status === 200 ? parse(call.responseBody) : undefined;
    const operation = call.operation ?? "<other>";
    const conditionFailed = call.status !== 200 && call.responseBody.toString("utf8").includes("ConditionalCheckFailed");
    if (call.status !== 200 && !conditionFailed) {
      this.unbilledErrors++;
      return;
    }
    if (call.service === "sqs") {
      const fifo = String(request["QueueUrl"] ?? "").endsWith(".fifo");
      if (operation === "ReceiveMessage" && ((response?.["Messages"] as unknown[] | undefined)?.length ?? 0) === 0) {
        this.emptyReceives++;
        return;
      }
      // Each 64 KiB chunk of a request's payload is billed as one request.
      const payload = operation === "ReceiveMessage" ? call.responseBody.length : operation.startsWith("SendMessage") ? call.requestBody.length : 0;
      const chunks = Math.max(1, Math.ceil(payload / UNITS.sqsChunkBytes));
      this.line("SQS", `${operation} (${fifo ? "FIFO" : "standard"})`, 1, chunks, "requests", fifo ? SQS_FIFO_PER_REQUEST : PRICES.sqsPerRequest);
      return;
    }
    const table = String(request["TableName"] ?? "");
    switch (operation) {
      case "GetItem": {
        const consistent = request["ConsistentRead"] === true;
        const item = response?.["Item"] as Item | undefined;
        this.read(`GetItem (${consistent ? "strong" : "eventual"})`, item ? itemBytes(item) : 0, consistent);
        return;
      }
      case "Query":
      case "Scan": {
        const consistent = request["ConsistentRead"] === true;
        const items = (response?.["Items"] as Item[] | undefined) ?? [];
        this.read(`${operation} (${consistent ? "strong" : "eventual"})`, items.reduce((sum, item) => sum + itemBytes(item), 0), consistent);
        return;
      }
      case "BatchGetItem": {
        const requested = Object.values((request["RequestItems"] as Record<string, { Keys?: unknown[]; ConsistentRead?: boolean }> | undefined) ?? {});
        const returned = Object.values((response?.["Responses"] as Record<string, Item[]> | undefined) ?? {}).flat();
        const consistent = requested.some((r) => r.ConsistentRead === true);
        const keys = requested.reduce((sum, r) => sum + (r.Keys?.length ?? 0), 0);
        // Each key is billed as its own GetItem; a key with no item at the minimum.
        for (const item of returned) this.read(`BatchGetItem (${consistent ? "strong" : "eventual"})`, itemBytes(item), consistent, 0);
        for (let i = returned.length; i < keys; i++) this.read(`BatchGetItem (${consistent ? "strong" : "eventual"})`, 0, consistent, 0);
        this.line("DynamoDB", `BatchGetItem (${consistent ? "strong" : "eventual"})`, 1, 0, "RRU", PRICES.dynamoPerReadUnit);
        return;
      }
      case "PutItem":
        this.line("DynamoDB", conditionFailed ? "PutItem (condition failed)" : "PutItem", 1, writeUnits(itemBytes(request["Item"] as Item)), "WRU", PRICES.dynamoPerWriteUnit);
        return;
      case "BatchWriteItem": {
        const writes = Object.entries((request["RequestItems"] as Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]> | undefined) ?? {});
        let units = 0;
        for (const [name, requests] of writes) {
          for (const entry of requests) {
            if (entry.PutRequest) units += writeUnits(itemBytes(entry.PutRequest.Item));
            else if (entry.DeleteRequest) this.pending.push({ table: name, key: entry.DeleteRequest.Key as unknown as Record<string, AttributeValue>, component: "BatchWriteItem delete" });
          }
        }
        this.line("DynamoDB", "BatchWriteItem", 1, units, "WRU", PRICES.dynamoPerWriteUnit);
        return;
      }
      case "UpdateItem":
      case "DeleteItem": {
        const component = `${operation}${conditionFailed ? " (condition failed)" : ""}`;
        // Billed on the larger of the item before and after: sized from the answer when it has
        // the whole item, read back after the phase otherwise.
        const whole = request["ReturnValues"] === "ALL_NEW" || request["ReturnValues"] === "ALL_OLD" ? (response?.["Attributes"] as Item | undefined) : undefined;
        if (whole) this.line("DynamoDB", component, 1, writeUnits(itemBytes(whole)), "WRU", PRICES.dynamoPerWriteUnit);
        else {
          this.line("DynamoDB", component, 1, 0, "WRU", PRICES.dynamoPerWriteUnit);
          this.pending.push({ table, key: request["Key"] as Record<string, AttributeValue>, component });
        }
        return;
      }
      default:
        this.line("DynamoDB", `${operation} (not priced)`, 1, 0, "WRU", 0);
    }
  }

  /**
   * Bills the writes whose item the call did not show at the size of that item now (at least
   * one unit: an item since deleted, or the item a delete removed, counts one).
   */
  async sizeLater(dynamodb: DynamoDBClient): Promise<void> {
    const sizes = new Map<string, number>();
    const id = (table: string, key: Record<string, AttributeValue>) =>
      [table, ...Object.keys(key).sort().map((name) => `${name}=${JSON.stringify(key[name])}`)].join("\n");
    const distinct = new Map(this.pending.map((p) => [id(p.table, p.key), p]));
    const byTable = new Map<string, Record<string, AttributeValue>[]>();
    for (const p of distinct.values()) byTable.set(p.table, [...(byTable.get(p.table) ?? []), p.key]);
    for (const [table, keys] of byTable) {
      for (let at = 0; at < keys.length; at += 100) {
        let request: Record<string, { Keys: Record<string, AttributeValue>[] }> | undefined = { [table]: { Keys: keys.slice(at, at + 100) } };
        while (request && Object.keys(request).length > 0) {
          const answer = await dynamodb.send(new BatchGetItemCommand({ RequestItems: request }));
          for (const item of answer.Responses?.[table] ?? []) {
            const key = Object.fromEntries(Object.keys(keys[0]!).map((name) => [name, item[name]!]));
            sizes.set(id(table, key), itemBytes(item as unknown as Item));
          }
          request = answer.UnprocessedKeys as typeof request;
        }
      }
    }
    for (const p of this.pending) {
      const bytes = sizes.get(id(p.table, p.key));
      this.line("DynamoDB", p.component, 0, bytes === undefined ? 1 : writeUnits(bytes), "WRU", PRICES.dynamoPerWriteUnit);
    }
    this.pending.length = 0;
  }

  /** Every line, and the Lambda lines added by the caller, in the order met. */
  result(): RequestLine[] {
    return [...this.lines.values()].map(({ price, ...line }) => ({ ...line, dollars: line.units * price }));
  }

  private read(component: string, bytes: number, consistent: boolean, calls = 1): void {
    // A strongly consistent read: one unit per 4 KiB, at least one; eventually consistent: half.
    const units = Math.max(1, Math.ceil(bytes / UNITS.readUnitBytes)) * (consistent ? 1 : 0.5);
    this.line("DynamoDB", component, calls, units, "RRU", PRICES.dynamoPerReadUnit);
  }

  private line(service: RequestLine["service"], component: string, calls: number, units: number, unit: RequestLine["unit"], price: number): void {
    const key = `${service}\n${component}`;
    const line = this.lines.get(key) ?? { service, component, calls: 0, units: 0, unit, price };
    line.calls += calls;
    line.units += units;
    this.lines.set(key, line);
  }
}

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / UNITS.writeUnitBytes));

type Item = Record<string, Record<string, unknown>>;

function parse(body: Buffer): Record<string, unknown> {
  try {
    return body.length === 0 ? {} : (JSON.parse(body.toString("utf8")) as Record<string, unknown>);
  } catch {
    return {};
  }
}

/** DynamoDB's item size, on the wire form (attribute names + values; see dynamoItemBytes in cost-model.ts). */
export function itemBytes(item: Item | undefined): number {
  if (!item) return 0;
  let total = 0;
  for (const [name, value] of Object.entries(item)) total += Buffer.byteLength(name, "utf8") + valueBytes(value);
  return total;
}

function valueBytes(value: Record<string, unknown>): number {
  const [type, inner] = Object.entries(value)[0] ?? ["NULL", true];
  switch (type) {
    case "S":
      return Buffer.byteLength(String(inner), "utf8");
    case "N":
      return numberBytes(String(inner));
    case "B":
      return Buffer.from(String(inner), "base64").length;
    case "SS":
      return (inner as string[]).reduce((sum, s) => sum + Buffer.byteLength(s, "utf8"), 0);
    case "NS":
      return (inner as string[]).reduce((sum, n) => sum + numberBytes(n), 0);
    case "BS":
      return (inner as string[]).reduce((sum, b) => sum + Buffer.from(b, "base64").length, 0);
    case "L":
      return 3 + (inner as Record<string, unknown>[]).reduce((sum, v) => sum + 1 + valueBytes(v), 0);
    case "M":
      return 3 + Object.entries(inner as Item).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k, "utf8") + valueBytes(v), 0);
    default:
      return 1;
  }
}

function numberBytes(n: string): number {
  const digits = n.replace(/^-/, "").replace(".", "").replace(/^0+/, "").replace(/0+$/, "");
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}
