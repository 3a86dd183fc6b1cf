import fs from "node:fs/promises";
import path from "node:path";
import { UPDATE_PROGRESS_INTERVAL_MS, UpdateFailure, updateStatusOf, type TAssignedTargetV1, type TAssignmentV1, type TDeviceEventV1, type TSelfTestV1, type TUpdateStatusV1 } from "@fleet/protocol";
import type { Logger } from "../logger.js";
import type { InferenceRuntime } from "../runtime/InferenceRuntime.js";
import { RuntimeError } from "../runtime/errors.js";
import { statfsNearest } from "../inventory/statfsNearest.js";
import { describeError } from "../util/describeError.js";
import type { UpdateConfig } from "./config.js";
import { checkGgufFacts } from "./checkGgufFacts.js";
import type { DeviceFetcher } from "./DeviceFetcher.js";
import { downloadResumable, sha256File } from "./downloadResumable.js";
import type { ResourceGovernor } from "../resources/ResourceGovernor.js";
import type { InstallLedger, InstalledTarget } from "./InstallLedger.js";
import { openCatalog, tufMetadataDir, type Catalog } from "./openCatalog.js";
import { UpdateError } from "./UpdateError.js";
import { UpdateEvent } from "./UpdateEvent.js";

/** Downloads in progress live here: a dot-directory is never listed, offered or loaded as a model. */
export const DOWNLOADS_DIR = ".fleet-downloads";

export type UpdateRuntime = Pick<InferenceRuntime, "status" | "inspect" | "selfTest" | "loadModel" | "loadConfigured" | "servableModels">;

export interface UpdateManagerOptions {
  home: string;
  modelsDir: string;
  serverUrl: string;
  trustedRoot: string | null | undefined;
  config: UpdateConfig;
  runtime: UpdateRuntime;
  fetcher: DeviceFetcher;
  ledger: InstallLedger;
  report(status: TUpdateStatusV1): void;
  event(level: TDeviceEventV1["level"], kind: string, message: string, data?: Record<string, unknown>): void;
  logger: Logger;
  /** the resource policy's gate: downloads and self-tests wait for AC power / an idle machine when it says so */
  background?: Pick<ResourceGovernor, "whenBackgroundAllowed" | "hash">;
}

export type ApplyOutcome = "done" | "retry";

/**
 * Acts on a verified assignment: install (TUF refresh -> disk check -> resumable download -> sha256 + target check
 * -> GGUF facts -> self-test beside the serving model -> atomic switch -> active), rollback, clear, revocations.
 * Every step is an "update" report; on any failure the model that served before keeps serving.
 */
export class UpdateManager {
  constructor(private readonly opts: UpdateManagerOptions) {}

  /** `signal` (agent shutdown) ends a download in progress; what arrived stays for the next attempt. */
  async apply(a: TAssignmentV1, signal?: AbortSignal): Promise<ApplyOutcome> {
    await this.revoke(this.opts.ledger.installed.filter((e) => a.revokedSha256.includes(e.sha256)));
    if (a.action === "clear" || a.desired === null) {
      if (a.action === "rollback") await this.returnToPrevious();
      this.report(a, a.action === "rollback" ? "rolled_back" : "active", {});
      return "done";
    }
    try {
      const selfTest = await this.install(a, a.desired, signal);
      this.report(a, a.action === "rollback" ? "rolled_back" : "active", { selfTest });
      await this.collect(a.desired.target);
      return "done";
    } catch (err) {
      const e = err instanceof UpdateError ? err : new UpdateError(UpdateFailure.SelfTestFailed, describeError(err), { cause: err });
      if (e.code === UpdateFailure.DownloadFailed) {
        this.report(a, "downloading", { code: e.code, reason: `${e.message}; retrying in ${this.opts.config.retrySec} s`, bytesTotal: a.desired.length });
        return "retry";
      }
      this.opts.logger.warn({ code: e.code, target: a.desired.target }, e.message);
      this.report(a, "failed", { code: e.code, reason: e.message, selfTest: (err as { selfTest?: TSelfTestV1 }).selfTest ?? null });
      return "done";
    }
  }

