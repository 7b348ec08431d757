/**
 * Loads each key at most once for the life of the returned function (a batch, in the
 * workers): concurrent callers of the same key share one request.
 */
export function onceEach<V>(load: (key: string) => Promise<V>): (key: string) => Promise<V> {
  const loaded = new Map<string, Promise<V>>();
  return (key) => {
    let value = loaded.get(key);
    if (!value) {
      value = load(key);
      loaded.set(key, value);
    }
    return value;
  };
}
