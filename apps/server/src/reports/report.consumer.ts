import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from "@nestjs/common";
import { ConsumerEvents, type ConsumerMessages, type JsMsg } from "nats";
import type { Logger } from "pino";
import type { ReportKind } from "@fleet/protocol";
import { CONFIG, LOGGER } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { IngestBacklog } from "../common/ingest-backlog.js";
import { MetricsService } from "../common/metrics.service.js";
import { withTimeout } from "../common/with-timeout.js";
import { NatsService } from "../nats/nats.service.js";
import { reportWriters } from "./report-writers.js";
import { ReportsService, type IngestOutcome, type IncomingMessage, type VerifiedBatch } from "./reports.service.js";

const RETRY_DELAY_MS = 2_000;
/**
 * Messages pulled ahead (consume max_messages; a refill asks again once three quarters arrived). Not max_bytes: nats.js
 * counts a pull's bytes down as messages arrive and asks only for what is left, so a message larger than that remainder
 * (a hostile 600 KiB report) made nats-server answer "409 Message Size Exceeds MaxBytes", which nats.js 2.29 does not
 * count back: no further pull until the idle-heartbeat reset 30 s later, again and again (the whole fleet's ingest
 * stalled, test/faults/hostile-messages). Memory stays bounded by the durable consumer's max_ack_pending (1000
 * un-acked messages of at most the stream's 1 MiB), since nats.js refills as messages arrive, read or not.
 */
const PULL_MESSAGES = 128;
/** Reports verified and committed together at most, by count and by bytes. */
const MAX_BATCH = 500;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** A smaller backlog than this waits LINGER_MS for more before it is stored: fewer, fuller transactions. */
const LINGER_BELOW = 50;
const LINGER_MS = 15;
/** Transactions of one batch committed at the same time, each holding a share of the devices. */
const COMMIT_LANES = 2;
/** A message that fails while the database is up this many times is poison: terminate it, do not loop. */
const MAX_FAILURES_WITH_DB_UP = 5;

/**
 * Pulls reports from the durable JetStream consumer (one durable name shared by every replica) and stores them a
 * batch at a time: whatever arrived while the previous batch was being stored forms the next one, so batches grow
 * with the load. Each batch is committed in one transaction, then each message is acked (stored or duplicate) or
 * termed (rejected); a failed batch is naked as a whole, or retried one message at a time when the database is up,
 * so one message that cannot be stored does not hold the others. A batch commits in COMMIT_LANES transactions at
 * once, split by device (plus one for the kinds with Prisma writers); the next batch is verified while one commits, and batches commit one after another, so a
 * device's reports are stored in the order they arrived.
 */
