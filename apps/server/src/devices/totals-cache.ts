/**
 * Totals of paged lists per filter (issue 12): an exact count over 50,000 devices reads every matching row, so it
 * is computed when a filter is first asked for and reused for `ttlMs` while the same filter is paged or re-sorted.
 * A total is therefore exact as of at most `ttlMs` ago on this instance; owners clear it when they know the set
 * changed (a device enrolled or revoked here, compatibility rows written). Concurrent requests share one count.
 */
export class TotalsCache {
  private readonly entries = new Map<string, { value: Promise<number>; expiresAt: number }>();

  constructor(
    readonly ttlMs: number,
    private readonly maxEntries = 500,
  ) {}

  get(key: string, count: () => Promise<number>): Promise<number> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    const entry = { value: count(), expiresAt: now + this.ttlMs };
    this.entries.delete(key);
    this.entries.set(key, entry);
    // a failed count is not kept (the caller gets the error)
    entry.value.catch(() => this.entries.get(key) === entry && this.entries.delete(key));
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return entry.value;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** How long a list total is reused (per filter, per server instance). */
export const LIST_TOTAL_TTL_MS = 5_000;
