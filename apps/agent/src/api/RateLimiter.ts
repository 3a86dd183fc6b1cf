/**
 * Token bucket per client: `perMinute` requests, refilled continuously, bursts up to the same number.
 * Bounded: at most `maxClients` buckets; the stalest is evicted when a new client arrives.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly maxClients = 10_000,
  ) {}

  /** Seconds to wait before retrying, or 0 when the request may proceed (and is counted). */
  take(client: string, now = Date.now()): number {
    const rate = this.perMinute / 60_000;
    let b = this.buckets.get(client);
    if (!b) {
      if (this.buckets.size >= this.maxClients) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.perMinute, at: now };
    } else {
      this.buckets.delete(client); // re-insert: Map order doubles as recency
      b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * rate);
      b.at = now;
    }
    this.buckets.set(client, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }
}
