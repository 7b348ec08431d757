import type { EventType } from "../domain/catalogue.ts";
import {
  DuplicateSubscriptionError,
  SubscriptionLimitError,
  SubscriptionNotFoundError,
  type Subscription,
  type SubscriptionDraft,
} from "../domain/subscriptions.ts";
import { conditionally } from "./conditional.ts";
import { keys, queries } from "./keys.ts";
import { queryAll, type KeyQuery } from "./query.ts";
import { attributeUpdate, entityOf, GSI1_PK, IF_ABSENT, IF_PRESENT, TableStore, type Item, type TableKey } from "./table.ts";

/**
 * A guard younger than this may belong to a create or change still in flight (its
 * subscription not yet written); older guards whose subscription does not match are
 * leftovers of an interrupted request and may be taken over.
 */
const GUARD_SETTLE_MS = 30_000;

interface Guard {
  readonly subscriptionId: number;
  readonly createdAt: string;
}

/**
 * Subscriptions with (event type, endpoint) unique per tenant and ids that are never
 * reused. There are no transactions (DynamoDB Local's npm stand-in has none, and they cost
 * double): uniqueness rests on a guard item written with a condition before the
 * subscription, every step is idempotent, and a crash between steps leaves at worst a
 * guard that a later request recognises as stale.
 */
export class SubscriptionStore extends TableStore {
  async create(tenantId: string, draft: SubscriptionDraft, limit: number, now = new Date()): Promise<Subscription> {
    const guardKey = keys.subscriptionGuard(tenantId, draft.evento, draft.endpointKey);
    const stale = await this.staleGuardOrThrow(tenantId, guardKey, draft, undefined, now);
    const id = await this.nextId();
    const slot = await this.claimSlot(tenantId, id, limit, now);
    const { authentication, maxPorSegundo, cnpjs, ...placement } = draft;
    const subscription: Subscription = {
      id,
      tenantId,
      ...placement,
      ...(authentication ? { authentication } : {}),
      ...(typeof maxPorSegundo === "number" ? { maxPorSegundo } : {}),
      ...(cnpjs ? { cnpjs } : {}),
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    };
    try {
      await this.claimGuard(guardKey, id, stale, now);
      await this.table.put({
        Item: { ...keys.subscription(tenantId, id), ...keys.subscriptionByEvent(tenantId, draft.evento, id), ...subscription, slot },
        ConditionExpression: IF_ABSENT,
      });
    } catch (error) {
      await this.releaseSlot(tenantId, slot, id);
      throw error;
    }
    return subscription;
  }

  async get(tenantId: string, id: number): Promise<Subscription | undefined> {
    const item = await this.table.get(keys.subscription(tenantId, id));
    return item ? toSubscription(item) : undefined;
  }

  async list(tenantId: string): Promise<Subscription[]> {
    return this.queryAll({ ...queries.subscriptions(tenantId), consistent: true });
  }

  /** The tenant's subscriptions to one event type (the fan-out's read). */
  async listForEvent(tenantId: string, eventType: EventType): Promise<Subscription[]> {
    return this.queryAll(queries.subscriptionsForEvent(tenantId, eventType));
  }

  async change(tenantId: string, id: number, draft: SubscriptionDraft, now = new Date()): Promise<Subscription> {
    const current = await this.get(tenantId, id);
    if (!current) throw new SubscriptionNotFoundError(id);
    const keyChanged = current.evento !== draft.evento || current.endpointKey !== draft.endpointKey;
    const newGuard = keys.subscriptionGuard(tenantId, draft.evento, draft.endpointKey);
    if (keyChanged) {
      const stale = await this.staleGuardOrThrow(tenantId, newGuard, draft, id, now);
      await this.claimGuard(newGuard, id, stale, now);
    }
    const update = await conditionally(
      this.table.update({
        Key: keys.subscription(tenantId, id),
        ...attributeUpdate(
          {
            evento: draft.evento,
            endpoint: draft.endpoint,
            endpointKey: draft.endpointKey,
            [GSI1_PK]: keys.subscriptionsForEvent(tenantId, draft.evento),
            updatedAt: now.toISOString(),
          },
          { authentication: draft.authentication, maxPorSegundo: draft.maxPorSegundo, cnpjs: draft.cnpjs },
        ),
        ConditionExpression: IF_PRESENT,
        ReturnValues: "ALL_NEW",
      }),
    );
    if (!update.written) {
      // Deleted meanwhile: release the guard this change claimed.
      if (keyChanged) await this.releaseGuard(newGuard, id);
      throw new SubscriptionNotFoundError(id);
    }
    if (keyChanged) await this.releaseGuard(keys.subscriptionGuard(tenantId, current.evento, current.endpointKey), id);
    return toSubscription(update.attributes ?? {});
  }

  async delete(tenantId: string, id: number): Promise<void> {
    const deletion = await conditionally(
      this.table.delete({
        Key: keys.subscription(tenantId, id),
        ConditionExpression: IF_PRESENT,
        ReturnValues: "ALL_OLD",
      }),
    );
    if (!deletion.written) throw new SubscriptionNotFoundError(id);
    const removed = toSubscription(deletion.attributes ?? {});
    await this.releaseGuard(keys.subscriptionGuard(tenantId, removed.evento, removed.endpointKey), id);
    const slot = deletion.attributes?.["slot"];
    if (typeof slot === "number") await this.releaseSlot(tenantId, slot, id);
  }

