import { describe, expect, it } from "vitest";
import { ExpiringCache } from "../../lambdas/shared/expiring-cache.ts";

function counting() {
  let loads = 0;
  return {
    load: (value: string) => () => {
      loads++;
      return Promise.resolve(value);
    },
    get loads() {
      return loads;
    },
  };
}

describe("the expiring cache", () => {
  it("serves a value until it is ttlSeconds old, counted from when its load started, then loads again", async () => {
    let now = 1_000;
    const cache = new ExpiringCache<string>({ ttlSeconds: 10, capacity: 10, now: () => now });
    const source = counting();
    expect(await cache.get("a", source.load("v1"))).toBe("v1");
    now += 9_999;
    expect(await cache.get("a", source.load("v2"))).toBe("v1");
    expect(source.loads).toBe(1);
    now += 1;
    expect(await cache.get("a", source.load("v2"))).toBe("v2");
    expect(source.loads).toBe(2);
  });

  it("with ttlSeconds 0 keeps nothing: every get loads", async () => {
    const cache = new ExpiringCache<string>({ ttlSeconds: 0, capacity: 10, now: () => 0 });
    const source = counting();
    await cache.get("a", source.load("v1"));
    expect(await cache.get("a", source.load("v2"))).toBe("v2");
    expect(source.loads).toBe(2);
    expect(cache.size).toBe(0);
  });

  it("shares one load among concurrent callers of a key", async () => {
    const cache = new ExpiringCache<string>({ ttlSeconds: 10, capacity: 10, now: () => 0 });
    let release: (value: string) => void = () => undefined;
    let loads = 0;
    const load = () => {
      loads++;
      return new Promise<string>((resolve) => (release = resolve));
    };
    const both = Promise.all([cache.get("a", load), cache.get("a", load)]);
    release("v");
    expect(await both).toEqual(["v", "v"]);
    expect(loads).toBe(1);
  });

  it("does not keep a failed load", async () => {
    const cache = new ExpiringCache<string>({ ttlSeconds: 10, capacity: 10, now: () => 0 });
    await expect(cache.get("a", () => Promise.reject(new Error("throttled")))).rejects.toThrow("throttled");
    expect(await cache.get("a", () => Promise.resolve("v"))).toBe("v");
  });

  it("refresh reads afresh whatever is held and keeps the new value; delete forgets", async () => {
    const cache = new ExpiringCache<string>({ ttlSeconds: 10, capacity: 10, now: () => 0 });
    const source = counting();
    await cache.get("a", source.load("old"));
    expect(await cache.refresh("a", source.load("new"))).toBe("new");
    expect(await cache.get("a", source.load("other"))).toBe("new");
    cache.delete("a");
    expect(await cache.get("a", source.load("after"))).toBe("after");
    expect(source.loads).toBe(3);
  });

  it("holds at most capacity keys, pushing out the one loaded longest ago", async () => {
    let now = 0;
    const cache = new ExpiringCache<string>({ ttlSeconds: 60, capacity: 2, now: () => now });
    const source = counting();
    await cache.get("a", source.load("a"));
    now++;
    await cache.get("b", source.load("b"));
    now++;
    await cache.get("a", source.load("a")); // still held: does not make "a" younger
    await cache.get("c", source.load("c"));
    expect(cache.size).toBe(2);
    expect(source.loads).toBe(3);
    await cache.get("b", source.load("b")); // kept
    await cache.get("a", source.load("a2")); // pushed out: loaded again
    expect(source.loads).toBe(4);
  });

  it("weighs values: heavy ones push out more, one heavier than the capacity is not kept", async () => {
    const cache = new ExpiringCache<string[]>({ ttlSeconds: 60, capacity: 5, weigh: (list) => list.length, now: () => 0 });
    let loads = 0;
    const list = (n: number) => () => {
      loads++;
      return Promise.resolve(Array.from({ length: n }, String));
    };
    await cache.get("a", list(2));
    await cache.get("b", list(2));
    expect(cache.size).toBe(2);
    await cache.get("c", list(3)); // 7 units: "a" goes
    expect(cache.size).toBe(2);
    await cache.get("b", list(2));
    expect(loads).toBe(3);
    await cache.get("a", list(2));
    expect(loads).toBe(4);
    await cache.get("huge", list(6));
    await cache.get("huge", list(6));
    expect(loads).toBe(6);
  });

  it("refuses a negative lifetime or no room", () => {
    expect(() => new ExpiringCache({ ttlSeconds: -1, capacity: 1 })).toThrow(RangeError);
    expect(() => new ExpiringCache({ ttlSeconds: 1, capacity: 0 })).toThrow(RangeError);
  });
});
