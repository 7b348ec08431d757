import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { TABLE_KEYS } from "../contract/resources.ts";
import { CLAIM_EXPIRY_MS, type DeadLetter } from "../domain/dead-letter.ts";
import type { Delivery } from "../domain/delivery.ts";
import { InvalidCursorError } from "./deliveries.ts";
import { keys } from "./keys.ts";

/** A letter this caller holds: removing it later is conditional on still holding it. */
export interface ClaimedLetter extends DeadLetter {
  readonly claimedAt: string;
}

export interface DeadLetterPage {
  readonly letters: DeadLetter[];
  readonly nextCursor: string | undefined;
}

/**
 * The per-tenant index of the deliveries dead-letter queue. A letter is `dead` until a
 * retry or purge claims it (a conditional update, so concurrent calls never both act on
 * it); the claimer then acts and deletes it. A claim left by a request that died expires,
 * and the letter is listed and claimable again.
 */
export class DeadLetterStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Idempotent: indexing the same dead message twice leaves one letter. */
  async put(letter: DeadLetter): Promise<void> {
    const { delivery } = letter;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.deadLetter(delivery.tenantId, delivery.deliveryId),
          ...keys.deadLetterListing(delivery.tenantId, letter.failedAt, delivery.deliveryId),
          delivery,
          attempts: letter.attempts,
          lastError: letter.lastError,
          failedAt: letter.failedAt,
          state: "dead",
        },
        // A letter being retried is not overwritten by a late duplicate of its own message, but
        // is by the retried delivery dying again (it carries more attempts).
        ConditionExpression: "attribute_not_exists(pk) OR #state = :dead OR delivery.attemptsBefore < :before",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":dead": "dead", ":before": delivery.attemptsBefore },
      }),
    ).catch((error: unknown) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
  }

  /** Newest first, claimable letters only. */
  async list(tenantId: string, limit: number, cursor?: string, now = new Date()): Promise<DeadLetterPage> {
    const letters: DeadLetter[] = [];
    let start = cursor === undefined ? undefined : decodeCursor(cursor, tenantId);
    let last: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TABLE_KEYS.gsi1.indexName,
          KeyConditionExpression: "gsi1pk = :pk",
          FilterExpression: "#state = :dead OR claimedAt < :expired",
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: {
            ":pk": keys.deadLettersIndex(tenantId),
            ":dead": "dead",
            ":expired": new Date(now.getTime() - CLAIM_EXPIRY_MS).toISOString(),
          },
          ScanIndexForward: false,
          Limit: limit - letters.length,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      letters.push(...(page.Items ?? []).map(toDeadLetter));
      last = page.LastEvaluatedKey;
      start = last as Record<string, string> | undefined;
    } while (last && letters.length < limit);
    return {
      letters,
      nextCursor: last ? Buffer.from(JSON.stringify([last["gsi1sk"], last["sk"]]), "utf8").toString("base64url") : undefined,
    };
  }

  async get(tenantId: string, deliveryId: string): Promise<DeadLetter | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.deadLetter(tenantId, deliveryId), ConsistentRead: true }),
    );
    return Item ? toDeadLetter(Item) : undefined;
  }

  /** Claims a letter for this caller; undefined when it is gone or someone else holds it. */
  async claim(tenantId: string, deliveryId: string, now = new Date()): Promise<ClaimedLetter | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.deadLetter(tenantId, deliveryId),
          UpdateExpression: "SET #state = :claimed, claimedAt = :now",
          ConditionExpression: "#state = :dead OR claimedAt < :expired",
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: {
            ":claimed": "claimed",
            ":dead": "dead",
            ":now": now.toISOString(),
            ":expired": new Date(now.getTime() - CLAIM_EXPIRY_MS).toISOString(),
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return Attributes ? { ...toDeadLetter(Attributes), claimedAt: now.toISOString() } : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * Removes a letter its claimer has dealt with, unless it changed since the claim (it died
   * again and was re-indexed, or the claim expired and another caller took it).
   */
  async remove(letter: ClaimedLetter): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.deadLetter(letter.delivery.tenantId, letter.delivery.deliveryId),
          ConditionExpression: "claimedAt = :claimedAt",
          ExpressionAttributeValues: { ":claimedAt": letter.claimedAt },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

/** Cursors carry the index position only; the partition always comes from the caller's tenant. */
function decodeCursor(cursor: string, tenantId: string): Record<string, string> {
  try {
    const [gsi1sk, sk] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [unknown, unknown];
    const uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
    if (
      typeof gsi1sk === "string" &&
      typeof sk === "string" &&
      new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[0-9:.]+Z#${uuid}$`).test(gsi1sk) &&
      new RegExp(`^DEAD#${uuid}$`).test(sk)
    ) {
      return { gsi1pk: keys.deadLettersIndex(tenantId), gsi1sk, pk: keys.tenantPartition(tenantId), sk };
    }
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

function toDeadLetter(item: Record<string, unknown>): DeadLetter {
  return {
    delivery: item["delivery"] as Delivery,
    attempts: Number(item["attempts"]),
    lastError: String(item["lastError"]),
    failedAt: String(item["failedAt"]),
  };
}
