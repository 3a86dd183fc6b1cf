import type { NatsConnection } from "nats";
import { openAssignment, type TAssignmentV1, type TDeviceEventV1, type TUpdateStatusV1 } from "@fleet/protocol";
import { importJWK, type CryptoKey } from "jose";
import type { Logger } from "../logger.js";
import type { AgentState } from "../state/ZAgentState.js";
import { describeError } from "../util/describeError.js";
import { AssignmentStore } from "./AssignmentStore.js";
import { AssignmentWatcher } from "./AssignmentWatcher.js";
import type { UpdateConfig } from "./config.js";
import { DeviceFetcher } from "./DeviceFetcher.js";
import type { Egress } from "../egress/Egress.js";
import { InstallLedger } from "./InstallLedger.js";
import { UpdateEvent } from "./UpdateEvent.js";
import { UpdateManager, type UpdateRuntime } from "./UpdateManager.js";
import type { ResourceGovernor } from "../resources/ResourceGovernor.js";

export interface CatalogUpdaterOptions {
  home: string;
  modelsDir: string;
  serverUrl: string;
  state: AgentState;
  config: UpdateConfig;
  runtime: UpdateRuntime;
  logger: Logger;
  /** the resource policy's gate for downloads and self-tests */
  background?: Pick<ResourceGovernor, "whenBackgroundAllowed" | "hash">;
  /** the agent's egress layer (outbound ledger) for catalog metadata and artifact downloads */
  egress?: Egress;
}

export interface UpdateSink {
  update(status: TUpdateStatusV1): void;
  event(event: TDeviceEventV1): void;
}

/** The agent's catalog update loop: assignment watcher + update manager, one assignment at a time, retries. */
export class CatalogUpdater {
  readonly store: AssignmentStore;
  private readonly ledger: InstallLedger;
  private watcher: AssignmentWatcher | null = null;
  private manager: UpdateManager | null = null;
  private sink: UpdateSink | null = null;
  private running: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(private readonly opts: CatalogUpdaterOptions) {
    this.store = AssignmentStore.at(opts.home);
    this.ledger = InstallLedger.at(opts.home);
  }

  /** Load persisted state, resume an unfinished assignment, then follow the KV key once connected. */
  async start(sink: UpdateSink): Promise<void> {
    this.sink = sink;
    await Promise.all([this.store.load(), this.ledger.load()]);
    this.manager = new UpdateManager({
      home: this.opts.home,
      modelsDir: this.opts.modelsDir,
      serverUrl: this.opts.serverUrl,
      trustedRoot: this.opts.state.catalogTrustedRoot,
      config: this.opts.config,
      runtime: this.opts.runtime,
      fetcher: new DeviceFetcher(this.opts.state, undefined, this.opts.egress),
      ledger: this.ledger,
      report: (s) => sink.update(s),
      event: (level, kind, message, data) => this.event(level, kind, message, data),
      logger: this.opts.logger,
      background: this.opts.background,
    });
    this.watcher = new AssignmentWatcher({
      state: this.opts.state,
      store: this.store,
      logger: this.opts.logger,
      onAssignment: (a) => this.schedule(a),
      onRefused: (reason, detail, version) =>
        this.event("warn", UpdateEvent.AssignmentRefused, `refused an assignment (${reason}): ${detail}`, { reason, version, accepted: this.store.value.version }),
    });
    await this.resumeUnfinished();
    this.pollTimer = setInterval(() => void this.watcher?.poll(), this.opts.config.assignmentPollSec * 1000);
  }

  /** Called on every (re)connect. */
  attach(nc: NatsConnection): Promise<void> {
    return this.watcher?.attach(nc) ?? Promise.resolve();
  }

  /** Resolves when the assignment work queued so far has finished (tests, shutdown). */
  idle(): Promise<void> {
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort(new Error("agent stopping"));
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.watcher?.stop();
    await this.running;
  }

  private async resumeUnfinished(): Promise<void> {
    const stored = this.store.value;
    if (stored.done || !stored.jws) return;
    // accepted before the restart but not finished: re-verify (signature, expiry) without the replay floor
    this.serverKey ??= importJWK({ ...this.opts.state.serverPublicJwk, alg: "EdDSA" }, "EdDSA") as Promise<CryptoKey>;
    const r = await openAssignment(stored.jws, await this.serverKey, { deviceId: this.opts.state.deviceId, minVersionExclusive: stored.version - 1 });
    if (r.ok) this.schedule(r.value);
    else await this.store.save({ ...stored, done: true });
  }
  private serverKey: Promise<CryptoKey> | null = null;

  private schedule(a: TAssignmentV1): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.running = this.running.then(async () => {
      if (this.stopped || this.store.value.version !== a.version) return; // superseded while waiting
      try {
        const outcome = await this.manager!.apply(a, this.abort.signal);
        if (outcome === "retry") {
          // not done: a restart resumes it too
          if (!this.stopped) this.retryTimer = setTimeout(() => this.schedule(a), this.opts.config.retrySec * 1000);
          return;
        }
        if (this.store.value.version === a.version) await this.store.save({ ...this.store.value, done: true });
      } catch (err) {
        this.opts.logger.error({ err: describeError(err), version: a.version }, "assignment not applied");
      }
    });
  }

  private event(level: TDeviceEventV1["level"], kind: string, message: string, data?: Record<string, unknown>): void {
    this.opts.logger[level]({ kind, ...data }, message);
    this.sink?.event({ at: new Date().toISOString(), level, kind, message: message.slice(0, 2000), data });
  }
}
