import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from "@nestjs/common";
import type { Logger } from "pino";
import { CONFIG, LOGGER } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { MetricsService } from "../common/metrics.service.js";
import { FleetEvent, FleetEventBus } from "../events/fleet-events.js";
import { onlineCutoff } from "./device-status.js";
import { DevicesRepository } from "./devices.repository.js";

/**
 * Tracks which devices are online and emits device.online / device.offline on transitions:
 * online at once when a report arrives, offline from a periodic sweep.
 */
@Injectable()
export class PresenceService implements OnApplicationBootstrap, OnModuleDestroy {
  private online = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private sweeping = false;
  private readonly log: Logger;

  constructor(
    private readonly repo: DevicesRepository,
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
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A report from this device was just stored. */
  markSeen(deviceId: string, at: Date): void {
    if (this.online.has(deviceId)) return;
    this.online.add(deviceId);
    this.metrics.devicesOnline.set(this.online.size);
    this.events.publish(FleetEvent.DeviceOnline, deviceId, { lastSeenAt: at.toISOString() });
  }

  forget(deviceId: string): void {
    this.online.delete(deviceId);
    this.metrics.devicesOnline.set(this.online.size);
  }

  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
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