  private async install(a: TAssignmentV1, desired: TAssignedTargetV1, signal?: AbortSignal): Promise<TSelfTestV1 | null> {
    const { runtime, modelsDir } = this.opts;
    this.report(a, "pending", { bytesTotal: desired.length });
    const catalog = await openCatalog({ metadataDir: tufMetadataDir(this.opts.home), serverUrl: this.opts.serverUrl, trustedRoot: this.opts.trustedRoot, fetcher: this.opts.fetcher });
    await this.revoke(await this.noLongerTargets(catalog));
    const info = await catalog.target(desired.target);
    const tufSha = info.hashes.sha256;
    if (info.length !== desired.length || tufSha !== desired.sha256) {
      throw new UpdateError(UpdateFailure.HashMismatch, `${desired.target}: the assignment says ${desired.length} bytes sha256 ${desired.sha256}, the catalog's targets say ${info.length} bytes sha256 ${tufSha}`);
    }
    const finalPath = path.join(modelsDir, desired.target);
    const already = this.opts.ledger.find(desired.target, desired.sha256);
    const onDisk = await fs.stat(finalPath).catch(() => null);
    let selfTest: TSelfTestV1 | null = null;
    if (!already || onDisk?.size !== desired.length) {
      const partDir = path.join(modelsDir, DOWNLOADS_DIR);
      await fs.mkdir(partDir, { recursive: true, mode: 0o700 });
      const partFile = path.join(partDir, `${desired.target}.${desired.sha256.slice(0, 16)}.part`);
      const have = await fs.stat(partFile).then((s) => s.size, () => 0);
      const { freeBytes } = await statfsNearest(modelsDir);
      const need = desired.length - Math.min(have, desired.length) + this.opts.config.diskMarginBytes;
      if (freeBytes < need) throw new UpdateError(UpdateFailure.DiskFull, `${desired.target} needs ${need} bytes free (download + ${this.opts.config.diskMarginBytes} margin), ${freeBytes} are`);

      let lastReport = 0;
      await this.opts.background?.whenBackgroundAllowed("download", signal, { target: desired.target });
      this.report(a, "downloading", { bytesDone: have, bytesTotal: desired.length });
      await downloadResumable({
        url: catalog.artifactUrl(desired.target),
        partFile,
        length: desired.length,
        fetcher: this.opts.fetcher,
        stallTimeoutMs: this.opts.config.stallTimeoutSec * 1000,
        signal,
        onProgress: (done) => {
          if (Date.now() - lastReport < UPDATE_PROGRESS_INTERVAL_MS && done < desired.length) return;
          lastReport = Date.now();
          this.report(a, "downloading", { bytesDone: done, bytesTotal: desired.length });
        },
      });

      this.report(a, "verifying", { bytesDone: desired.length, bytesTotal: desired.length });
      // a multi-GB read: at background priority in its own process when the resource policy is in use
      const sha = await (this.opts.background ? this.opts.background.hash(partFile, signal) : sha256File(partFile));
      if (sha !== tufSha) {
        await fs.rm(partFile, { force: true });
        throw new UpdateError(UpdateFailure.HashMismatch, `${desired.target}: downloaded bytes hash to ${sha}, the catalog says ${tufSha}; discarded`);
      }
      const [header] = await runtime.inspect([{ id: desired.target, path: partFile }], false);
      if (!header?.gguf) {
        await fs.rm(partFile, { force: true });
        throw new UpdateError(UpdateFailure.WrongModel, `${desired.target} is not a readable GGUF: ${header?.error ?? "no answer"}`);
      }
      try {
        checkGgufFacts(desired.target, header.gguf, info.custom);
      } catch (err) {
        await fs.rm(partFile, { force: true });
        throw err;
      }

      await this.opts.background?.whenBackgroundAllowed("self-test", signal, { target: desired.target });
      this.report(a, "testing", { bytesDone: desired.length, bytesTotal: desired.length });
      selfTest = await this.selfTest(desired.target, partFile, desired.length);
      if (!selfTest.ok) {
        await fs.rm(partFile, { force: true });
        throw Object.assign(new UpdateError(UpdateFailure.SelfTestFailed, `${desired.target} failed its self-test: ${selfTest.error}`), { selfTest });
      }
      // the switch: a verified, tested file appears in the models dir under its catalog name in one rename
      await fs.rename(partFile, finalPath);
      const servedBefore = runtime.status().activeModel;
      await this.opts.ledger.add({ target: desired.target, sha256: desired.sha256, length: desired.length, servedBefore: servedBefore === desired.target ? null : servedBefore });
    }
    const loaded = await runtime.loadModel(desired.target);
    if (!loaded.ok) {
      throw new UpdateError(loaded.code === "does_not_fit" ? UpdateFailure.DoesNotFit : UpdateFailure.SelfTestFailed, `${desired.target} did not load: ${loaded.reason}`);
    }
    return selfTest;
  }

