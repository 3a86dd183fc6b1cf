import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from "@nestjs/common";
import type { Logger } from "pino";
import { CONFIG, LOGGER } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { MetricsService, RETENTION_TABLES, type RetentionTable } from "../common/metrics.service.js";
import { RetentionRepository } from "./retention.repository.js";

const DAY_MS = 86_400_000;
/**
 * Ledger rows are kept one day past REPORT_MAX_AGE_DAYS: instances whose clocks disagree by less than
 * that cannot open a replay hole (one prunes a row another would still look up).
 */
export const LEDGER_MARGIN_DAYS = 1;
/** Pause between batches, so other queries get the table between DELETEs. */
const BATCH_PAUSE_MS = 20;

export type RetentionRun = { skipped: true } | { skipped: false; deleted: Record<RetentionTable, number>; batches: number };

/**
 * Deletes old telemetry on an interval in bounded batches: the idempotency ledger past the replay window,
 * heartbeats, inventory snapshots, posture reports, benchmark runs (each device's latest kept), runtime metric windows
 * and model loads (the latest per device and model kept), device events and the audit log.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RetentionRun> | null = null;
  private stopping = false;
  private readonly log: Logger;

  constructor(
    private readonly repo: RetentionRepository,
    private readonly metrics: MetricsService,
    @Inject(CONFIG) private readonly config: ServerConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ context: "RetentionService" });
  }

  onApplicationBootstrap(): void {
    // The first run waits one interval: a restart loop must not turn into a delete loop.
    this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One pruning pass over every table (also what the timer calls). Concurrent calls share the pass. */
  runOnce(now: Date = new Date()): Promise<RetentionRun> {
    this.running ??= this.prune(now).finally(() => (this.running = null));
    return this.running;
  }

  private async tick(): Promise<void> {
    try {
      await this.runOnce();
    } catch (err) {
      this.log.error({ err }, "retention run failed; retrying at the next interval");
    }
    this.schedule();
  }

  private schedule(): void {
    const { intervalSec } = this.config.retention;
    if (intervalSec === 0 || this.stopping) return;
    // void: tick() catches and logs every failure itself, and setTimeout has no use for its promise
    this.timer = setTimeout(() => void this.tick(), intervalSec * 1000);
    this.timer.unref();
  }

  private async prune(now: Date): Promise<RetentionRun> {
    const r = this.config.retention;
    const before = (days: number) => new Date(now.getTime() - days * DAY_MS);
    const tables: Record<RetentionTable, (limit: number) => Promise<number | null>> = {
      ProcessedMessage: (n) => this.repo.deleteProcessedMessages(before(this.config.reportMaxAgeDays + LEDGER_MARGIN_DAYS), n),
      Heartbeat: (n) => this.repo.deleteHeartbeats(before(r.heartbeatDays), n),
      InventorySnapshot: (n) => this.repo.deleteInventorySnapshots(before(r.inventoryDays), n),
      DeviceEvent: (n) => this.repo.deleteDeviceEvents(before(r.eventDays), n),
      AuditLog: (n) => this.repo.deleteAuditLogs(before(r.auditDays), n),
      PostureReport: (n) => this.repo.deletePostureReports(before(r.postureDays), n),
      RuntimeMetric: (n) => this.repo.deleteRuntimeMetrics(before(r.runtimeMetricDays), n),
      ModelLoad: (n) => this.repo.deleteModelLoads(before(r.modelLoadDays), n),
      BenchmarkRun: (n) => this.repo.deleteBenchmarkRuns(before(r.benchmarkDays), n),
      EgressReport: (n) => this.repo.deleteEgressReports(before(r.postureDays), n),
    };
    const deleted = Object.fromEntries(RETENTION_TABLES.map((t) => [t, 0])) as Record<RetentionTable, number>;
    let batches = 0;
    const t0 = Date.now();
    for (const table of RETENTION_TABLES) {
      for (;;) {
        if (this.stopping) return { skipped: false, deleted, batches };
        const n = await tables[table](r.batchSize);
        if (n === null) {
          this.log.info({ table }, "another instance is pruning; skipping this run");
          return { skipped: true };
        }
        batches++;
        deleted[table] += n;
        this.metrics.retentionDeleted.inc({ table }, n);
        if (n < r.batchSize) break;
        await sleep(BATCH_PAUSE_MS);
      }
    }
    this.log.info({ deleted, batches, ms: Date.now() - t0 }, "retention run done");
    return { skipped: false, deleted, batches };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
