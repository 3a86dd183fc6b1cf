import os from "node:os";
import type { TDeviceEventV1, TDevicePolicyV1, TPowerStateV1, TResourcesAppliedV1 } from "@fleet/protocol";
import { hasIonice } from "./backgroundPriority.js";
import { hashInBackground } from "./hashInBackground.js";
import { readCpuBusyPct, readPowerState } from "./readMachineState.js";
import type { ResourcePolicy, ResourcesConfig } from "./ZResourcesConfig.js";

function signalWorker(pid: number, sig: "SIGSTOP" | "SIGCONT"): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* it exited meanwhile */
  }
}

/** Platform readings the governor decides on; injected at this boundary in tests (a battery, a busy machine). */
export interface MachineReadings {
  power(): Promise<TPowerStateV1>;
  cpuBusyPct(): Promise<number>;
}

export type BackgroundWork = "hashing" | "download" | "self-test" | "benchmark";
export type BackgroundVerdict = { ok: true } | { ok: false; reason: string };

export interface ResourceGovernorOptions {
  config: ResourcesConfig;
  cores?: number;
  readings?: Partial<MachineReadings>;
  /** device events: background work deferred / resumed */
  onEvent?(event: TDeviceEventV1): void;
  /** a new cap on inference threads (null = none): the runtime applies it to its loads */
  onThreadsCap?(cap: number | null): Promise<void> | void;
}

/**
 * Applies the `resources` part of the device policy: the inference threads cap, the conditions for background
 * work (AC power, machine not busy) and the priority it runs at, and says what it applied (posture).
 */
export class ResourceGovernor {
  private policy: ResourcePolicy;
  private policyVersion: number | null = null;
  private readonly cores: number;
  private readonly readings: MachineReadings;
  private lastDeferral: TResourcesAppliedV1["lastDeferral"] = null;
  /** aborted by close(): deferred work stops waiting when the agent stops */
  private readonly closed = new AbortController();
  /** background work processes running now (pids) */
  private readonly workers = new Set<number>();
  /** interactive requests in progress: background processes are paused (SIGSTOP) while any runs */
  private interactive = 0;

  constructor(private readonly opts: ResourceGovernorOptions) {
    this.policy = opts.config.policy;
    this.cores = opts.cores ?? os.availableParallelism();
    this.readings = {
      power: opts.readings?.power ?? readPowerState,
      cpuBusyPct: opts.readings?.cpuBusyPct ?? (() => readCpuBusyPct(opts.config.cpuSampleMs)),
    };
  }

  /** Apply a verified device policy's resources (version only grows; the caller verified the signature). */
  async apply(policy: ResourcePolicy, version: number | null): Promise<void> {
    this.policy = policy;
    this.policyVersion = version;
    await this.opts.onThreadsCap?.(this.threadsCap());
  }

  /**
   * Follow the signed device policy (DevicePolicyWatcher): apply the one in force now and every newer one it
   * verifies. Until one arrives the local config's policy stays.
   */
  async follow(source: { current(): TDevicePolicyV1 | null; onChange(fn: (p: TDevicePolicyV1) => void): void }): Promise<void> {
    source.onChange((p) => {
      this.apply(p.resources, p.version).catch((err: unknown) =>
        this.event("error", "resources.policy.failed", `could not apply resource policy v${p.version}: ${(err as Error).message}`, { version: p.version }),
      );
    });
    const now = source.current();
    if (now) await this.apply(now.resources, now.version);
  }

  get current(): ResourcePolicy {
    return this.policy;
  }

  /** min(maxInferenceThreads, floor(cores x maxCpuSharePct), at least 1); null when the policy sets neither. */
  threadsCap(): number | null {
    const caps: number[] = [];
    if (this.policy.maxInferenceThreads !== null) caps.push(this.policy.maxInferenceThreads);
    if (this.policy.maxCpuSharePct !== null) caps.push(Math.max(1, Math.floor((this.cores * this.policy.maxCpuSharePct) / 100)));
    return caps.length ? Math.min(...caps) : null;
  }

