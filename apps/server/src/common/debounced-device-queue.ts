/**
 * Device ids queued by report ingestion and handled together after a short delay, off the ingestion path: a device
 * reported several times within the delay is handled once. One flush runs at a time; errors go to `onError`.
 */
export class DebouncedDeviceQueue {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly delayMs: number,
    private readonly handle: (deviceIds: string[]) => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Cheap: never blocks the caller. */
  schedule(deviceId: string): void {
    if (this.closed) return;
    this.pending.add(deviceId);
    this.timer ??= setTimeout(() => {
      this.timer = null;
      const ids = [...this.pending];
      this.pending.clear();
      this.flushing = this.flushing.then(() => this.handle(ids)).catch(this.onError);
    }, this.delayMs);
  }

  /** Wait until everything queued so far is handled (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.timer || this.pending.size > 0) {
      await new Promise((r) => setTimeout(r, 50));
      await this.flushing;
    }
    await this.flushing;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Stop taking devices and resolve once the flush in progress ended: its database work must be over before the
   * server closes its database client (Prisma's $disconnect waits for every checked-out connection).
   */
  close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.flushing;
  }
}
