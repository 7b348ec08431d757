/**
 * What a million deliveries cost at AWS list price, derived from what the code does per
 * event and per delivery. Pure: every input is a parameter, so each line can be checked by hand.
 */

/**
 * Unit prices, us-east-1, on-demand, USD. From the AWS pricing pages
 * https://aws.amazon.com/lambda/pricing/ (Arm, first 7.5 billion GB-s tier),
 * https://aws.amazon.com/sqs/pricing/ (standard queues, after the free tier) and
 * https://aws.amazon.com/dynamodb/pricing/on-demand/ (Standard table class), as they stand
 * since the DynamoDB on-demand price cut of 1 November 2024 (figures taken 2024-11; check
 * the pages again before quoting them). Free tiers are left out.
 */
export const PRICES = {
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerRequest: 0.2 / 1e6,
  /** Each 64 KiB chunk of a request's payload is billed as one request. */
  sqsPerRequest: 0.4 / 1e6,
  dynamoPerWriteUnit: 0.625 / 1e6,
  dynamoPerReadUnit: 0.125 / 1e6,
} as const;

/** Billing units and the pipeline's fixed batch sizes (lib/stack.ts, lib/aws/sqs-batch.ts, lib/local-aws/sqs/sqs-poller.ts). */
export const UNITS = {
  sqsChunkBytes: 64 * 1024,
  readUnitBytes: 4 * 1024,
  writeUnitBytes: 1024,
  /** Event source mappings of both workers: batchSize 10. */
  eventsBatchSize: 10,
  deliveriesBatchSize: 10,
  /** SendMessageBatch and DeleteMessageBatch take at most 10 entries. */
  sqsBatchEntries: 10,
} as const;

/** DynamoDB item sizes in bytes (attribute names + values), and SQS message bodies. */
export interface PayloadSizes {
  readonly eventMessage: number;
  readonly deliveryMessage: number;
  readonly tenantItem: number;
  /** 0 when the tenant has no account webhook configuration (the read still costs its minimum). */
  readonly configItem: number;
  readonly secretItem: number;
  readonly subscriptionItem: number;
  readonly logItem: number;
  readonly dispatchedMarkerItem: number;
  /** A document history item whose event went nowhere; each delivery it names adds `documentDeliveryEntry`. */
  readonly documentEventItem: number;
  readonly documentDeliveryEntry: number;
}

export interface CostScenario {
  /** Deliveries per event: subscriptions (plus the account webhook) matching its type. */
  readonly fanOut: number;
  /** The producer sends `id`: dispatch claims it with one conditional write per event. */
  readonly producerIds: boolean;
  /** Distinct tenants in one events batch (1..10): dispatch reads each tenant once per batch. */
  readonly tenantsPerEventsBatch: number;
  /** Distinct tenants in one deliveries batch (1..10): deliver reads each secret once per batch. */
  readonly tenantsPerDeliveriesBatch: number;
  /** Billed duration of one invocation on a full batch. */
  readonly dispatchMsPerBatch: number;
  readonly deliverMsPerBatch: number;
  readonly dispatchMemoryMb: number;
  readonly deliverMemoryMb: number;
  readonly sizes: PayloadSizes;
  /**
   * Share (0..1) of the per-batch reads that warm functions still make (configCacheSeconds): a
   * function keeping nothing across batches reads each tenant of each batch (1, the default);
   * measured by the bench from the requests its run made.
   */
  readonly cacheMissRate?: { readonly dispatch: number; readonly deliver: number } | undefined;
  /** Share of events (0..1) that carry a documentKey and so are filed in their document's history; absent: none. */
  readonly documentKeyShare?: number | undefined;
  /** Deliveries to endpoints with a rate limit (measured by the rate-limit scenario); absent: none has one. */
  readonly rateLimited?: RateLimitedTraffic | undefined;
}

/** What holding deliveries to an endpoint's rate limit costs, per delivery to such an endpoint. */
export interface RateLimitedTraffic {
  /** Window updates (one per deliver batch and limited endpoint). */
  readonly updatesPerDelivery: number;
  /** Times a delivery was held back and sent back to the queue. */
  readonly heldPerDelivery: number;
}

export type Service = "SQS" | "Lambda" | "DynamoDB";

export interface CostLine {
  readonly service: Service;
  readonly component: string;
  /** Billed units per million deliveries (requests, GB-s, RRU or WRU). */
  readonly units: number;
  readonly unit: "requests" | "GB-s" | "RRU" | "WRU";
  readonly dollars: number;
}

export interface CostEstimate {
  readonly lines: readonly CostLine[];
  readonly total: number;
  readonly byService: Readonly<Record<Service, number>>;
}

