import path from "node:path";
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from "@nestjs/common";
import type { Logger } from "pino";
import { ZSha256Hex, ZTargetPath } from "@fleet/protocol";
import { CONFIG, LOGGER } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { artifactFile } from "../catalog/artifact-store.js";
import { generateTufKey, TufKeyStore, TUF_ROLES, type TufRole, type TufSigningKey } from "./tuf-keys.js";
import { buildRoot, buildSnapshot, buildTargets, buildTimestamp, parseTufFileName, type SignedMetadata, type TufTarget } from "./tuf-metadata.js";
import { TufRepository, type TufWriter } from "./tuf.repository.js";

export type TufConfig = Pick<ServerConfig, "dataDir" | "tufTimestampRefreshSec">;

/** Re-sign the timestamp when less than this is left (the refresh job runs every tufTimestampRefreshSec). */
const TIMESTAMP_REFRESH_BEFORE_MS = 12 * 3_600_000;
/** Re-sign targets + snapshot (+ timestamp) when either has less than this left. */
const CHAIN_REFRESH_BEFORE_MS = 3 * 86_400_000;

/**
 * The catalog's TUF repository: keys on disk (0600), signed metadata in TufMetadata rows (served byte for byte).
 * Approved and deprecated entries are the targets; every change re-signs targets, snapshot and timestamp under a
 * PostgreSQL advisory lock, so replicas and the rotation CLI never interleave versions.
 */
@Injectable()
export class TufRepositoryService implements OnModuleInit, OnApplicationShutdown {
  private readonly keys: TufKeyStore;
  private timer: NodeJS.Timeout | null = null;
  private parsedTargets: { version: number; targets: Map<string, { sha256: string; length: number }> } | null = null;

  constructor(
    private readonly repo: TufRepository,
    @Inject(CONFIG) private readonly config: TufConfig,
    @Inject(LOGGER) private readonly rootLog: Logger,
  ) {
    this.keys = new TufKeyStore(path.join(config.dataDir, "tuf-keys"));
  }

  private get log(): Logger {
    return this.rootLog.child({ context: "TufRepositoryService" });
  }

