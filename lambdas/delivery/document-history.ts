import type { DocumentHistoryStore } from "../data/document-history.ts";
import type { DeliveryIdentity } from "../domain/delivery.ts";
import { documentEventOf, type DocumentEvent } from "../domain/document-history.ts";
import type { FiscalEvent } from "../domain/fiscal-event.ts";
import { logger } from "../shared/logger.ts";

/** The document history a dispatch batch adds: collected as its events are planned, written at once. */
export interface DocumentHistoryBatch<R> {
  /** Files the event under its document, with the deliveries planned for it; an event without a documentKey adds nothing. */
  add(record: R, event: FiscalEvent, acceptedAt: string, deliveries: readonly DeliveryIdentity[]): void;
  /**
   * Writes what was added in one BatchWriteItem (25 items a call), before any of its deliveries
   * is sent; returns the records whose history could not be written, to be retried whole.
   */
  write(): Promise<R[]>;
}

export function documentHistoryBatch<R>(store: DocumentHistoryStore): DocumentHistoryBatch<R> {
  const entries: { record: R; event: DocumentEvent }[] = [];
  return {
    add(record, event, acceptedAt, deliveries) {
      const documentEvent = documentEventOf(event, acceptedAt, deliveries);
      if (documentEvent) entries.push({ record, event: documentEvent });
    },
    async write() {
      if (entries.length === 0) return [];
      try {
        await store.recordAll(entries.map(({ event }) => event));
        return [];
      } catch (error) {
        logger.error("document history not written", { events: entries.length, error: error as Error });
        return entries.map(({ record }) => record);
      }
    },
  };
}
