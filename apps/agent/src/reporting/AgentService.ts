import path from "node:path";
import { redactNatsUrl, reportAllowedByTelemetry, subjects, type PolicyTelemetryMode, type ReportBody, type ReportKind, type TCommandV1, type TDeviceEventV1 } from "@fleet/protocol";
import { CommandGate } from "../commands/CommandGate.js";
import { CommandListener } from "../commands/CommandListener.js";
import type { AgentConfig } from "../config/ZAgentConfig.js";
import { DEFAULT_HEARTBEAT_INTERVAL_SEC } from "../config/ZAgentConfig.js";
import { ConfigError } from "../errors.js";
import { InventoryCollector } from "../inventory/collectInventory.js";
import { silentLogger, type Logger } from "../logger.js";
import { HASH_CACHE_FILE, scanModels } from "../models/scanModels.js";
import { watchDir } from "../models/watchDir.js";
import type { ApprovedHashes } from "../exposure/ApprovedHashes.js";
import { scanExposure } from "../exposure/scanExposure.js";
import { buildPosture } from "../posture/buildPosture.js";
import { DiskQueue } from "../queue/DiskQueue.js";
import type { RuntimeHooks } from "../runtime/RuntimeHooks.js";
import type { AgentState } from "../state/ZAgentState.js";
import { describeError } from "../util/describeError.js";
import { AGENT_VERSION } from "../version.js";
import type { CatalogUpdater } from "../update/CatalogUpdater.js";
import type { ResourceGovernor } from "../resources/ResourceGovernor.js";
import { fingerprint } from "./fingerprint.js";
import { agentNatsIdentity } from "./agentNatsOptions.js";
import { NatsLink } from "./NatsLink.js";
import { QueuePublisher } from "./QueuePublisher.js";
import { ReportSigner } from "./ReportSigner.js";
import { Egress } from "../egress/Egress.js";
import { EgressLedger } from "../egress/EgressLedger.js";
import type { DevicePolicyWatcher } from "../policy/DevicePolicyWatcher.js";

export interface AgentServiceOptions {
  config: AgentConfig;
  state: AgentState;
  logger?: Logger;
  /** the local inference runtime; the service stops it in stop() */
  runtime?: RuntimeHooks;
  /** the synced catalog's approved model hashes, for model provenance in the posture (absent = not synced) */
  approvedHashes?: ApprovedHashes;
  /** catalog updates (signed assignments + TUF); started and stopped with the service */
  updater?: CatalogUpdater;
  /** the resource policy: background work (hashing, benchmarks) waits for its turn and runs at low priority */
  governor?: ResourceGovernor;
  /** the one egress layer (outbound ledger); absent = one over <home>/egress-ledger.json, scoped sockets only */
  egress?: Egress;
  /** the signed device policy in force (telemetry mode); started and stopped with the service */
  policy?: DevicePolicyWatcher;
  /** timings tests shorten; defaults suit production */
  tuning?: { commandRetryMs?: number; natsRetryMs?: number; watchDebounceMs?: number; stopDrainMs?: number };
}

type SnapshotKind = "inventory" | "models" | "posture";

/**
 * The agent's reporting loop, usable in process: reports inventory, models and posture at start and whenever
 * they change, heartbeats while connected, runtime metrics on the runtime's interval, and acts on signed
 * commands. Everything it sends goes through the signed on-disk queue.
 */
