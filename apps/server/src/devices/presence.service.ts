import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from "@nestjs/common";
import type { Logger } from "pino";
import { CONFIG, LOGGER } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { MetricsService } from "../common/metrics.service.js";
import { FleetEvent, FleetEventBus } from "../events/fleet-events.js";
import { onlineCutoff } from "./device-status.js";
import { DevicesRepository } from "./devices.repository.js";
import { LivenessRepository } from "./liveness.repository.js";

const LIVENESS_FLUSH_MS = 1_000;

/**
 * Tracks which devices are online and emits device.online / device.offline on transitions:
 * online at once when a report arrives, offline from a periodic sweep. Liveness (DeviceLiveness: lastSeenAt, lastSeq) is kept
 * out of the per-report transaction: reports mark it here, and one upsert writes all of it every second (and before
 * each sweep, which reads it back). A crash loses at most that second of lastSeenAt, which the next report restores.
 */
@Injectable()
export class PresenceService implements OnApplicationBootstrap, OnModuleDestroy {
  private online = new Set<string>();
  /** seen since the last flush: device -> newest receivedAt and highest seq */
  private unflushed = new Map<string, { at: Date; seq: number }>();
  private flushing: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sweeping = false;
  private readonly log: Logger;

  constructor(
    private readonly repo: DevicesRepository,
    private readonly liveness: LivenessRepository,
    private readonly events: FleetEventBus,
    private readonly metrics: MetricsService,
    @Inject(CONFIG) private readonly config: ServerConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ context: "PresenceService" });
  }

  /** Sweep often enough that "offline" lags OFFLINE_AFTER_SEC by at most a third of it (max 15 s). */
  get sweepIntervalMs(): number {
    return Math.max(250, Math.min(15_000, (this.config.offlineAfterSec * 1000) / 3));
  }

  async onApplicationBootstrap(): Promise<void> {
    // Initial state without events: these devices were online before this process started.
    try {
      const seen = await this.repo.activeDevicesSeenSince(onlineCutoff(new Date(), this.config.offlineAfterSec));
      this.online = new Set(seen.map((d) => d.id));
      this.metrics.devicesOnline.set(this.online.size);
    } catch (err) {
      this.log.warn({ err }, "initial presence load failed; the sweep will retry");
    }
    this.timer = setInterval(() => void this.sweep(), this.sweepIntervalMs);
    this.timer.unref();
    this.flushTimer = setInterval(() => void this.flush(), LIVENESS_FLUSH_MS);
    this.flushTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.timer = this.flushTimer = null;
    await this.flush();
  }

  /** A report from this device was just stored (`seq`: its sequence number, when it was a report). */
  markSeen(deviceId: string, at: Date, seq?: number): void {
    if (seq !== undefined) {
      const prev = this.unflushed.get(deviceId);
      if (!prev) this.unflushed.set(deviceId, { at, seq });
      else this.unflushed.set(deviceId, { at: at > prev.at ? at : prev.at, seq: Math.max(seq, prev.seq) });
    }
    if (this.online.has(deviceId)) return;
    this.online.add(deviceId);
    this.metrics.devicesOnline.set(this.online.size);
    this.events.publish(FleetEvent.DeviceOnline, deviceId, { lastSeenAt: at.toISOString() });
  }

  /** Whether this instance counts the device online (a report was stored within OFFLINE_AFTER_SEC). */
  isOnline(deviceId: string): boolean {
    return this.online.has(deviceId);
  }

  forget(deviceId: string): void {
    this.online.delete(deviceId);
    this.metrics.devicesOnline.set(this.online.size);
  }

  /** Write the liveness marked since the last flush in one statement; on failure it is kept for the next one. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (!this.unflushed.size) return;
    const batch = this.unflushed;
    this.unflushed = new Map();
    try {
      await this.liveness.recordSeen([...batch].map(([id, s]) => ({ id, lastSeenAt: s.at, lastSeq: s.seq })));
    } catch (err) {
      for (const [id, s] of batch) {
        const now = this.unflushed.get(id);
        this.unflushed.set(id, now ? { at: now.at > s.at ? now.at : s.at, seq: Math.max(now.seq, s.seq) } : s);
      }
      this.log.warn({ err, devices: batch.size }, "liveness flush failed; retried with the next one");
    }
  }

  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      // the sweep judges by lastSeenAt in the database: write what reports marked first
      await this.flush();
      const seen = await this.repo.activeDevicesSeenSince(onlineCutoff(new Date(), this.config.offlineAfterSec));
      const now = new Set(seen.map((d) => d.id));
      const gone = [...this.online].filter((id) => !now.has(id));
      const lastSeen = gone.length ? new Map((await this.repo.lastSeen(gone)).map((d) => [d.id, d.lastSeenAt])) : new Map();
      for (const id of gone) {
        this.online.delete(id);
        const at = lastSeen.get(id);
        this.events.publish(FleetEvent.DeviceOffline, id, { lastSeenAt: at ? at.toISOString() : null });
      }
      for (const d of seen) {
        if (!this.online.has(d.id)) this.markSeen(d.id, d.lastSeenAt ?? new Date());
      }
      this.metrics.devicesOnline.set(this.online.size);
    } catch (err) {
      this.log.warn({ err }, "presence sweep failed");
    } finally {
      this.sweeping = false;
    }
  }
}
