export interface ExpiringCacheOptions<V> {
  /** How long a loaded value may be used; 0 keeps nothing (every `get` loads). */
  readonly ttlSeconds: number;
  /** Most units held at once: a new value pushes out the ones loaded longest ago. */
  readonly capacity: number;
  /** A loaded value's units (at least 1; default 1, so capacity counts keys); one too heavy to fit is not kept. */
  readonly weigh?: (value: V) => number;
  /** The clock, in milliseconds (tests inject theirs). */
  readonly now?: () => number;
}

interface Entry<V> {
  readonly value: Promise<V>;
  readonly loadedAt: number;
  /** 1 while loading, then the value's weight. */
  weight: number;
}

/**
 * A keyed cache for the life of an execution environment whose values are at most `ttlSeconds`
 * old when used: an entry's age counts from the moment its load started, so whatever the load
 * read is never older than that. Concurrent callers of a key share one load; a failed load is
 * not kept.
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private held = 0;

  constructor(private readonly options: ExpiringCacheOptions<V>) {
    if (!(options.ttlSeconds >= 0) || !(options.capacity >= 1)) throw new RangeError("an expiring cache needs ttlSeconds ≥ 0 and capacity ≥ 1");
    this.ttlMs = options.ttlSeconds * 1000;
    this.now = options.now ?? Date.now;
  }

  /** The value of `key`: the one held if it is young enough, otherwise `load`'s, which is then held. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.loadedAt < this.ttlMs) return entry.value;
    return this.refresh(key, load);
  }

  /** `load`'s value whatever is held (a fresh read), held for the next `get`s. */
  refresh(key: string, load: () => Promise<V>): Promise<V> {
    const loadedAt = this.now();
    const value = load();
    if (this.ttlMs === 0) return value;
    const entry: Entry<V> = { value, loadedAt, weight: 1 };
    this.delete(key);
    this.entries.set(key, entry);
    this.held += entry.weight;
    this.trim();
    value.then(
      (loaded) => {
        if (this.entries.get(key) !== entry) return;
        const weight = Math.max(1, this.options.weigh?.(loaded) ?? 1);
        this.held += weight - entry.weight;
        entry.weight = weight;
        this.trim();
      },
      () => {
        if (this.entries.get(key) === entry) this.delete(key);
      },
    );
    return value;
  }

  /** Forgets `key` (after this environment changed what it read). */
  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.held -= entry.weight;
    this.entries.delete(key);
  }

  /** Keys held. */
  get size(): number {
    return this.entries.size;
  }

  /** Map keeps insertion order: the first key is the one loaded longest ago. */
  private trim(): void {
    while (this.held > this.options.capacity) this.delete(this.entries.keys().next().value!);
  }
}
