import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import type { Item } from "./table.ts";

/** A conditional write either happened (with the attributes it asked back, if any) or met its condition false. */
export type ConditionalWrite = { readonly written: true; readonly attributes: Item | undefined } | { readonly written: false };

/**
 * Awaits a conditional put, update or delete: a failed condition is an outcome the store
 * decides about, every other error still throws.
 */
export async function conditionally(write: Promise<{ Attributes?: Item }>): Promise<ConditionalWrite> {
  try {
    return { written: true, attributes: (await write).Attributes };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return { written: false };
    throw error;
  }
}