const chunks = (bytes: number) => Math.max(1, Math.ceil(bytes / UNITS.sqsChunkBytes));
/** Strongly consistent read of one item: 1 RRU per 4 KiB, at least 1 (also for an item that is not there). */
const strongRead = (bytes: number) => Math.max(1, Math.ceil(bytes / UNITS.readUnitBytes));
/** Eventually consistent GetItem: half a unit per 4 KiB, at least one half. */
const eventualRead = (bytes: number) => 0.5 * strongRead(bytes);
/** Eventually consistent Query: half a unit per 4 KiB of all items returned, at least one half. */
const eventualQuery = (bytes: number) => 0.5 * Math.max(1, Math.ceil(bytes / UNITS.readUnitBytes));
const write = (bytes: number) => Math.max(1, Math.ceil(bytes / UNITS.writeUnitBytes));

/**
 * Per million deliveries. Per events batch (10 events, assumed full): the producer's
 * SendMessageBatch, the event source's ReceiveMessage and DeleteMessageBatch, one dispatch
 * invocation, and per distinct tenant (one event type each): GetItem of the tenant, Query of
 * the subscriptions index (eventually consistent, the only kind a GSI serves) and GetItem of
 * the config (both eventually consistent) — times the warm caches' miss rate when one is given. Per event: with a
 * producer id one conditional PutItem that claims it (no read).
 * Per deliveries batch (10, assumed full): one SendMessageBatch from dispatch, the event
 * source's ReceiveMessage and DeleteMessageBatch, one deliver invocation, one secret
 * GetItem per distinct tenant (strong; eventual, times the miss rate, with the warm cache). Per delivery: one log item put (BatchWriteItem); a
 * successful delivery writes no failure record and changes no visibility. Deliveries to an
 * endpoint with a rate limit add one or two schedule UpdateItems per batch and endpoint, and each time one
 * is held back it travels the deliveries queue once more (sent, received and deleted in batches
 * of ten, one more deliver invocation per ten); the rest add nothing (rateLimitLines). Events with
 * a documentKey add one history item each (documentHistoryLines); events without add nothing.
 */
export function estimateCostPerMillionDeliveries(scenario: CostScenario): CostEstimate {
  const { fanOut, sizes } = scenario;
  const deliveries = 1e6;
  const events = deliveries / fanOut;
  const eventBatches = events / UNITS.eventsBatchSize;
  const deliveryBatches = deliveries / UNITS.deliveriesBatchSize;
  const eventBatchBytes = UNITS.eventsBatchSize * sizes.eventMessage;
  const deliveryBatchBytes = UNITS.deliveriesBatchSize * sizes.deliveryMessage;
  const gbSeconds = (invocations: number, ms: number, mb: number) => invocations * (Math.ceil(ms) / 1000) * (mb / 1024);
  const missed = { dispatch: scenario.cacheMissRate?.dispatch ?? 1, deliver: scenario.cacheMissRate?.deliver ?? 1 };
  const dispatchReads = eventBatches * scenario.tenantsPerEventsBatch * missed.dispatch;

  const raw: Omit<CostLine, "dollars">[] = [
    { service: "SQS", component: "events: SendMessageBatch (producer)", unit: "requests", units: eventBatches * chunks(eventBatchBytes) },
    { service: "SQS", component: "events: ReceiveMessage (event source)", unit: "requests", units: eventBatches * chunks(eventBatchBytes) },
    { service: "SQS", component: "events: DeleteMessageBatch", unit: "requests", units: eventBatches },
    { service: "SQS", component: "deliveries: SendMessageBatch (dispatch)", unit: "requests", units: deliveryBatches * chunks(deliveryBatchBytes) },
    { service: "SQS", component: "deliveries: ReceiveMessage (event source)", unit: "requests", units: deliveryBatches * chunks(deliveryBatchBytes) },
    { service: "SQS", component: "deliveries: DeleteMessageBatch", unit: "requests", units: deliveryBatches },
    { service: "Lambda", component: "dispatch invocations", unit: "requests", units: eventBatches },
    {
      service: "Lambda",
      component: `dispatch duration (${scenario.dispatchMemoryMb} MB)`,
      unit: "GB-s",
      units: gbSeconds(eventBatches, scenario.dispatchMsPerBatch, scenario.dispatchMemoryMb),
    },
    { service: "Lambda", component: "deliver invocations", unit: "requests", units: deliveryBatches },
    {
      service: "Lambda",
      component: `deliver duration (${scenario.deliverMemoryMb} MB)`,
      unit: "GB-s",
      units: gbSeconds(deliveryBatches, scenario.deliverMsPerBatch, scenario.deliverMemoryMb),
    },
    {
      service: "DynamoDB",
      component: "dispatch: GetItem tenant (eventual)",
      unit: "RRU",
      units: dispatchReads * eventualRead(sizes.tenantItem),
    },
    {
      service: "DynamoDB",
      component: "dispatch: Query subscriptions gsi1 (eventual)",
      unit: "RRU",
      units: dispatchReads * eventualQuery(fanOut * sizes.subscriptionItem),
    },
    {
      service: "DynamoDB",
      component: "dispatch: GetItem config (eventual)",
      unit: "RRU",
      units: dispatchReads * eventualRead(sizes.configItem),
    },
    {
      service: "DynamoDB",
      component: "dispatch: conditional PutItem producer-id claim",
      unit: "WRU",
      units: scenario.producerIds ? events * write(sizes.dispatchedMarkerItem) : 0,
    },
    {
      service: "DynamoDB",
      component: `deliver: GetItem secret (${scenario.cacheMissRate ? "eventual, warm cache" : "strong"})`,
      unit: "RRU",
      units: deliveryBatches * scenario.tenantsPerDeliveriesBatch * missed.deliver * (scenario.cacheMissRate ? eventualRead : strongRead)(sizes.secretItem),
    },
    { service: "DynamoDB", component: "deliver: BatchWrite log item", unit: "WRU", units: deliveries * write(sizes.logItem) },
    ...documentHistoryLines(events * (scenario.documentKeyShare ?? 0), fanOut, sizes),
    ...rateLimitLines(deliveries, scenario.rateLimited),
  ];
  const lines = raw.map((line) => ({ ...line, dollars: line.units * price(line) }));
  const byService: Record<Service, number> = { SQS: 0, Lambda: 0, DynamoDB: 0 };
  for (const line of lines) byService[line.service] += line.dollars;
  return { lines, total: lines.reduce((sum, line) => sum + line.dollars, 0), byService };
}

