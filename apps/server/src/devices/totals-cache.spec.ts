import { describe, expect, it } from "vitest";
import { TotalsCache } from "./totals-cache.js";

describe("TotalsCache", () => {
  it("counts a filter once within its ttl, shares a running count, and counts again after clear()", async () => {
    const cache = new TotalsCache(60_000);
    let counted = 0;
    const count = async () => ++counted;
    expect(await Promise.all([cache.get("a", count), cache.get("a", count)])).toEqual([1, 1]);
    expect(await cache.get("b", count)).toBe(2);
    expect(await cache.get("a", count)).toBe(1);
    cache.clear();
    expect(await cache.get("a", count)).toBe(3);
  });

  it("counts again once the ttl passed, and does not keep a failed count", async () => {
    const expired = new TotalsCache(0);
    let counted = 0;
    await expired.get("a", async () => ++counted);
    expect(await expired.get("a", async () => ++counted)).toBe(2);
    const cache = new TotalsCache(60_000);
    await expect(cache.get("a", () => Promise.reject(new Error("database away")))).rejects.toThrow("database away");
    expect(await cache.get("a", async () => 7)).toBe(7);
  });

  it("keeps at most maxEntries filters", async () => {
    const cache = new TotalsCache(60_000, 2);
    let counted = 0;
    for (const k of ["a", "b", "c"]) await cache.get(k, async () => ++counted);
    expect(await cache.get("c", async () => ++counted)).toBe(3);
    expect(await cache.get("a", async () => ++counted)).toBe(4); // evicted, counted again
  });
});