  /**
   * A rollback with no target: serve again what served before the catalog install now serving (known-good was moved to
   * that install when it became active, so reloading known-good alone would change nothing); else the configured order.
   */
  private async returnToPrevious(): Promise<void> {
    const serving = this.opts.runtime.status().activeModel;
    const before = this.opts.ledger.installed.find((e) => e.target === serving)?.servedBefore ?? null;
    if (before !== null && (await this.opts.runtime.loadModel(before)).ok) return;
    if (before !== null) this.opts.event("warn", UpdateEvent.RollbackFallback, `rollback: ${before} (served before ${serving}) could not load; serving the configured or known-good model`, { model: before });
    await this.opts.runtime.loadConfigured();
  }

  /** Hashes of catalog installs that the refreshed targets no longer list (revoked entries): never served on. */
  private async noLongerTargets(catalog: Catalog): Promise<InstalledTarget[]> {
    const gone: InstalledTarget[] = [];
    for (const e of this.opts.ledger.installed) {
      try {
        if ((await catalog.target(e.target)).hashes.sha256 !== e.sha256) gone.push(e);
      } catch (err) {
        if (err instanceof UpdateError && err.code === UpdateFailure.NotInTargets) gone.push(e);
        else throw err;
      }
    }
    return gone;
  }

  private async selfTest(id: string, file: string, sizeBytes: number): Promise<TSelfTestV1> {
    try {
      const r = await this.opts.runtime.selfTest({ id, path: file, sizeBytes });
      return { ok: true, loadMs: r.loadMs, outputTokens: r.outputTokens, tokensPerSecond: r.tokensPerSecond, error: null };
    } catch (err) {
      if (err instanceof RuntimeError && err.code === "does_not_fit") throw new UpdateError(UpdateFailure.DoesNotFit, `${id} does not fit this device: ${err.message}`);
      return { ok: false, loadMs: null, outputTokens: 0, tokensPerSecond: null, error: describeError(err).slice(0, 2000) };
    }
  }

  /** Stop serving and remove catalog files whose hash was revoked; never leaves the device with nothing to serve. */
  private async revoke(bad: readonly InstalledTarget[]): Promise<void> {
    if (bad.length === 0) return;
    const badNames = new Set(bad.map((e) => e.target));
    for (const entry of bad) {
      if (this.opts.runtime.status().activeModel === entry.target) {
        const others = (await this.opts.runtime.servableModels()).filter((m) => !badNames.has(m.id)).sort((x, y) => y.sizeBytes - x.sizeBytes);
        let switched = false;
        for (const m of others) if ((switched = (await this.opts.runtime.loadModel(m.id)).ok)) break;
        if (!switched) {
          this.opts.event("error", UpdateEvent.RevokedKept, `${entry.target} was revoked but nothing else can serve: it keeps serving until another model is installed`, { target: entry.target });
          continue;
        }
      }
      await fs.rm(path.join(this.opts.modelsDir, entry.target), { force: true });
      await this.opts.ledger.remove(entry.target);
      this.opts.event("warn", UpdateEvent.RevokedRemoved, `${entry.target} was revoked by the catalog: removed`, { target: entry.target, sha256: entry.sha256 });
    }
  }

  /**
   * Keep the serving target and keepPreviousVersions older catalog installs; remove the rest (never the serving model)
   * and partial downloads of targets no longer wanted.
   */
  private async collect(current: string): Promise<void> {
    const partDir = path.join(this.opts.modelsDir, DOWNLOADS_DIR);
    for (const name of await fs.readdir(partDir).catch(() => [] as string[])) {
      if (!name.startsWith(`${current}.`)) await fs.rm(path.join(partDir, name), { force: true });
    }
    const serving = this.opts.runtime.status().activeModel;
    const older = this.opts.ledger.installed.filter((e) => e.target !== current && e.target !== serving);
    const excess = older.slice(0, Math.max(0, older.length - this.opts.config.keepPreviousVersions));
    for (const e of excess) {
      await fs.rm(path.join(this.opts.modelsDir, e.target), { force: true });
      await this.opts.ledger.remove(e.target);
      this.opts.event("info", UpdateEvent.Collected, `removed ${e.target}: older than the ${this.opts.config.keepPreviousVersions} previous catalog version(s) kept`, { target: e.target });
    }
  }

  private report(a: TAssignmentV1, state: TUpdateStatusV1["state"], extra: Partial<TUpdateStatusV1>): void {
    const rt = this.opts.runtime.status();
    const serving = rt.activeModel ? { model: rt.activeModel.slice(0, 500), sha256: this.opts.ledger.installed.find((e) => e.target === rt.activeModel)?.sha256 ?? null } : null;
    this.opts.report(updateStatusOf(a, state, { serving, ...extra, reason: extra.reason?.slice(0, 2000) ?? null }));
  }
}