/**
 * The line document histories add for `eventsWithKey` events that carry a documentKey, each
 * fanned out to `fanOut` endpoints: one item each (it names its deliveries), written in
 * dispatch's one BatchWriteItem per batch, which is billed per item; zero for events without.
 */
export function documentHistoryLines(
  eventsWithKey: number,
  fanOut: number,
  sizes: Pick<PayloadSizes, "documentEventItem" | "documentDeliveryEntry">,
): CostLine[] {
  const itemBytes = sizes.documentEventItem + fanOut * sizes.documentDeliveryEntry;
  const line: Omit<CostLine, "dollars"> = {
    service: "DynamoDB",
    component: "dispatch: BatchWrite document history item (events with a documentKey)",
    unit: "WRU",
    units: eventsWithKey * write(itemBytes),
  };
  return [{ ...line, dollars: line.units * price(line) }];
}

/** The lines rate limits add for `deliveries` deliveries: all zero when no endpoint has a limit. */
export function rateLimitLines(deliveries: number, traffic: RateLimitedTraffic | undefined): CostLine[] {
  const updates = deliveries * (traffic?.updatesPerDelivery ?? 0);
  const held = deliveries * (traffic?.heldPerDelivery ?? 0);
  const raw: Omit<CostLine, "dollars">[] = [
    { service: "DynamoDB", component: "deliver: UpdateItem rate schedule (limited endpoints)", unit: "WRU", units: updates * write(RATE_SCHEDULE_ITEM_BYTES) },
    { service: "SQS", component: "deliveries: held back, sent again, received, deleted", unit: "requests", units: (3 * held) / UNITS.sqsBatchEntries },
    { service: "Lambda", component: "deliver invocations for held-back deliveries", unit: "requests", units: held / UNITS.deliveriesBatchSize },
  ];
  return raw.map((line) => ({ ...line, dollars: line.units * price(line) }));
}

/** A rate schedule item: its keys, `nextSlot` and `expiresAt`, well under one write unit. */
const RATE_SCHEDULE_ITEM_BYTES = 150;

function price(line: Omit<CostLine, "dollars">): number {
  switch (line.unit) {
    case "GB-s":
      return PRICES.lambdaArmPerGbSecond;
    case "RRU":
      return PRICES.dynamoPerReadUnit;
    case "WRU":
      return PRICES.dynamoPerWriteUnit;
    case "requests":
      return line.service === "SQS" ? PRICES.sqsPerRequest : PRICES.lambdaPerRequest;
  }
}

/**
 * DynamoDB's item size (developer guide, "Item sizes and formats"): UTF-8 bytes of each
 * attribute name plus its value; numbers about 1 byte per two significant digits plus 1;
 * booleans and null 1; lists and maps 3 bytes plus 1 per element plus their contents.
 */
export function dynamoItemBytes(item: Readonly<Record<string, unknown>>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) total += Buffer.byteLength(name, "utf8") + valueBytes(value);
  return total;
}

function valueBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === "boolean") return 1;
  if (typeof value === "string") return Buffer.byteLength(value, "utf8");
  if (typeof value === "number" || typeof value === "bigint") {
    const digits = String(value).replace(/^-/, "").replace(".", "").replace(/^0+/, "").replace(/0+$/, "");
    return Math.ceil(Math.max(1, digits.length) / 2) + 1;
  }
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce((sum: number, v: unknown) => sum + valueBytes(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v: unknown) => sum + 1 + valueBytes(v), 0);
  if (typeof value === "object") {
    return 3 + Object.entries(value).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k, "utf8") + valueBytes(v), 0);
  }
  return 0;
}
