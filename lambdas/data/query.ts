import { paginateQuery, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
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