  /** May background work run now? No when the policy wants AC and the machine is on battery, or it is busy. */
  async checkBackground(): Promise<BackgroundVerdict> {
    const p = this.policy;
    if (p.backgroundOnlyOnAcPower) {
      const power = await this.readings.power();
      if (power.source === "battery") return { ok: false, reason: "on battery power (the policy allows background work only on AC)" };
    }
    if (p.backgroundOnlyWhenIdle) {
      const busy = await this.readings.cpuBusyPct();
      if (busy >= p.idleCpuPctBelow) return { ok: false, reason: `the machine is busy (CPU ${Math.round(busy)}% >= ${p.idleCpuPctBelow}% idle threshold)` };
    }
    return { ok: true };
  }

  /**
   * Wait until background work may run: deferred work says so once (event with the reason), looks again every
   * deferRetrySec, and says when it resumes. Rejects when `signal` aborts.
   */
  async whenBackgroundAllowed(work: BackgroundWork, callerSignal?: AbortSignal, data?: Record<string, unknown>): Promise<void> {
    const signal = callerSignal ? AbortSignal.any([callerSignal, this.closed.signal]) : this.closed.signal;
    let deferredSince: number | null = null;
    for (;;) {
      signal.throwIfAborted();
      const v = await this.checkBackground();
      if (v.ok) {
        if (deferredSince !== null) {
          this.event("info", "resources.background.resumed", `${work} resumes after ${Math.round((Date.now() - deferredSince) / 1000)} s deferred`, { work, ...data });
        }
        return;
      }
      if (deferredSince === null) {
        deferredSince = Date.now();
        this.lastDeferral = { at: new Date().toISOString(), work, reason: v.reason.slice(0, 500) };
        this.event("info", "resources.background.deferred", `${work} deferred: ${v.reason}`, { work, reason: v.reason, ...data });
      }
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.opts.config.deferRetrySec * 1000);
        signal.addEventListener("abort", () => (clearTimeout(t), reject(signal.reason as Error)), { once: true });
      });
    }
  }

  /** Hash a file as background work: waits for its turn, then runs at background priority. */
  async hash(file: string, signal?: AbortSignal): Promise<string> {
    await this.whenBackgroundAllowed("hashing", signal, { file });
    let pid: number | null = null;
    try {
      return await hashInBackground(file, this.policy, {
        signal,
        onSpawn: (p) => {
          pid = p;
          this.workers.add(p);
          if (this.interactive > 0) signalWorker(p, "SIGSTOP");
        },
      });
    } finally {
      if (pid !== null) this.workers.delete(pid);
    }
  }

  /**
   * An interactive request (local API generation) starts: background work processes pause until the last one
   * ends, so a person's request never waits behind hashing. Returns the function that ends it.
   */
  beginInteractive(): () => void {
    if (++this.interactive === 1) for (const pid of this.workers) signalWorker(pid, "SIGSTOP");
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.interactive === 0) for (const pid of this.workers) signalWorker(pid, "SIGCONT");
    };
  }

  /** The agent stops: work still waiting for its turn gives up (rejects). */
  close(): void {
    this.closed.abort(new Error("the agent is stopping; deferred background work was not run"));
    this.interactive = 0;
    for (const pid of this.workers) signalWorker(pid, "SIGCONT");
  }

  applied(): TResourcesAppliedV1 {
    const p = this.policy;
    return {
      policyVersion: this.policyVersion,
      cores: this.cores,
      inferenceThreadsCap: this.threadsCap(),
      maxInferenceThreads: p.maxInferenceThreads,
      maxCpuSharePct: p.maxCpuSharePct,
      background: {
        onlyOnAcPower: p.backgroundOnlyOnAcPower,
        onlyWhenIdle: p.backgroundOnlyWhenIdle,
        idleCpuPctBelow: p.idleCpuPctBelow,
        nice: p.backgroundNice,
        ioniceClass: p.backgroundIoniceClass,
        ioniceAvailable: hasIonice(),
      },
      lastDeferral: this.lastDeferral,
    };
  }

  private event(level: TDeviceEventV1["level"], kind: string, message: string, data: Record<string, unknown>): void {
    this.opts.onEvent?.({ at: new Date().toISOString(), level, kind, message: message.slice(0, 2000), data });
  }
}
