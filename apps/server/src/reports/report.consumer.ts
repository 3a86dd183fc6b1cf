import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from "@nestjs/common";
import type { ConsumerMessages, JsMsg } from "nats";
import type { Logger } from "pino";
import { CONFIG, LOGGER } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { MetricsService } from "../common/metrics.service.js";
import { withTimeout } from "../common/with-timeout.js";
import { NatsService } from "../nats/nats.service.js";
import { ReportsService } from "./reports.service.js";

const RETRY_DELAY_MS = 2_000;
/** A message that fails while the database is up this many times is poison: terminate it, do not loop. */
const MAX_FAILURES_WITH_DB_UP = 5;

/** Pulls reports from the durable JetStream consumer, one at a time, and acks/naks/terms each. */
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
        for await (const m of this.messages) await this.handle(m);
      } catch (err) {
        if (this.stopping) break;
        this.log.error({ err }, "report consumer failed; restarting");
      }
      if (!this.stopping) await sleep(1_000);
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    const log = this.log.child({ correlationId: `${m.info.stream}/${m.seq}`, subject: m.subject, delivery: m.info.deliveryCount });
    try {
      const result = await this.reports.ingest({ subject: m.subject, data: m.data, streamSeq: m.seq }, log);
      // A rejected report will never become valid: term() so it is not redelivered. No reason text:
      // nats-server 2.9 ignores "+TERM <reason>" entirely, which would leave the message pending.
      if (result.outcome === "rejected") m.term();
      else m.ack();
    } catch (err) {
      const dbUp = await this.reports.databaseUp();
      if (dbUp && m.info.deliveryCount >= MAX_FAILURES_WITH_DB_UP) {
        this.metrics.reportsRejected.inc({ reason: "store_failed" });
        log.error({ err }, "report failed repeatedly with the database up; terminated");
        m.term();
        return;
      }
      this.metrics.reportsRetried.inc();
      log.warn({ err: dbUp ? err : undefined, databaseUp: dbUp }, "report processing failed; redelivery requested");
      m.nak(RETRY_DELAY_MS);
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