export class AgentService {
  private readonly log: Logger;
  private readonly natsUrl: string;
  private readonly prefix: string;
  private queue: DiskQueue | null = null;
  private signer: ReportSigner | null = null;
  private link: NatsLink | null = null;
  private publisher: QueuePublisher | null = null;
  private commands: CommandListener | null = null;
  private readonly inventory: InventoryCollector;
  private readonly lastSent = new Map<SnapshotKind, string>();
  /** the last models scan, for model provenance in the posture */
  private lastModels: { sha256: string; fileName: string }[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private watcher: { close(): void } | null = null;
  private readonly pending = new Set<Promise<unknown>>();
  /** reports that could not be queued (disk full, home unwritable) since the queue last accepted one, by kind */
  private readonly notQueued = new Map<ReportKind, number>();
  private lastQueueError: string | null = null;
  /** the commandId of the benchmark running now: one at a time, it measures the whole machine */
  private benchmarkRunning: string | null = null;
  private scanning: Promise<void> | null = null;
  private rescanQueued = false;
  private startedAt = 0;
  private stopped = false;
  private readonly egress: Egress;
  private readonly ownsEgress: boolean;
  /** reports the telemetry mode kept on the device, by kind (never queued, never sent) */
  private readonly withheld = new Map<ReportKind, number>();

  constructor(private readonly opts: AgentServiceOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ component: "AgentService", deviceId: opts.state.deviceId });
    const natsUrl = opts.config.natsUrl ?? opts.state.natsUrl;
    if (!natsUrl) throw new ConfigError("no NATS URL: the server gave none at enrollment and natsUrl is not configured", ["natsUrl: required"]);
    this.natsUrl = natsUrl;
    this.prefix = opts.config.subjectPrefix ?? opts.state.subjectPrefix;
    const runtime = opts.runtime;
    this.ownsEgress = !opts.egress;
    this.egress = opts.egress ?? new Egress({ ledger: EgressLedger.forHome(opts.config.home) });
    this.inventory = new InventoryCollector(opts.config.modelsDir, runtime?.runtimeInfo ? () => runtime.runtimeInfo!() : undefined);
  }

  /** Open the queue, connect (in the background), send the first snapshots and start the timers. */
  async start(): Promise<void> {
    const { config, state } = this.opts;
    const logger = this.opts.logger ?? silentLogger();
    const tuning = this.opts.tuning ?? {};
    this.startedAt = Date.now();
    const ledgerProblem = await this.egress.ledger.load();
    if (ledgerProblem) this.log.warn({ problem: ledgerProblem }, "egress ledger starts afresh");
    this.queue = await DiskQueue.open(path.join(config.home, "queue"), config.queue, logger);
    this.signer = await ReportSigner.create(state, this.queue);
    const subj = subjects(this.prefix);
    this.link = new NatsLink({ url: this.natsUrl, name: `fleet-agent-${state.deviceId}`, identity: agentNatsIdentity(state), logger, minRetryMs: tuning.natsRetryMs, egress: this.egress });
    this.publisher = new QueuePublisher({ queue: this.queue, link: this.link, subjectFor: (k) => subj.report(state.deviceId, k), logger });
    this.commands = new CommandListener({
      link: this.link,
      state,
      subjectPrefix: this.prefix,
      stream: config.commandsStream,
      logger,
      retryMs: tuning.commandRetryMs,
      gate: await CommandGate.open({ home: config.home, logger }),
      onCommand: (c) => this.handleCommand(c),
      onRefused: (reason, detail, commandId) =>
        this.sendEvent("warn", "command.refused", `refused a command: ${reason}`, commandId ? { reason, detail, commandId } : { reason, detail }),
    });
    this.log.info({ queueDepth: this.queue.depth, natsUrl: redactNatsUrl(this.natsUrl), prefix: this.prefix }, "agent starting");
    this.link.onConnect(() => this.track(this.sendHeartbeat()));
    const policy = this.opts.policy;
    if (policy) {
      await policy.load();
      // the signed policy's resources replace the local ones (threads cap, background work), now and on every change
      if (this.opts.governor) await this.opts.governor.follow(policy);
      policy.onChange(() => this.track(this.reportPosture(false)));
      const link = this.link;
      this.link.onConnect(() => link.connection && this.track(policy.attach(link.connection)));
    }
    const updater = this.opts.updater;
    if (updater) {
      await updater.start({ update: (body) => this.track(this.enqueue("update", body)), event: (e) => this.reportEvent(e) });
      const link = this.link;
      this.link.onConnect(() => link.connection && this.track(updater.attach(link.connection)));
    }
    this.link.start();
    this.publisher.start();
    this.commands.start();

    await this.reportSnapshots(true);

    const hbSec = config.heartbeatIntervalSec ?? state.heartbeatIntervalSec ?? DEFAULT_HEARTBEAT_INTERVAL_SEC;
    this.every(hbSec, () => this.sendHeartbeat());
    this.every(config.inventoryIntervalSec, () => this.reportInventory(false));
    this.every(config.modelsRescanIntervalSec, () => this.rescanModels());
    this.every(config.postureIntervalSec, () => this.reportPosture(false));
    this.every(config.postureIntervalSec, () => this.reportEgress());
    if (this.opts.runtime) this.every(config.runtime.metricsIntervalSec, () => this.sendMetrics());
    this.watcher = watchDir(config.modelsDir, tuning.watchDebounceMs ?? 2000, () => this.track(this.rescanModels()));
  }

  /** Stop timers and listeners, deliver what can be delivered within a short drain, close NATS, stop the runtime. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.watcher?.close();
    this.opts.governor?.close(); // deferred hashing or benchmarks must not hold the stop
    await this.commands?.stop();
    await this.opts.updater?.stop();
    await Promise.allSettled([...this.pending]);
    await this.publisher?.stop(this.opts.tuning?.stopDrainMs ?? 2000);
    await this.link?.stop();
    await this.opts.policy?.stop();
    await this.egress.ledger.persist().catch((err) => this.log.error({ err: describeError(err) }, "could not persist the egress ledger"));
    if (this.ownsEgress) this.egress.close();
    await this.opts.runtime?.stop().catch((err) => this.log.error({ err: describeError(err) }, "runtime did not stop cleanly"));
    this.log.info({ queueDepth: this.queue?.depth ?? 0 }, "agent stopped");
  }

  /** For status output and tests. */
  status(): { connected: boolean; queueDepth: number; published: number; uptimeSec: number; notQueued: number; lastQueueError: string | null; queueLost: number } {
    return {
      connected: this.link?.connected ?? false,
      queueDepth: this.queue?.depth ?? 0,
      published: this.publisher?.publishedCount ?? 0,
      uptimeSec: this.startedAt ? (Date.now() - this.startedAt) / 1000 : 0,
      notQueued: [...this.notQueued.values()].reduce((a, b) => a + b, 0),
      lastQueueError: this.lastQueueError,
      // broken (e.g. truncated) records the queue found and could not deliver
      queueLost: this.queue?.lostCount ?? 0,
    };
  }

  /** Collect and send inventory, models and posture; with `force`, even when unchanged. */
  async reportSnapshots(force: boolean): Promise<void> {
    // posture after models: its provenance list is the models just scanned
    await Promise.all([this.reportInventory(force), this.reportModels(force).then(() => this.reportPosture(force))]);
  }

  private async reportInventory(force: boolean): Promise<void> {
    try {
      await this.sendIfChanged("inventory", await this.inventory.collect(), force);
    } catch (err) {
      this.log.error({ err: describeError(err) }, "inventory collection failed");
    }
  }

  private async reportModels(force: boolean): Promise<void> {
    try {
      const governor = this.opts.governor;
      const { report, hashed } = await scanModels(this.opts.config.modelsDir, {
        cacheFile: path.join(this.opts.config.home, HASH_CACHE_FILE),
        hash: governor ? (file) => governor.hash(file) : undefined,
      });
      if (hashed) this.log.info({ hashed, models: report.models.length }, "hashed new or changed models");
      if (report.unreadable?.length) this.log.warn({ unreadable: report.unreadable }, "model files that cannot be read are reported as unreadable");
      this.lastModels = report.models.map((m) => ({ sha256: m.sha256, fileName: m.fileName }));
      await this.sendIfChanged("models", report, force);
    } catch (err) {
      this.log.error({ err: describeError(err) }, "model scan failed");
    }
  }

  private async reportPosture(force: boolean): Promise<void> {
    try {
      const serverUrl = this.opts.config.serverUrl ?? this.opts.state.serverUrl;
      const exposure = await this.egress.probes(() => scanExposure({
        config: this.opts.config.exposure,
        api: this.apiPort(),
        models: this.lastModels,
        approved: this.opts.approvedHashes ?? null,
      })).catch((err) => {
        // the declared posture still goes out; the scan's absence is visible on the server (no exposure field)
        this.log.error({ err: describeError(err) }, "exposure scan failed");
        return undefined;
      });
      await this.sendIfChanged("posture", buildPosture({ serverUrl, natsUrl: this.natsUrl, runtime: this.opts.runtime, exposure, resources: this.opts.governor?.applied(), telemetry: this.telemetry() }), force);
    } catch (err) {
      this.log.error({ err: describeError(err) }, "posture report failed");
    }
  }

  /** The outbound ledger as the sockets counted it; persisted so the totals survive a restart. */
  private async reportEgress(): Promise<void> {
    await this.enqueue("egress", this.egress.ledger.snapshot());
    await this.egress.ledger.persist().catch((err) => this.log.error({ err: describeError(err) }, "could not persist the egress ledger"));
  }

  /**
   * The signed policy's telemetry mode. With a policy watcher but no valid policy (none received yet, or expired)
   * the agent fails closed: "off". Without a watcher (in-process uses) the historical default "minimal" applies.
   */
  telemetry(): PolicyTelemetryMode {
    const policy = this.opts.policy;
    if (!policy) return "minimal";
    return policy.current()?.privacy.telemetry ?? "off";
  }

  /** Reports kept on the device by the telemetry mode, by kind (for status and tests). */
  withheldReports(): Partial<Record<ReportKind, number>> {
    return Object.fromEntries(this.withheld);
  }

  private apiPort(): { port: number } | null {
    const api = this.opts.runtime?.localApiExposure();
    return api?.enabled ? { port: api.port } : null;
  }

  /** One scan at a time; a change during a scan queues exactly one more. */
  private rescanModels(): Promise<void> {
    if (this.scanning) {
      this.rescanQueued = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescanQueued = false;
        await this.reportModels(false);
        // the models list feeds the posture only through the runtime, but a rescan is when a runtime switch shows
        await this.reportPosture(false);
      } while (this.rescanQueued && !this.stopped);
    })().finally(() => (this.scanning = null));
    return this.scanning;
  }

  private async sendIfChanged<K extends SnapshotKind>(kind: K, body: ReportBody<K>, force: boolean): Promise<void> {
    const fp = fingerprint(kind, body);
    if (!force && this.lastSent.get(kind) === fp) return;
    // only once it is queued: a snapshot the queue refused is sent again (see recoverFromQueueFailure)
    if (await this.enqueue(kind, body)) this.lastSent.set(kind, fp);
  }

  private async sendHeartbeat(): Promise<void> {
    // Liveness, not data: a heartbeat written during an outage would only say "was alive then".
    if (!this.link?.connected || this.stopped) return;
    const rt = this.opts.runtime?.status() ?? { state: "disabled" as const, activeModel: null };
    await this.enqueue("heartbeat", {
      agentVersion: AGENT_VERSION,
      uptimeSec: (Date.now() - this.startedAt) / 1000,
      queueDepth: this.queue?.depth ?? 0,
      runtime: { state: rt.state, activeModel: rt.activeModel?.slice(0, 500) ?? null },
      rssBytes: process.memoryUsage.rss(),
    });
  }

  private async sendMetrics(): Promise<void> {
    const metrics = this.opts.runtime?.takeMetrics();
    if (metrics) await this.enqueue("metrics", metrics);
  }

  /**
   * Report a device event from outside the service (the runtime's load failures, fallbacks, refusals).
   * Call it after start(): before the queue is open there is nowhere to put it.
   */
  reportEvent(event: TDeviceEventV1): void {
    if (this.stopped || !this.signer) return;
    this.track(this.enqueue("events", { events: [{ ...event, message: event.message.slice(0, 2000) }] }));
  }

  private async sendEvent(level: TDeviceEventV1["level"], kind: string, message: string, data?: Record<string, unknown>): Promise<void> {
    await this.enqueue("events", { events: [{ at: new Date().toISOString(), level, kind, message: message.slice(0, 2000), data }] });
  }

  private async handleCommand(command: TCommandV1): Promise<void> {
    const body = command.body;
    this.log.info({ commandId: command.commandId, type: body.type }, "command received");
    if (body.type === "report-now") {
      await this.reportSnapshots(true);
      return;
    }
    const runtime = this.opts.runtime;
    if (!runtime) {
      await this.sendEvent("warn", "command.benchmark.unavailable", "benchmark requested but the local runtime is not running", { commandId: command.commandId });
      return;
    }
    // Two at once would measure each other, and the device could be flooded with them: refuse, and say why.
    if (this.benchmarkRunning) {
      const running = this.benchmarkRunning;
      await this.sendEvent("warn", "command.benchmark.busy", `benchmark refused: benchmark ${running} is still running`, { commandId: command.commandId, running });
      return;
    }
    this.benchmarkRunning = command.commandId;
    // Not awaited: a benchmark takes minutes and must not hold up commands or reports.
    // A benchmark loads the whole machine: background work, it waits for AC power / an idle machine if the policy says so.
    const turn = this.opts.governor?.whenBackgroundAllowed("benchmark", undefined, { commandId: command.commandId }) ?? Promise.resolve();
    this.track(
      turn
        .then(() => runtime.runBenchmark(body, command.commandId))
        .then((result) => this.enqueue("benchmark", result))
        .catch((err) =>
          this.sendEvent("error", "command.benchmark.failed", `benchmark failed: ${describeError(err)}`, { commandId: command.commandId }),
        )
        .finally(() => (this.benchmarkRunning = null)),
    );
  }

  /** Sign and queue a report; false when the queue refused it (counted, and reported once it accepts again). */
  private async enqueue<K extends ReportKind>(kind: K, body: ReportBody<K>): Promise<boolean> {
    if (!this.signer) return false;
    // With telemetry off only the control-plane reports packages/protocol names leave the device: the rest is
    // dropped here, before it is signed or queued, so it can never be sent later either.
    const mode = this.telemetry();
    if (!reportAllowedByTelemetry(mode, kind)) {
      this.withheld.set(kind, (this.withheld.get(kind) ?? 0) + 1);
      this.log.debug({ kind, telemetry: mode }, "report withheld by the telemetry policy");
      return false;
    }
    try {
      const m = await this.signer.enqueue(kind, body);
      this.log.debug({ kind, seq: m.seq }, "report queued");
    } catch (err) {
      this.notQueued.set(kind, (this.notQueued.get(kind) ?? 0) + 1);
      this.lastQueueError = describeError(err);
      this.log.error({ kind, err: this.lastQueueError, notQueued: Object.fromEntries(this.notQueued) }, "report not queued; the loss is reported when the queue accepts again");
      return false;
    }
    if (this.notQueued.size > 0) this.recoverFromQueueFailure();
    return true;
  }

  /**
   * The queue accepts again (space came back): tell the server what was lost and why, and send the current
   * snapshots at once instead of at their next interval. Heartbeats and metrics windows are not re-created.
   */
  private recoverFromQueueFailure(): void {
    const lost = Object.fromEntries(this.notQueued) as Partial<Record<ReportKind, number>>;
    const error = this.lastQueueError;
    this.notQueued.clear();
    const total = Object.values(lost).reduce((a, b) => a + (b ?? 0), 0);
    this.log.warn({ lost, error }, "the report queue accepts again");
    this.track(this.sendEvent("error", "reports.not-queued", `${total} report(s) could not be queued: ${error ?? "unknown error"}`, { lost, error }));
    if (lost.inventory) this.track(this.reportInventory(true));
    if (lost.models || lost.posture) this.track(this.reportModels(true).then(() => this.reportPosture(true)));
  }

  private every(sec: number, fn: () => Promise<void>): void {
    const t = setInterval(() => this.track(fn()), Math.max(50, sec * 1000));
    this.timers.push(t);
  }

  private track(p: Promise<unknown>): void {
    const guarded = p.catch((err) => this.log.error({ err: describeError(err) }, "background task failed"));
    this.pending.add(guarded);
    void guarded.finally(() => this.pending.delete(guarded));
  }
}