  /**
   * Slots make the cap exact under any concurrency: a subscription holds one of the
   * tenant's `limit` slot items, claimed with a conditional put before the subscription is
   * written and freed after it is deleted; no two subscriptions can hold one slot. A slot
   * whose subscription never appeared (its request died) is taken over once it is older
   * than GUARD_SETTLE_MS. Subscriptions made before slots existed hold none and use up
   * slots all the same.
   */
  private async claimSlot(tenantId: string, id: number, limit: number, now: Date): Promise<number> {
    const [slots, subscriptions] = await Promise.all([
      queryAll(this.table, { ...queries.subscriptionSlots(tenantId), consistent: true }),
      queryAll(this.table, { ...queries.subscriptions(tenantId), consistent: true }),
    ]);
    const usable = limit - subscriptions.filter((item) => item["slot"] === undefined).length;
    const held = new Map(slots.map((item) => [Number(item["slot"]), item]));
    const live = new Set(subscriptions.map((item) => Number(item["id"])));
    const abandoned = (item: Item) =>
      !live.has(Number(item["subscriptionId"])) && now.getTime() - Date.parse(String(item["createdAt"])) >= GUARD_SETTLE_MS;
    // After the limit was lowered a tenant may hold places above it: none is free until it is back under.
    if ([...held.values()].filter((item) => !abandoned(item)).length >= usable) throw new SubscriptionLimitError(limit);
    for (let slot = 0; slot < usable; slot++) {
      if (!held.has(slot) && (await this.putSlot(tenantId, slot, id, now))) return slot;
    }
    for (const [slot, item] of held) {
      if (slot < usable && abandoned(item) && (await this.putSlot(tenantId, slot, id, now, Number(item["subscriptionId"])))) return slot;
    }
    throw new SubscriptionLimitError(limit);
  }

  private async putSlot(tenantId: string, slot: number, id: number, now: Date, abandonedBy?: number): Promise<boolean> {
    const { written } = await conditionally(
      this.table.put({
        Item: { ...keys.subscriptionSlot(tenantId, slot), slot, subscriptionId: id, createdAt: now.toISOString() },
        ConditionExpression: abandonedBy === undefined ? IF_ABSENT : "subscriptionId = :abandoned",
        ...(abandonedBy === undefined ? {} : { ExpressionAttributeValues: { ":abandoned": abandonedBy } }),
      }),
    );
    return written;
  }

  private async releaseSlot(tenantId: string, slot: number, id: number): Promise<void> {
    await conditionally(
      this.table.delete({
        Key: keys.subscriptionSlot(tenantId, slot),
        ConditionExpression: "subscriptionId = :id",
        ExpressionAttributeValues: { ":id": id },
      }),
    );
  }

  /** Ids come from one atomic counter: unique across tenants and never handed out twice. */
  private async nextId(): Promise<number> {
    const { Attributes } = await this.table.update({
      Key: keys.subscriptionIdCounter(),
      UpdateExpression: "ADD #value :one",
      ExpressionAttributeNames: { "#value": "value" },
      ExpressionAttributeValues: { ":one": 1 },
      ReturnValues: "UPDATED_NEW",
    });
    return Number(Attributes?.["value"]);
  }

  /**
   * Reads the guard of (type, endpoint). Throws DuplicateSubscriptionError when it belongs
   * to a live subscription other than `self` (or to a request still in flight); returns
   * the id of a stale guard the caller may take over, or undefined when there is none.
   */
  private async staleGuardOrThrow(
    tenantId: string,
    guardKey: TableKey,
    draft: SubscriptionDraft,
    self: number | undefined,
    now: Date,
  ): Promise<number | undefined> {
    const item = await this.table.get(guardKey);
    if (!item) return undefined;
    const guard: Guard = { subscriptionId: Number(item["subscriptionId"]), createdAt: String(item["createdAt"]) };
    if (guard.subscriptionId === self) return guard.subscriptionId;
    const owner = await this.get(tenantId, guard.subscriptionId);
    const live = owner?.evento === draft.evento && owner.endpointKey === draft.endpointKey;
    const settling = now.getTime() - Date.parse(guard.createdAt) < GUARD_SETTLE_MS;
    // A young guard may belong to a change still between its guard and its update (its
    // subscription still shows the old key): treat it as taken, whatever its owner says.
    if (live || settling) throw new DuplicateSubscriptionError(guard.subscriptionId);
    return guard.subscriptionId;
  }

  private async claimGuard(guardKey: TableKey, id: number, stale: number | undefined, now: Date) {
    const claim = await conditionally(
      this.table.put({
        Item: { ...guardKey, subscriptionId: id, createdAt: now.toISOString() },
        ConditionExpression: stale === undefined ? IF_ABSENT : `${IF_ABSENT} OR subscriptionId = :stale`,
        ...(stale === undefined ? {} : { ExpressionAttributeValues: { ":stale": stale } }),
      }),
    );
    if (claim.written) return;
    // Another request claimed it between our read and our write.
    const taken = await this.table.get(guardKey);
    throw new DuplicateSubscriptionError(Number(taken?.["subscriptionId"]));
  }

  /** Already released, or taken over by another subscription: then there is nothing of ours to remove. */
  private async releaseGuard(guardKey: TableKey, id: number): Promise<void> {
    await conditionally(
      this.table.delete({
        Key: guardKey,
        ConditionExpression: "subscriptionId = :id",
        ExpressionAttributeValues: { ":id": id },
      }),
    );
  }

  private async queryAll(query: KeyQuery): Promise<Subscription[]> {
    return (await queryAll(this.table, query)).map(toSubscription);
  }
}

const toSubscription = (item: Item) =>
  entityOf<Subscription>(item, {
    id: true,
    tenantId: true,
    evento: true,
    endpoint: true,
    endpointKey: true,
    authentication: true,
    maxPorSegundo: true,
    cnpjs: true,
    createdAt: true,
    updatedAt: true,
  });
