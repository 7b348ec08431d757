import { BatchGetCommand, BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { DataTable, Item, TableKey } from "./table.ts";

/** Waits before the next round of what DynamoDB left unprocessed: 50 ms, doubling, at most 1 s. */
const backoff = (round: number) => (round > 0 ? new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** round))) : undefined);

type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: TableKey } };

/** Runs write requests 25 per BatchWriteItem call, retrying with backoff what DynamoDB leaves unprocessed. */
async function writeAll(table: DataTable, all: WriteRequest[]): Promise<void> {
  for (let start = 0; start < all.length; start += 25) {
    let requests = all.slice(start, start + 25);
    for (let round = 0; requests.length > 0; round++) {
      await backoff(round);
      const { UnprocessedItems } = await table.client.send(new BatchWriteCommand({ RequestItems: { [table.name]: requests } }));
      requests = (UnprocessedItems?.[table.name] ?? []) as WriteRequest[];
    }
  }
}

/** Idempotent batched puts. */
export function putAll(table: DataTable, items: Item[]): Promise<void> {
  return writeAll(table, items.map((Item) => ({ PutRequest: { Item } })));
}

/** Idempotent batched deletes. */
export function deleteAll(table: DataTable, itemKeys: TableKey[]): Promise<void> {
  return writeAll(table, itemKeys.map((Key) => ({ DeleteRequest: { Key } })));
}

/**
 * The items at these distinct keys (DynamoDB refuses a repeated one), 100 per BatchGetItem call (eventually consistent: half the read
 * units), retrying with backoff what DynamoDB leaves unprocessed; in no particular order,
 * missing ones left out.
 */
export async function getAll(table: DataTable, itemKeys: readonly TableKey[]): Promise<Item[]> {
  const items: Item[] = [];
  for (let start = 0; start < itemKeys.length; start += 100) {
    let pending = itemKeys.slice(start, start + 100);
    for (let round = 0; pending.length > 0; round++) {
      await backoff(round);
      const { Responses, UnprocessedKeys } = await table.client.send(
        new BatchGetCommand({ RequestItems: { [table.name]: { Keys: pending } } }),
      );
      items.push(...(Responses?.[table.name] ?? []));
      pending = (UnprocessedKeys?.[table.name]?.Keys ?? []) as TableKey[];
    }
  }
  return items;
}