  async onModuleInit(): Promise<void> {
    await this.ensureInitialized();
    const sec = this.config.tufTimestampRefreshSec;
    if (sec > 0) {
      this.timer = setInterval(() => {
        this.refreshIfDue().catch((err) => this.log.error({ err }, "TUF timestamp refresh failed"));
      }, sec * 1000);
      this.timer.unref();
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** First start: create the four keys and version 1 of every role. Later starts: check the keys are there. */
  async ensureInitialized(now = new Date()): Promise<void> {
    await this.repo.withLock(async (w) => {
      if (await w.latest("root")) {
        await this.keys.loadAll();
        return;
      }
      const keys = {} as Record<TufRole, TufSigningKey>;
      for (const role of TUF_ROLES) {
        // A key file left by a start that failed before its metadata committed is reused, not replaced.
        let k = await this.keys.load(role);
        if (!k) {
          k = generateTufKey(role);
          await this.keys.save(k);
        }
        keys[role] = k;
      }
      const root = buildRoot(1, keys, [keys.root], now);
      await w.insert([root]);
      await this.signChain(w, keys, now);
      this.log.info({ rootKeyId: keys.root.keyId }, "TUF repository created");
    });
  }

  /** The current root.json text (what enrollment hands a new device as its trust anchor). */
  async currentRootJson(): Promise<string> {
    const row = await this.repo.latest("root");
    if (!row) throw new Error("TUF repository is not initialised");
    return row.body;
  }

  /** Re-sign targets, snapshot and timestamp from the current approved + deprecated entries. */
  async publishTargets(now = new Date()): Promise<{ targetsVersion: number; targets: number }> {
    return this.repo.withLock(async (w) => this.signChain(w, await this.keys.loadAll(), now));
  }

  /** Keep metadata fresh: a new timestamp before it expires, a new chain before targets/snapshot expire. */
  async refreshIfDue(now = new Date()): Promise<"skipped" | "fresh" | "timestamp" | "chain"> {
    const res = await this.repo.tryWithLock(async (w) => {
      const [ts, snap, targets] = await Promise.all([w.latest("timestamp"), w.latest("snapshot"), w.latest("targets")]);
      if (!ts || !snap || !targets) return "fresh" as const;
      const left = (r: { expiresAt: Date }) => r.expiresAt.getTime() - now.getTime();
      const keys = await this.keys.loadAll();
      if (left(snap) < CHAIN_REFRESH_BEFORE_MS || left(targets) < CHAIN_REFRESH_BEFORE_MS) {
        await this.signChain(w, keys, now);
        return "chain" as const;
      }
      if (left(ts) < TIMESTAMP_REFRESH_BEFORE_MS) {
        const timestamp = buildTimestamp(ts.version + 1, asSigned(snap), keys.timestamp, now);
        await w.insert([timestamp]);
        return "timestamp" as const;
      }
      return "fresh" as const;
    });
    if (!res.locked) return "skipped";
    if (res.value !== "fresh") this.log.info({ refreshed: res.value }, "TUF metadata refreshed");
    return res.value;
  }

  /**
   * Replace a role's key. A new root version lists the new key, signed by the old and (for root) the new root key,
   * so clients that trust the old root follow; then everything the new key signs is re-signed.
   */
  async rotate(role: TufRole, now = new Date()): Promise<{ rootVersion: number; oldKeyId: string; newKeyId: string }> {
    return this.repo.withLock(async (w) => {
      const current = await w.latest("root");
      if (!current) throw new Error("TUF repository is not initialised");
      const keys = await this.keys.loadAll();
      const fresh = generateTufKey(role);
      const next = { ...keys, [role]: fresh };
      const signers = role === "root" ? [keys.root, fresh] : [keys.root];
      const root = buildRoot(current.version + 1, next, signers, now);
      await w.insert([root]);
      await this.signChain(w, next, now);
      // Written last inside the transaction: if it fails, the new root is rolled back with it.
      await this.keys.save(fresh);
      this.log.warn({ role, oldKeyId: keys[role].keyId, newKeyId: fresh.keyId, rootVersion: root.version }, "TUF key rotated");
      return { rootVersion: root.version, oldKeyId: keys[role].keyId, newKeyId: fresh.keyId };
    });
  }

  private async signChain(w: TufWriter, keys: Record<TufRole, TufSigningKey>, now: Date): Promise<{ targetsVersion: number; targets: number }> {
    const [t, s, ts] = await Promise.all([w.latest("targets"), w.latest("snapshot"), w.latest("timestamp")]);
    const entries = await w.targetEntries();
    const targetList: TufTarget[] = entries.map((e) => ({
      targetPath: e.targetPath,
      sha256: e.sha256,
      length: Number(e.sizeBytes),
      custom: e.facts as Record<string, unknown>,
    }));
    const targets = buildTargets((t?.version ?? 0) + 1, targetList, keys.targets, now);
    const snapshot = buildSnapshot((s?.version ?? 0) + 1, targets, keys.snapshot, now);
    const timestamp = buildTimestamp((ts?.version ?? 0) + 1, snapshot, keys.timestamp, now);
    await w.insert([targets, snapshot, timestamp]);
    return { targetsVersion: targets.version, targets: targetList.length };
  }

  /** The stored bytes of a served metadata file name, or null (unknown name or version). */
  async metadataFile(file: string): Promise<string | null> {
    const f = parseTufFileName(file);
    if (!f) return null;
    const row = f.role === "root" ? await this.repo.version("root", f.version) : await this.repo.latest(f.role);
    return row?.body ?? null;
  }

  /** A target listed in the current targets metadata: its stored file, exact length and digest; else null. */
  async artifact(target: string): Promise<{ file: string; length: number; sha256: string } | null> {
    if (!ZTargetPath.safeParse(target).success) return null;
    const row = await this.repo.latest("targets");
    if (!row) return null;
    if (this.parsedTargets?.version !== row.version) {
      const signed = (JSON.parse(row.body) as { signed: { targets: Record<string, { length: number; hashes: { sha256: string } }> } }).signed;
      const map = new Map<string, { sha256: string; length: number }>();
      for (const [name, t] of Object.entries(signed.targets)) map.set(name, { sha256: t.hashes.sha256, length: t.length });
      this.parsedTargets = { version: row.version, targets: map };
    }
    const hit = this.parsedTargets.targets.get(target);
    if (!hit || !ZSha256Hex.safeParse(hit.sha256).success) return null;
    return { file: artifactFile(this.config.dataDir, hit.sha256), length: hit.length, sha256: hit.sha256 };
  }
}

function asSigned(row: { role: string; version: number; body: string; expiresAt: Date }): SignedMetadata {
  return { role: row.role as TufRole, version: row.version, body: row.body, expiresAt: row.expiresAt };
}
