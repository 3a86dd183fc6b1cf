import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from "@nestjs/common";
import { ConsumerEvents, type ConsumerMessages, type JsMsg } from "nats";
import type { Logger } from "pino";
import { CONFIG, LOGGER } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { MetricsService } from "../common/metrics.service.js";
import { withTimeout } from "../common/with-timeout.js";
import { NatsService } from "../nats/nats.service.js";
import { ReportsService } from "./reports.service.js";

const RETRY_DELAY_MS = 2_000;
/** Reports processed at once. One device's reports still run one after another (see run()). */
const MAX_IN_FLIGHT = 16;
/** A message that fails while the database is up this many times is poison: terminate it, do not loop. */
const MAX_FAILURES_WITH_DB_UP = 5;

/**
 * Pulls reports from the durable JetStream consumer and acks/naks/terms each. Different devices are
 * processed concurrently (the work is mostly database round trips); one device's reports stay in order.
 */
@Injectable()
export class ReportConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private readonly log: Logger;

  constructor(
    private readonly nats: NatsService,
    private readonly reports: ReportsService,
    private readonly metrics: MetricsService,
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
    await this.messages?.close().catch(() => undefined);
    // A consume() still being set up cannot be cancelled; do not let it hold shutdown (NATS is drained next).
    await withTimeout(this.loop ?? Promise.resolve(), 3_000, "report consumer stop").catch((err) => this.log.warn({ err }, "report consumer did not stop in time"));
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const consumer = await this.nats.js.consumers.get(this.config.stream, this.config.consumer);
        if (this.stopping) break;
        this.messages = await consumer.consume({ max_messages: 64 });
        if (this.stopping) await this.messages.close();
        void this.closeWhenConsumerGone(this.messages);
        const inFlight = new Set<Promise<void>>();
        const perDevice = new Map<string, Promise<void>>();
        for await (const m of this.messages) {
          while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
          const key = deviceToken(m.subject);
          const p = (perDevice.get(key) ?? Promise.resolve()).then(() => this.handle(m));
          perDevice.set(key, p);
          const tracked: Promise<void> = p.finally(() => {
            inFlight.delete(tracked);
            if (perDevice.get(key) === p) perDevice.delete(key);
          });
          inFlight.add(tracked);
        }
        await Promise.all(inFlight);
      } catch (err) {
        if (this.stopping) break;
        this.log.error({ err }, "report consumer failed; restarting");
        // The stream or the durable consumer may have been deleted: recreate them before pulling again.
        await this.nats.ensureStreams().catch((e) => this.log.warn({ err: e }, "could not re-create the JetStream stream/consumer"));
      }
      if (!this.stopping) await sleep(1_000);
    }
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

  private async handle(m: JsMsg): Promise<void> {
    const log = this.log.child({ correlationId: `${m.info.stream}/${m.seq}`, subject: m.subject, delivery: m.info.deliveryCount });
    try {
      const result = await this.reports.ingest({ subject: m.subject, data: m.data, streamSeq: m.seq }, log);
      // A rejected report will never become valid: term() so it is not redelivered. No reason text:
      // nats-server 2.9 ignores "+TERM <reason>" entirely, which would leave the message pending.
      if (result.outcome === "rejected") settle(() => m.term(), log);
      else settle(() => m.ack(), log);
    } catch (err) {
      const dbUp = await this.reports.databaseUp();
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
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The device-id token of a report subject (`<prefix>.device.<id>.<kind>`), used to keep a device's reports in order. */
function deviceToken(subject: string): string {
  const parts = subject.split(".");
  return parts.length >= 2 ? parts[parts.length - 2]! : subject;
}

/** ack/nak/term can throw while the connection is closing; the message is then simply redelivered later. */
function settle(fn: () => void, log: Logger): void {
  try {
    fn();
  } catch (err) {
    log.warn({ err }, "could not settle message; it will be redelivered");
  }
}
