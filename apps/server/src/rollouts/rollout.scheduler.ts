import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from "@nestjs/common";
import type { Logger } from "pino";
import { evaluateGates, ringDecision, waveShare, type RingStats } from "@fleet/catalog";
import { UpdateFailure, ZRuntimeInfoV1, type TAssignedTargetV1 } from "@fleet/protocol";
import { CompatibilityService } from "../compatibility/compatibility.service.js";
import { AssignmentsService } from "../assignments/assignments.service.js";
import { CONFIG, LOGGER } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { IngestBacklog } from "../common/ingest-backlog.js";
import { FleetEvent, FleetEventBus } from "../events/fleet-events.js";
import { FleetEventRelay } from "../events/fleet-event-relay.js";
import { RolloutAssigner } from "./rollout-assigner.js";
import { historyOf, ringsOf, soakEndsAt } from "./rollout-views.js";
import { RolloutsRepository, type RolloutWithEntry } from "./rollouts.repository.js";

/** Periodic pass even without triggers: resumes after a restart, notices soaks that ended, renews assignments. */
export const SCHEDULER_INTERVAL_MS = 5000;
/** Update reports arrive by the thousand in a broad ring: they wake the scheduler at most this often. */
export const REPORT_DEBOUNCE_MS = 250;
/**
 * A woken pass waits at least this many times the last pass's duration: a pass over a ring of thousands (its stats
 * are aggregates over the ring's devices, loads and metrics) must not run back to back, taking the database from
 * report ingest (at 50,000 devices passes 4 times a second slowed every batch commit several-fold).
 */
const PASS_SPACING = 10;
/** A paced ring's next wave is sent this long after the previous one; one pass sends at most MAX_WAVE_SEC of waves. */
const WAVE_MS = 1000;
const MAX_WAVE_SEC = 5;

/**
 * Drives running rollouts: assigns the current ring, starts its soak once every device is terminal, evaluates the
 * gates and promotes, or pauses the rollout and rolls the ring back. Runs on an interval and whenever an update
 * report moves a device; across server processes exactly one instance acts at a time (pg advisory lock), and all
 * state is in the database, so a restarted server simply carries on.
 */
