export interface ExpiringCacheOptions {
  /** How long a loaded value may be used; 0 keeps nothing (every `get` loads). */
  readonly ttlSeconds: number;
  /** Most keys held at once: a new one pushes out the one loaded longest ago. */
  readonly maxEntries: number;
  /** The clock, in milliseconds (tests inject theirs). */
  readonly now?: () => number;
}

/**
 * A keyed cache for the life of an execution environment whose values are at most `ttlSeconds`
 * old when used: an entry's age counts from the moment its load started, so whatever the load
 * read is never older than that. Concurrent callers of a key share one load; a failed load is
 * not kept.
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { readonly value: Promise<V>; readonly loadedAt: number }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ExpiringCacheOptions) {
    if (!(options.ttlSeconds >= 0) || !(options.maxEntries >= 1)) throw new RangeError("an expiring cache needs ttlSeconds ≥ 0 and maxEntries ≥ 1");
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
    const entry = { value, loadedAt };
    this.entries.delete(key);
    this.entries.set(key, entry);
    // Map keeps insertion order: the first key is the one loaded longest ago.
    if (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }

  /** Forgets `key` (after this environment changed what it read). */
  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
