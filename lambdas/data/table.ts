import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DeleteCommandInput,
  type DynamoDBDocumentClient,
  type PutCommandInput,
  type UpdateCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { TABLE_KEYS } from "../contract/resources.ts";

/**
 * The single table as the stores see it. Attribute and index names come from TABLE_KEYS
 * (which the stack declares the table with), so expressions and items never spell them.
 */
export const PK = TABLE_KEYS.partitionKey;
export const SK = TABLE_KEYS.sortKey;
export const GSI1 = TABLE_KEYS.gsi1.indexName;
export const GSI1_PK = TABLE_KEYS.gsi1.partitionKey;
export const GSI1_SK = TABLE_KEYS.gsi1.sortKey;
export const TTL = TABLE_KEYS.timeToLive;

export type Item = Record<string, unknown>;
export type TableKey = { readonly [PK]: string; readonly [SK]: string };
export type IndexKey = { readonly [GSI1_PK]: string; readonly [GSI1_SK]: string };

export const tableKey = (partition: string, sort: string): TableKey => ({ [PK]: partition, [SK]: sort });
export const indexKey = (partition: string, sort: string): IndexKey => ({ [GSI1_PK]: partition, [GSI1_SK]: sort });

/**
 * The domain object an item holds. Items are written as their keys plus the object, so
 * reading one back is taking its fields; naming every field of T (the compiler checks the
 * list is whole) keeps keys and bookkeeping attributes out of it.
 */
export function entityOf<T>(item: Item, fields: { readonly [K in keyof Required<T>]: true }): T {
  return Object.fromEntries(Object.keys(fields).flatMap((field) => (item[field] === undefined ? [] : [[field, item[field]]]))) as T;
}

/** Conditions on whether the item a write addresses exists. */
export const IF_ABSENT = `attribute_not_exists(${PK})`;
export const IF_PRESENT = `attribute_exists(${PK})`;

/**
 * An update of the attributes in `sets`, and of the `optional` ones as PUT and PATCH treat the
 * options a client of the original documents never sends: a value sets one, null removes it,
 * undefined leaves it as it is. Names and values go through placeholders.
 */
export function attributeUpdate(
  sets: Readonly<Record<string, unknown>>,
  optional: Readonly<Record<string, unknown>> = {},
): { UpdateExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> } {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const assignments: string[] = [];
  const removals: string[] = [];
  const changes = [...Object.entries(sets), ...Object.entries(optional).filter(([, value]) => value !== undefined)];
  changes.forEach(([name, value], index) => {
    names[`#u${index}`] = name;
    if (value === null) removals.push(`#u${index}`);
    else {
      values[`:u${index}`] = value;
      assignments.push(`#u${index} = :u${index}`);
    }
  });
  const clauses = [assignments.length ? `SET ${assignments.join(", ")}` : "", removals.length ? `REMOVE ${removals.join(", ")}` : ""];
  return { UpdateExpression: clauses.filter(Boolean).join(" "), ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

const DAY_SECONDS = 86_400;

/** The TTL attribute of an item DynamoDB deletes `days` after `from`. */
export function expiringAfter(from: Date, days: number): { readonly [TABLE_KEYS.timeToLive]: number } {
  return { [TABLE_KEYS.timeToLive]: Math.floor(from.getTime() / 1000) + days * DAY_SECONDS };
}

/** The table a store works on: its client and name, and the single-item operations. */
export class DataTable {
  constructor(
    readonly client: DynamoDBDocumentClient,
    readonly name: string,
  ) {}

  /** One item by its key; consistent unless the caller can live with a second of staleness. */
  async get(key: TableKey, consistent = true): Promise<Item | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: consistent }));
    return Item;
  }

  put(input: Omit<PutCommandInput, "TableName">) {
    return this.client.send(new PutCommand({ TableName: this.name, ...input }));
  }

  update(input: Omit<UpdateCommandInput, "TableName">) {
    return this.client.send(new UpdateCommand({ TableName: this.name, ...input }));
  }

  delete(input: Omit<DeleteCommandInput, "TableName">) {
    return this.client.send(new DeleteCommand({ TableName: this.name, ...input }));
  }
}

/** What every store is built on; stores are constructed from the document client and the table's name. */
export abstract class TableStore {
  protected readonly table: DataTable;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.table = new DataTable(client, tableName);
  }
}