@Injectable()
export class RolloutScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: Logger;
  private interval: NodeJS.Timeout | null = null;
  private soakTimer: { at: number; timer: NodeJS.Timeout } | null = null;
  private soon: NodeJS.Timeout | null = null;
  private lastPassMs = 0;
  /** rollout/ring -> when its last wave was sent (in memory: after a restart or failover the next wave is one second's) */
  private readonly lastWave = new Map<string, number>();
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private unsubscribe: (() => void) | null = null;
  private unsubscribeRemote: (() => void) | null = null;
  /** ticks that acted / found another instance holding the lock / passes woken by another replica's update report */
  readonly stats = { acted: 0, skipped: 0, errors: 0, remoteWakeups: 0 };

  constructor(
    private readonly repo: RolloutsRepository,
    private readonly assigner: RolloutAssigner,
    private readonly assignments: AssignmentsService,
    private readonly events: FleetEventBus,
    private readonly compatibility: CompatibilityService,
    private readonly relay: FleetEventRelay,
    private readonly backlog: IngestBacklog,
    @Inject(CONFIG) private readonly config: ServerConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ context: "RolloutScheduler" });
  }

  onApplicationBootstrap(): void {
    this.unsubscribe = this.events.subscribe((msg) => {
      if (msg.type !== FleetEvent.RolloutDeviceUpdated) return;
      if (msg.data.code === UpdateFailure.RuntimeIncompatible && msg.deviceId) {
        const { rolloutId } = msg.data;
        const deviceId = msg.deviceId;
        this.onRuntimeIncompatible(rolloutId, deviceId).catch((err: unknown) => this.log.error({ err, rolloutId, deviceId }, "could not learn the runtime incompatibility"));
      }
      this.triggerSoon();
    });
    // With several replicas, a device's update report may be stored by another one: its relayed event wakes this
    // scheduler too (only a pass, under the lock; acting on the event itself stays with the replica that stored it),
    // instead of the ring waiting for the next interval.
    this.unsubscribeRemote = this.relay.onRemote((msg) => {
      if (msg.type !== FleetEvent.RolloutDeviceUpdated) return;
      this.stats.remoteWakeups++;
      this.triggerSoon();
    });
    this.interval = setInterval(() => this.trigger(), SCHEDULER_INTERVAL_MS);
    this.interval.unref();
    this.trigger();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribeRemote?.();
    if (this.interval) clearInterval(this.interval);
    if (this.soakTimer) clearTimeout(this.soakTimer.timer);
    if (this.soon) clearTimeout(this.soon);
    await this.running;
  }

  /** Run a pass now, or right after the one in progress (triggers coalesce). */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const t0 = performance.now();
        await this.tick();
        this.lastPassMs = performance.now() - t0;
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = null;
    });
  }

  /**
   * A pass in `ms` (spaced by the last pass's duration): many triggers meanwhile make one pass. A pass sooner than a
   * caller asked for does no harm: a paced ring's wave is sized by the time since the previous one, and a pass that
   * still finds devices waiting asks again.
   */
  triggerSoon(ms = REPORT_DEBOUNCE_MS): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      this.trigger();
    }, this.spaced(ms));
    this.soon.unref();
  }

  /** `ms`, or PASS_SPACING times the last pass when that is longer (at most the interval). */
  private spaced(ms: number): number {
    return Math.min(SCHEDULER_INTERVAL_MS, Math.max(ms, PASS_SPACING * this.lastPassMs));
  }

  /** Wait for the pass in progress (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async tick(): Promise<void> {
    try {
      const r = await this.repo.withLock(async () => {
        for (const { id } of await this.repo.runningIds()) {
          if (this.stopped) break;
          const rollout = await this.repo.get(id);
          if (rollout?.state === "running") await this.step(rollout);
        }
        await this.assignments.renewExpiring(async (issued) => {
          const byRollout = new Map<string, typeof issued>();
          for (const x of issued) if (x.rolloutId) byRollout.set(x.rolloutId, [...(byRollout.get(x.rolloutId) ?? []), x]);
          for (const [rolloutId, xs] of byRollout) await this.repo.markAssigned(rolloutId, xs, null);
        });
      }, false);
      if (r.acted) this.stats.acted++;
      else this.stats.skipped++;
    } catch (err) {
      this.stats.errors++;
      this.log.error({ err }, "rollout scheduler pass failed; the next pass retries");
    }
  }

  /** Advance one running rollout as far as it can go now. */
  private async step(r: RolloutWithEntry): Promise<void> {
    const rings = ringsOf(r.rings);
    const hist = historyOf(r.ringHistory, rings.length);
    let ring = r.currentRing;
    const desired = { target: r.entry.targetPath, sha256: r.entry.sha256, length: Number(r.entry.sizeBytes) };
    for (;;) {
      const spec = rings[ring]!;
      const h = hist[ring]!;
      const now = new Date();
      if (!h.startedAt) {
        h.startedAt = now.toISOString();
        const n = await this.sendWave(r.id, ring, desired, now);
        await this.repo.update(r.id, { currentRing: ring, ringStartedAt: now, ringHistory: hist });
        this.log.info({ rolloutId: r.id, ring, firstWave: n }, "ring started");
        this.events.publish(FleetEvent.RolloutRingStarted, null, { rolloutId: r.id, state: "running", currentRing: ring, reason: null });
      }
      let { stats, waiting } = await this.ringStats(r, ring, new Date(h.startedAt), h.excluded);
      if (waiting > 0) {
        if (await this.sendWave(r.id, ring, desired, now)) ({ stats, waiting } = await this.ringStats(r, ring, new Date(h.startedAt), h.excluded));
        // the ring's waiting devices count as in progress: no soak and no promotion until every one was sent the model
        if (waiting > 0) this.triggerSoon(WAVE_MS);
      }
      if (!h.soakStartedAt && stats.inProgress === 0 && stats.active + stats.failed + stats.rolledBack >= stats.devices) h.soakStartedAt = now.toISOString();
      const ends = soakEndsAt(h, spec);
      const decision = ringDecision({ ringIndex: ring, stats, gates: spec.gates, soakEndsAt: ends, now });
      h.gates = evaluateGates(stats, spec.gates).results;
      if (decision === "wait") {
        await this.repo.update(r.id, { ringHistory: hist });
        if (ends && ends > now) this.armSoakTimer(ends);
        return;
      }
      if (decision === "fail") {
        h.failedAt = now.toISOString();
        const reason = `ring ${ring} (${spec.name}) failed its gates: ${h.gates.filter((g) => !g.pass).map((g) => g.detail).join("; ")}`;
        await this.repo.update(r.id, { state: "paused", reason, ringHistory: hist }, { actor: "scheduler", action: "rollout.gate_failed", targetType: "rollout", targetId: r.id, details: { ring, gates: h.gates } });
        const n = await this.assigner.rollbackAssigned(r.id, ring);
        this.log.warn({ rolloutId: r.id, ring, reason, rolledBack: n }, "ring failed its gates: rollout paused, ring rolled back");
        this.events.publish(FleetEvent.RolloutPaused, null, { rolloutId: r.id, state: "paused", currentRing: ring, reason });
        return;
      }
      h.passedAt = now.toISOString();
      if (ring === rings.length - 1) {
        await this.repo.update(r.id, { state: "completed", completedAt: now, ringHistory: hist }, { actor: "scheduler", action: "rollout.completed", targetType: "rollout", targetId: r.id });
        this.log.info({ rolloutId: r.id }, "rollout completed");
        this.events.publish(FleetEvent.RolloutCompleted, null, { rolloutId: r.id, state: "completed", currentRing: ring, reason: null });
        return;
      }
      ring++;
      await this.repo.update(r.id, { currentRing: ring, ringStartedAt: null, ringHistory: hist });
      this.events.publish(FleetEvent.RolloutPromoted, null, { rolloutId: r.id, state: "running", currentRing: ring, reason: null });
    }
  }

  /**
   * Sends the ring's next wave: ROLLOUT_ASSIGN_PER_SEC devices per second since the previous wave (one second's worth
   * for the first, at most MAX_WAVE_SEC seconds' worth), slowed while report ingest is behind (waveShare). A ring of
   * 9,000 devices all sent a model at once downloads it at once (the artifact server's herd) and floods ingest with
   * their update reports; in waves, paced by the backlog, it does neither.
   */
  private async sendWave(rolloutId: string, ring: number, desired: TAssignedTargetV1, now: Date): Promise<number> {
    const key = `${rolloutId}/${ring}`;
    const since = Math.min(MAX_WAVE_SEC, Math.max(0, now.getTime() - (this.lastWave.get(key) ?? now.getTime() - WAVE_MS)) / 1000);
    const behindMs = this.backlog.behindMs(now.getTime());
    const share = waveShare(behindMs);
    const budget = Math.floor(this.config.rolloutAssignPerSec * share * since);
    if (share < 1) this.log.debug({ rolloutId, ring, behindMs, share, budget }, "report ingest is behind: smaller wave");
    if (budget < 1) return 0;
    const n = await this.assigner.installRing(rolloutId, ring, desired, budget);
    this.lastWave.set(key, now.getTime());
    if (this.lastWave.size > 1000) this.lastWave.delete(this.lastWave.keys().next().value!);
    return n;
  }

  private async ringStats(r: RolloutWithEntry, ring: number, since: Date, excluded: string[]): Promise<{ stats: RingStats; waiting: number }> {
    const s = await this.repo.ringStats(r.id, ring, r.entry.sha256, since, excluded);
    const n = (state: string) => s.states.find((x) => x.state === state)?.n ?? 0;
    return {
      waiting: n("waiting"),
      stats: {
        devices: s.states.reduce((a, x) => a + x.n, 0),
        active: n("active"),
        failed: n("failed"),
        rolledBack: n("rolled_back"),
        inProgress: n("pending") + n("downloading") + n("verifying") + n("testing") + n("waiting"),
        loads: s.loads,
        requests: s.requests,
        tokensPerSecRatios: s.speeds.filter((x) => x.newTps !== null && x.oldTps !== null && x.oldTps > 0).map((x) => x.newTps! / x.oldTps!),
      },
    };
  }

  /** Wake up when a soak ends rather than up to an interval later. */
  private armSoakTimer(at: Date): void {
    if (this.soakTimer && this.soakTimer.at <= at.getTime() && this.soakTimer.at > Date.now()) return;
    if (this.soakTimer) clearTimeout(this.soakTimer.timer);
    const timer = setTimeout(() => {
      this.soakTimer = null;
      this.trigger();
    }, Math.max(0, at.getTime() - Date.now()) + 20);
    timer.unref();
    this.soakTimer = { at: at.getTime(), timer };
  }

  /**
   * A device found that its runtime cannot load the entry: the catalog learns it for that runtime (its key), so every
   * device with the same runtime is reclassified incompatible-runtime and later rollouts skip them.
   */
  private async onRuntimeIncompatible(rolloutId: string, deviceId: string): Promise<void> {
    const [r, row, raw] = await Promise.all([this.repo.get(rolloutId), this.repo.device(rolloutId, deviceId), this.repo.deviceRuntime(deviceId)]);
    const runtime = ZRuntimeInfoV1.safeParse(raw);
    if (!r || !runtime.success) {
      this.log.warn({ rolloutId, deviceId }, "runtime_incompatible reported but the device's runtime is unknown (no inventory with a runtime): nothing learned");
      return;
    }
    await this.compatibility.learnIncompatibility(r.entryId, runtime.data, row?.reason ?? "the runtime could not load the model", deviceId);
    this.log.warn({ rolloutId, deviceId, entryId: r.entryId }, "learned a runtime incompatibility from a failed install");
  }
}
