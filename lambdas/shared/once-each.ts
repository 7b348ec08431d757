/**
 * Loads each key at most once for the life of the returned function (a batch, in the
 * workers): concurrent callers of the same key share one request. Keys that are not
 * strings name their identity with `identify`.
 */
export function onceEach<K, V>(load: (key: K) => Promise<V>, identify: (key: K) => string = String): (key: K) => Promise<V> {
  const loaded = new Map<string, Promise<V>>();
  return (key) => {
    const identity = identify(key);
    let value = loaded.get(identity);
    if (!value) {
      value = load(key);
      loaded.set(identity, value);
    }
    return value;
  };
}
