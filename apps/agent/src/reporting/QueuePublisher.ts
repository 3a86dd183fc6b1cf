import type { ReportKind } from "@fleet/protocol";
import type { Logger } from "../logger.js";
import type { DiskQueue } from "../queue/DiskQueue.js";
import { describeError } from "../util/describeError.js";
import { sleep } from "../util/sleep.js";
import type { NatsLink } from "./NatsLink.js";

export interface QueuePublisherOptions {
  queue: DiskQueue;
  link: NatsLink;
  subjectFor: (kind: ReportKind) => string;
  logger: Logger;
  publishTimeoutMs?: number;
  maxBackoffMs?: number;
}

/**
 * Drains the queue strictly in seq order: publish the head with msgID = msgId (JetStream drops a retried
 * duplicate), delete it only after the PubAck, otherwise back off and retry the same head. Waits while
 * disconnected or empty, so an outage costs no CPU and no memory beyond the bounded queue.
 */
export class QueuePublisher {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly log: Logger;
  private published = 0;
  private lastAckAt = 0;

  constructor(private readonly opts: QueuePublisherOptions) {
    this.log = opts.logger.child({ component: "QueuePublisher" });
  }

  get publishedCount(): number {
    return this.published;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stop after the publish in flight; with `drainMs`, first keep delivering for up to that long. */
  async stop(drainMs = 0): Promise<void> {
    if (drainMs > 0 && this.opts.link.connected) {
      const start = Date.now();
      const deadline = start + drainMs;
      // Keep draining only while it makes progress: a server refusing publishes (no stream yet) must not delay a stop.
      const progressing = () => Date.now() - Math.max(start, this.lastAckAt) < 750;
      while (this.opts.queue.depth > 0 && this.opts.link.connected && Date.now() < deadline && progressing()) await sleep(50);
    }
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { queue, link } = this.opts;
    const signal = this.abort.signal;
    let backoff = 250;
    while (!signal.aborted) {
      await link.whenConnected(signal);
      await queue.whenNotEmpty(signal);
      if (signal.aborted) return;
      const js = link.jetstream;
      if (!link.connected || !js) {
        await sleep(100, signal); // the link is stopping or flapping: do not spin
        continue;
      }
      const msg = await queue.peek();
      if (!msg) continue;
      try {
        const ack = await js.publish(this.opts.subjectFor(msg.kind), msg.data, {
          msgID: msg.msgId,
          timeout: this.opts.publishTimeoutMs ?? 5000,
        });
        await queue.ack(msg.seq);
        this.published++;
        this.lastAckAt = Date.now();
        backoff = 250;
        this.log.debug({ seq: msg.seq, kind: msg.kind, streamSeq: ack.seq, duplicate: ack.duplicate }, "report delivered");
      } catch (err) {
        // No stream yet, a timeout during an outage, ...: the head stays on disk and is retried as is.
        this.log.warn({ seq: msg.seq, kind: msg.kind, err: describeError(err), retryInMs: backoff }, "report not delivered yet");
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs ?? 10_000);
      }
    }
  }
}
