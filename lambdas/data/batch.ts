import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { DataTable, Item, TableKey } from "./table.ts";

type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: TableKey } };

/** Runs write requests 25 per BatchWriteItem call, retrying with backoff what DynamoDB leaves unprocessed. */
async function writeAll(table: DataTable, all: WriteRequest[]): Promise<void> {
  for (let start = 0; start < all.length; start += 25) {
    let requests = all.slice(start, start + 25);
    for (let round = 0; requests.length > 0; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** round)));
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
