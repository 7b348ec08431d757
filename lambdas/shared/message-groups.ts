import type { SQSRecord } from "aws-lambda";

/**
 * FIFO message groups as a worker sees them. SQS hands a group's messages out in the order
 * they were sent, and none while one of the group is in flight; Lambda puts a group's
 * messages in a batch in that order. Keeping the order is then the worker's part: a message
 * that does not finish holds back every later message of its group in the batch, and those
 * must not be deleted (reported as failed) or acted on.
 */

/** The record's message group; undefined on a standard queue. */
export function messageGroup(record: SQSRecord): string | undefined {
  return record.attributes.MessageGroupId;
}

/** The records after a failed one of the same group, in batch order: they must fail too. */
export function heldBehind(records: readonly SQSRecord[], failed: ReadonlySet<SQSRecord>): SQSRecord[] {
  const blocked = new Set<string>();
  const held: SQSRecord[] = [];
  for (const record of records) {
    const group = messageGroup(record);
    if (group === undefined) continue;
    if (blocked.has(group)) {
      if (!failed.has(record)) held.push(record);
    } else if (failed.has(record)) blocked.add(group);
  }
  return held;
}

/**
 * Runs `work` for each item: items of one message group one after another, in batch order,
 * stopping at the first whose result does not `proceed` (the rest of its group are `held`);
 * groups, and items without a group, concurrently.
 */
export async function inGroupOrder<T extends { readonly record: SQSRecord }, R>(
  items: readonly T[],
  work: (item: T) => Promise<R>,
  proceed: (result: R) => boolean,
): Promise<{ readonly results: R[]; readonly held: T[] }> {
  const groups = new Map<string, T[]>();
  const loose: T[] = [];
  for (const item of items) {
    const group = messageGroup(item.record);
    if (group === undefined) loose.push(item);
    else groups.set(group, [...(groups.get(group) ?? []), item]);
  }
  const results: R[] = [];
  const held: T[] = [];
  await Promise.all([
    ...loose.map(async (item) => void results.push(await work(item))),
    ...[...groups.values()].map(async (members) => {
      for (const [index, item] of members.entries()) {
        const result = await work(item);
        results.push(result);
        if (!proceed(result)) {
          held.push(...members.slice(index + 1));
          return;
        }
      }
    }),
  ]);
  return { results, held };
}