@Injectable()
export class ReportConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  /** wakes a reader paused while two batches wait, so it can end its iteration at shutdown */
  private wakeReader: (() => void) | null = null;
  private readonly log: Logger;

  constructor(
    private readonly nats: NatsService,
    private readonly reports: ReportsService,
    private readonly metrics: MetricsService,
    private readonly backlog: IngestBacklog,
    @Inject(CONFIG) private readonly config: ServerConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ context: "ReportConsumer" });
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.wakeReader?.();
    // nats.js resolves close() only once the iterator has been read up to its stop marker: a reader paused for room
    // (or one behind a slow batch) would hold it, and with it the whole shutdown. Bounded; NATS is closed next anyway.
    await withTimeout(this.messages?.close() ?? Promise.resolve(), 2_000, "report consumer close").catch((err) => this.log.warn({ err }, "report consumer did not close in time"));
    // A consume() still being set up cannot be cancelled; do not let it hold shutdown (NATS is drained next).
    await withTimeout(this.loop ?? Promise.resolve(), 3_000, "report consumer stop").catch((err) => this.log.warn({ err }, "report consumer did not stop in time"));
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const consumer = await this.nats.js.consumers.get(this.config.stream, this.config.consumer);
        if (this.stopping) break;
        this.messages = await consumer.consume({ max_messages: PULL_MESSAGES });
        if (this.stopping) await this.messages.close();
        void this.closeWhenConsumerGone(this.messages);
        await this.inBatches(this.messages);
      } catch (err) {
        if (this.stopping) break;
        this.log.error({ err }, "report consumer failed; restarting");
        // The stream or the durable consumer may have been deleted: recreate them before pulling again.
        await this.nats.ensureStreams().catch((e) => this.log.warn({ err: e }, "could not re-create the JetStream stream/consumer"));
      }
      if (!this.stopping) await sleep(1_000);
    }
  }

  /** Reads messages into a buffer while the previous batch is stored; hands the buffer over a batch at a time. */
  private async inBatches(messages: ConsumerMessages): Promise<void> {
    const buffer: JsMsg[] = [];
    let bufferedBytes = 0;
    // resolvers of the two waits below (an object: TypeScript does not track closures assigning to locals)
    const waiting: { wake: (() => void) | null; room: (() => void) | null } = { wake: null, room: null };
    let done = false;
    const reader = (async () => {
      try {
        for await (const m of messages) {
          buffer.push(m);
          bufferedBytes += m.data.byteLength;
          waiting.wake?.();
          // consume() keeps pulling as the iterator is read: stop reading while two batches wait
          if (buffer.length >= 2 * MAX_BATCH || bufferedBytes >= 2 * MAX_BATCH_BYTES) {
            await new Promise<void>((r) => (waiting.room = this.wakeReader = r));
            this.wakeReader = null;
          }
          // leaving the loop returns the iterator, which is what lets messages.close() resolve
          if (this.stopping) break;
        }
      } finally {
        done = true;
        waiting.wake?.();
      }
    })();
    reader.catch(() => undefined); // awaited below; this only keeps it from being reported as unhandled meanwhile
    // Two stages: batch N+1 is verified (CPU) while batch N commits (database); commits stay one after another.
    let committing: Promise<void> = Promise.resolve();
    for (;;) {
      if (!buffer.length) {
        if (done) break;
        await new Promise<void>((r) => (waiting.wake = r));
        waiting.wake = null;
        continue;
      }
      if (buffer.length < LINGER_BELOW && !done) await sleep(LINGER_MS);
      let n = 0;
      for (let bytes = 0; n < buffer.length && n < MAX_BATCH && (n === 0 || bytes + buffer[n]!.data.byteLength <= MAX_BATCH_BYTES); n++) bytes += buffer[n]!.data.byteLength;
      const batch = buffer.splice(0, n);
      bufferedBytes -= batch.reduce((sum, m) => sum + m.data.byteLength, 0);
      waiting.room?.();
      waiting.room = null;
      // Lanes by device: each commits in its own transaction, at the same time as the others (the database works on
      // them in parallel); a device's reports all go to one lane, so they still commit in order.
      const lanes = await Promise.all(
        byDevice(batch, COMMIT_LANES).map(async (lane) => {
          const log = this.log.child({ correlationId: `${lane[0]!.info.stream}/${lane[0]!.seq}+${lane.length}` });
          // verification reads device keys from the database on a cache miss, so it can fail like a commit
          const verified = await this.reports.verifyBatch(lane.map(incoming), log).catch((err: unknown) => ({ failed: err }));
          return { lane, log, verified };
        }),
      );
      await committing;
      committing = Promise.all(
        lanes.map(({ lane, log, verified }) => ("failed" in verified ? this.recover(lane, verified.failed, log, null) : this.commitBatch(lane, verified, log))),
      ).then(() => undefined);
    }
    await committing;
    await reader;
  }

  /** Commits a verified batch and settles its messages; never throws. */
  private async commitBatch(batch: JsMsg[], verified: VerifiedBatch, log: Logger): Promise<void> {
    let outcomes: IngestOutcome[];
    try {
      outcomes = await this.reports.commitBatch(verified, log);
    } catch (err) {
      return this.recover(batch, err, log, verified);
    }
    this.backlog.observe(batch.reduce((oldest, m) => Math.min(oldest, m.info.timestampNanos / 1e6), Infinity));
    // A rejected report will never become valid: term() so it is not redelivered. No reason text:
    // nats-server 2.9 ignores "+TERM <reason>" entirely, which would leave the message pending.
    outcomes.forEach((o, i) => settle(() => (o.outcome === "rejected" ? batch[i]!.term() : batch[i]!.ack()), log));
  }

  /**
   * A batch that failed: all naked while the database is down, else retried one message at a time. The messages its
   * verification already rejected (`verified`: null when verification itself failed) are termed, not retried: their
   * rejection is final, and was audited and counted once already.
   */
  private async recover(all: JsMsg[], err: unknown, log: Logger, verified: VerifiedBatch | null): Promise<void> {
    let batch = all;
    if (verified) {
      // the audit writes of the rejections settle the outcomes; they never throw (a failed audit write is logged)
      await Promise.allSettled(verified.rejections);
      batch = [];
      all.forEach((m, i) => {
        if (verified.outcomes[i]?.outcome === "rejected") settle(() => m.term(), log);
        else batch.push(m);
      });
      if (!batch.length) return;
    }
    const dbUp = await this.reports.databaseUp();
    if (!dbUp) {
      this.metrics.reportsRetried.inc(batch.length);
      log.warn({ databaseUp: dbUp, messages: batch.length }, "report batch failed; redelivery requested");
      for (const m of batch) settle(() => m.nak(RETRY_DELAY_MS), log);
      return;
    }
    // a batch of one already failed on its own: a retry now would fail the same way
    if (all.length === 1) return this.failed(batch[0]!, err, dbUp, log);
    log.warn({ err, messages: batch.length }, "report batch failed with the database up; storing its messages one at a time");
    for (const m of batch) await this.handle(m);
  }

  /** One message in its own transaction: how a batch that failed with the database up is retried. */
  private async handle(m: JsMsg): Promise<void> {
    const log = this.log.child({ correlationId: `${m.info.stream}/${m.seq}`, subject: m.subject, delivery: m.info.deliveryCount });
    try {
      const result = await this.reports.ingest(incoming(m), log);
      if (result.outcome === "rejected") settle(() => m.term(), log);
      else settle(() => m.ack(), log);
    } catch (err) {
      this.failed(m, err, await this.reports.databaseUp(), log);
    }
  }

  /** A message that could not be stored: redelivered later, or terminated once it failed too often with the DB up. */
  private failed(m: JsMsg, err: unknown, dbUp: boolean, log: Logger): void {
    if (dbUp && m.info.deliveryCount >= MAX_FAILURES_WITH_DB_UP) {
      this.metrics.reportsRejected.inc({ reason: "store_failed" });
      log.error({ err }, "report failed repeatedly with the database up; terminated");
      settle(() => m.term(), log);
      return;
    }
    this.metrics.reportsRetried.inc();
    log.warn({ err: dbUp ? err : undefined, databaseUp: dbUp }, "report processing failed; redelivery requested");
    settle(() => m.nak(RETRY_DELAY_MS), log);
  }

  /** consume() retries a deleted consumer forever; end the iteration instead, so run() re-creates it. */
  private async closeWhenConsumerGone(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const s of await messages.status()) {
        if (s.type === ConsumerEvents.ConsumerDeleted || s.type === ConsumerEvents.ConsumerNotFound) {
          this.log.warn({ event: s.type }, "the durable report consumer is gone; re-creating it");
          await messages.close();
          return;
        }
      }
    } catch (err) {
      this.log.debug({ err }, "consumer status stream ended");
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Splits a batch into at most `n` lanes by device (the device-id token of the subject), keeping arrival order, plus
 * one lane for the kinds whose writers need a Prisma transaction (slower per statement): they do not pull the common
 * kinds off the plain pg path. Kinds write disjoint tables, so only one device's reports of one lane need an order.
 */
function byDevice(batch: JsMsg[], n: number): JsMsg[][] {
  const lanes: JsMsg[][] = Array.from({ length: n + 1 }, () => []);
  for (const m of batch) {
    const parts = m.subject.split(".");
    const kind = parts[parts.length - 1]!;
    if (Object.hasOwn(reportWriters, kind) && reportWriters[kind as ReportKind].needsPrisma) {
      lanes[n]!.push(m);
      continue;
    }
    const device = parts.length >= 2 ? parts[parts.length - 2]! : m.subject;
    let h = 0;
    for (let i = 0; i < device.length; i++) h = (h * 31 + device.charCodeAt(i)) | 0;
    lanes[Math.abs(h) % n]!.push(m);
  }
  return lanes.filter((l) => l.length > 0);
}

const incoming = (m: JsMsg): IncomingMessage => ({ subject: m.subject, data: m.data, streamSeq: m.seq });

/** ack/nak/term can throw while the connection is closing; the message is then simply redelivered later. */
function settle(fn: () => void, log: Logger): void {
  try {
    fn();
  } catch (err) {
    log.warn({ err }, "could not settle message; it will be redelivered");
  }
}
