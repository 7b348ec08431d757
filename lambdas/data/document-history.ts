import type { DocumentEvent } from "../domain/document-history.ts";
import { putAll } from "./batch.ts";
import { RETENTION_DAYS } from "./deliveries.ts";
import { keys, queries } from "./keys.ts";
import { queryPage } from "./query.ts";
import { entityOf, expiringAfter, TableStore, type Item } from "./table.ts";

export interface DocumentEventPage {
  readonly events: DocumentEvent[];
  readonly nextCursor: string | undefined;
}

/**
 * Each fiscal document's history: one item per event received with its documentKey.
 * Write protocol: dispatch writes a batch's items in one BatchWriteItem before it sends their
 * deliveries, so every webhook a receiver gets is in the history. The key is the event's
 * (acceptedAt, id): a re-dispatch of the same message overwrites its item with the deliveries
 * it sent this time.
 */
export class DocumentHistoryStore extends TableStore {
  async recordAll(events: readonly DocumentEvent[], now = new Date()): Promise<void> {
    await putAll(this.table, events.map((event) => documentEventItem(event, now)));
  }

  /** Oldest first (the order the events were injected); `cursor` comes from the previous page. */
  async list(tenantId: string, documentKey: string, limit: number, cursor?: string): Promise<DocumentEventPage> {
    const page = await queryPage(this.table, queries.documentEvents(tenantId, documentKey), limit, cursor);
    return { events: page.items.map(toDocumentEvent), nextCursor: page.nextCursor };
  }

  /** The newest `count` events, newest first. */
  async newest(tenantId: string, documentKey: string, count: number): Promise<DocumentEvent[]> {
    const page = await queryPage(this.table, { ...queries.documentEvents(tenantId, documentKey), newestFirst: true }, count);
    return page.items.map(toDocumentEvent);
  }
}

/** The item an event is filed as (its size is what the bench's cost model bills). */
export function documentEventItem(event: DocumentEvent, now: Date): Item {
  return {
    ...keys.documentEvent(event.tenantId, event.documentKey, event.acceptedAt, event.eventId),
    ...event,
    ...expiringAfter(now, RETENTION_DAYS.documentEvents),
  };
}

const toDocumentEvent = (item: Item) => entityOf<DocumentEvent>(item, DOCUMENT_EVENT_FIELDS);
const DOCUMENT_EVENT_FIELDS = {
  tenantId: true,
  documentKey: true,
  eventId: true,
  type: true,
  sequence: true,
  createdAt: true,
  acceptedAt: true,
  deliveries: true,
} as const;
