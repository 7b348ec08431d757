import { paginateQuery, QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { decodeCursor, encodeCursor, type CursorBinding } from "./cursor.ts";
import { GSI1, GSI1_PK, GSI1_SK, PK, SK, type DataTable, type Item } from "./table.ts";

/** A query of one partition of the table or of its index. */
export interface KeyQuery {
  /** Queries the overloaded index instead of the table. */
  readonly byIndex?: boolean;
  readonly partition: string;
  readonly sortKeyPrefix?: string;
  readonly newestFirst?: boolean;
  readonly consistent?: boolean;
  /** Reads the table key of each item only. */
  readonly keysOnly?: boolean;
  readonly filter?: {
    readonly expression: string;
    readonly names?: Readonly<Record<string, string>>;
    readonly values: Readonly<Record<string, unknown>>;
  };
}

/** A query that is served a page at a time, its cursors bound to it. */
export interface Listing extends KeyQuery {
  /** Names the listing in its cursors, so one listing's cursor is refused by another. */
  readonly name: string;
  /** The key attributes a cursor carries besides the partition queried, each with its shape. */
  readonly position: Readonly<Record<string, RegExp>>;
  /** Key attributes of a position that follow from the caller, besides the partition queried. */
  readonly implied?: Readonly<Record<string, string>>;
}

/**
 * A listing written over several partitions (write sharding), read as one: every partition
 * sorts the same way, so a page is the first `limit` items of their merge, and one sort-key
 * position continues it in each of them. `partition` names the listing's scope in cursors.
 */
export interface ShardedListing extends Listing {
  readonly partitions: readonly string[];
  readonly position: { readonly [SK]: RegExp };
}

export interface Page {
  readonly items: Item[];
  readonly nextCursor: string | undefined;
}

/** Every item the query matches, following DynamoDB's pages. */
export async function queryAll(table: DataTable, query: KeyQuery): Promise<Item[]> {
  const items: Item[] = [];
  for await (const page of paginateQuery({ client: table.client }, inputOf(table.name, query))) items.push(...(page.Items ?? []));
  return items;
}

/**
 * Up to `limit` items after `cursor` (throws InvalidCursorError for a cursor this listing
 * did not issue). Without a filter a page is one DynamoDB page, so it stays bounded by 1 MB
 * too; with one, pages are read until `limit` items match (filtered items would otherwise
 * make short or empty pages), and the cursor then points after the last item returned.
 */
export async function queryPage(
  table: DataTable,
  listing: Listing,
  limit: number,
  cursor?: string,
): Promise<Page> {
  const binding = bindingOf(listing);
  const input = inputOf(table.name, listing);
  if (cursor !== undefined) input.ExclusiveStartKey = decodeCursor(binding, cursor);
  const items: Item[] = [];
  let last: Item | undefined;
  for await (const page of paginateQuery({ client: table.client, pageSize: limit }, input)) {
    items.push(...(page.Items ?? []));
    last = page.LastEvaluatedKey;
    if (!listing.filter || items.length >= limit) break;
  }
  if (items.length > limit) {
    items.length = limit;
    last = items[limit - 1];
  }
  return { items, nextCursor: last ? encodeCursor(binding, last) : undefined };
}

/**
 * A page of a sharded listing: each partition queried from the cursor's position on (at most
 * `limit` items each, in parallel), the results merged, the first `limit` kept. A partition
 * whose query stopped short (DynamoDB's 1 MB) bounds the page: nothing past its last item is
 * returned before it has been read further.
 */
export async function queryShardedPage(table: DataTable, listing: ShardedListing, limit: number, cursor?: string): Promise<Page> {
  const binding = bindingOf(listing);
  const after = cursor === undefined ? undefined : String(decodeCursor(binding, cursor)[SK]);
  const before = (a: string, b: string) => (listing.newestFirst ? a > b : a < b);
  const reads = await Promise.all(
    listing.partitions.map(async (partition) => {
      const input = inputOf(table.name, { ...listing, partition });
      if (after !== undefined) {
        // From the position on, within the listing's prefix (the position itself excluded below).
        const [low, high] = listing.newestFirst ? [listing.sortKeyPrefix ?? "", after] : [after, `${listing.sortKeyPrefix ?? ""}\uffff`];
        input.KeyConditionExpression = `${PK} = :partition AND ${SK} BETWEEN :low AND :high`;
        input.ExpressionAttributeValues = { ":partition": partition, ":low": low, ":high": high };
      }
      const { Items = [], LastEvaluatedKey } = await table.client.send(new QueryCommand({ ...input, Limit: limit + 1 }));
      const items = Items.filter((item) => item[SK] !== after);
      return { items, more: LastEvaluatedKey !== undefined || items.length > limit, stoppedAt: LastEvaluatedKey ? String(Items.at(-1)?.[SK]) : undefined };
    }),
  );
  const bound = reads.flatMap(({ items, stoppedAt }) => (stoppedAt !== undefined && items.length < limit ? [stoppedAt] : []));
  const merged = reads
    .flatMap(({ items }) => items)
    .filter((item) => bound.every((edge) => !before(edge, String(item[SK]))))
    .sort((a, b) => (before(String(a[SK]), String(b[SK])) ? -1 : 1));
  const items = merged.slice(0, limit);
  const more = merged.length > limit || reads.some(({ more }) => more);
  return { items, nextCursor: more && items.length > 0 ? encodeCursor(binding, items.at(-1)!) : undefined };
}

function bindingOf(listing: Listing): CursorBinding {
  return {
    listing: listing.name,
    scope: { [listing.byIndex ? GSI1_PK : PK]: listing.partition, ...listing.implied },
    position: listing.position,
  };
}

function inputOf(tableName: string, query: KeyQuery): QueryCommandInput {
  const [partitionKey, sortKey] = query.byIndex ? [GSI1_PK, GSI1_SK] : [PK, SK];
  return {
    TableName: tableName,
    ...(query.byIndex ? { IndexName: GSI1 } : {}),
    KeyConditionExpression: `${partitionKey} = :partition${query.sortKeyPrefix === undefined ? "" : ` AND begins_with(${sortKey}, :prefix)`}`,
    ExpressionAttributeValues: {
      ":partition": query.partition,
      ...(query.sortKeyPrefix === undefined ? {} : { ":prefix": query.sortKeyPrefix }),
      ...query.filter?.values,
    },
    ...(query.filter ? { FilterExpression: query.filter.expression } : {}),
    ...(query.filter?.names ? { ExpressionAttributeNames: { ...query.filter.names } } : {}),
    ...(query.newestFirst ? { ScanIndexForward: false } : {}),
    ...(query.consistent ? { ConsistentRead: true } : {}),
    ...(query.keysOnly ? { ProjectionExpression: `${PK}, ${SK}` } : {}),
  };
}
