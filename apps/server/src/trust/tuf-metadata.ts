import { createHash } from "node:crypto";
import { Metadata, MetaFile, Root, Snapshot, TargetFile, Targets, Timestamp } from "@tufjs/models";
import { tufKey, tufSigner, TUF_ROLES, type TufRole, type TufSigningKey } from "./tuf-keys.js";

// Builders for the four top-level TUF roles (consistent_snapshot false: fixed file names). Bodies are the exact
// bytes stored and served; snapshot and timestamp hash those bytes, never a re-serialisation.

const SPEC_VERSION = "1.0.31";

/** How long each role's metadata stays valid. The timestamp is short: a frozen repository shows within a day. */
export const TUF_EXPIRY_MS: Record<TufRole, number> = {
  root: 365 * 86_400_000,
  targets: 30 * 86_400_000,
  snapshot: 7 * 86_400_000,
  timestamp: 86_400_000,
};

export interface SignedMetadata {
  role: TufRole;
  version: number;
  body: string;
  expiresAt: Date;
}

/** A catalog entry as a TUF target: name, exact length, sha256 and the facts as `custom`. */
export interface TufTarget {
  targetPath: string;
  sha256: string;
  length: number;
  /** ZCatalogFactsV1 (integers and strings only: canonical JSON) */
  custom: Record<string, unknown>;
}

function expiry(role: TufRole, now: Date): Date {
  // Whole seconds: TUF expiry strings carry no fraction.
  return new Date(Math.floor((now.getTime() + TUF_EXPIRY_MS[role]) / 1000) * 1000);
}

function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function finish(role: TufRole, version: number, expiresAt: Date, md: Metadata<Root | Targets | Snapshot | Timestamp>, signers: TufSigningKey[]): SignedMetadata {
  for (const k of signers) md.sign(tufSigner(k), true);
  return { role, version, body: JSON.stringify(md.toJSON()), expiresAt };
}

export function buildRoot(version: number, keys: Record<TufRole, TufSigningKey>, signers: TufSigningKey[], now: Date): SignedMetadata {
  const expiresAt = expiry("root", now);
  const root = new Root({ version, specVersion: SPEC_VERSION, expires: iso(expiresAt), consistentSnapshot: false });
  for (const role of TUF_ROLES) root.addKey(tufKey(keys[role]), role);
  return finish("root", version, expiresAt, new Metadata(root), signers);
}

export function buildTargets(version: number, targets: TufTarget[], key: TufSigningKey, now: Date): SignedMetadata {
  const expiresAt = expiry("targets", now);
  const t = new Targets({ version, specVersion: SPEC_VERSION, expires: iso(expiresAt) });
  for (const x of targets) {
    t.addTarget(new TargetFile({ path: x.targetPath, length: x.length, hashes: { sha256: x.sha256 }, unrecognizedFields: { custom: x.custom as never } }));
  }
  return finish("targets", version, expiresAt, new Metadata(t), [key]);
}

export function metaFileOf(m: SignedMetadata): MetaFile {
  return new MetaFile({ version: m.version, length: Buffer.byteLength(m.body), hashes: { sha256: createHash("sha256").update(m.body).digest("hex") } });
}

export function buildSnapshot(version: number, targets: SignedMetadata, key: TufSigningKey, now: Date): SignedMetadata {
  const expiresAt = expiry("snapshot", now);
  const s = new Snapshot({ version, specVersion: SPEC_VERSION, expires: iso(expiresAt), meta: { "targets.json": metaFileOf(targets) } });
  return finish("snapshot", version, expiresAt, new Metadata(s), [key]);
}

export function buildTimestamp(version: number, snapshot: SignedMetadata, key: TufSigningKey, now: Date): SignedMetadata {
  const expiresAt = expiry("timestamp", now);
  const t = new Timestamp({ version, specVersion: SPEC_VERSION, expires: iso(expiresAt), snapshotMeta: metaFileOf(snapshot) });
  return finish("timestamp", version, expiresAt, new Metadata(t), [key]);
}

/** Served file names (consistent_snapshot false). */
export type TufFile = { role: "root"; version: number } | { role: "timestamp" | "snapshot" | "targets" };

export function parseTufFileName(file: string): TufFile | null {
  const root = /^([1-9][0-9]{0,8})\.root\.json$/.exec(file);
  if (root) return { role: "root", version: Number(root[1]) };
  const m = /^(timestamp|snapshot|targets)\.json$/.exec(file);
  return m ? { role: m[1] as "timestamp" | "snapshot" | "targets" } : null;
}
