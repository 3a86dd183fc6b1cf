/**
 * One source, many listeners, at most `max` of them: the console's shared upstream event connection
 * fanned out to browser streams. `subscribe` answers null when full, so the route can refuse (503)
 * instead of letting open streams grow without bound. A throwing listener does not stop the others.
 */
export class FanOut<T> {
  private readonly listeners = new Set<(value: T) => void>();

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a whole number >= 1, got ${max}`);
  }

  get size(): number {
    return this.listeners.size;
  }

  subscribe(listener: (value: T) => void): (() => void) | null {
    if (this.listeners.size >= this.max) return null;
    // a wrapper, so the same function subscribed twice is two streams
    const entry = (value: T) => listener(value);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  publish(value: T): number {
    let failed = 0;
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch {
        failed++;
      }
    }
    return failed;
  }
}
