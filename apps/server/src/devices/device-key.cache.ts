import { createPublicKey, type KeyObject } from "node:crypto";
import { Injectable } from "@nestjs/common";
import { importPublicJwk, ZEd25519PublicJwk, type TEd25519PublicJwk } from "@fleet/protocol";
import type { CryptoKey } from "jose";
import { DeviceKeyRepository } from "./device-key.repository.js";

interface Entry {
  jwk: TEd25519PublicJwk;
  keyObject: KeyObject;
  /** imported on first use: report ingest needs only the KeyObject, and jose's import costs ~20× node's */
  key: Promise<CryptoKey> | null;
}

/**
 * Imported verification keys of active devices, as a node:crypto KeyObject (report ingest verifies with crypto.verify,
 * synchronously) and, when request auth asks, a jose CryptoKey. Only hits are cached: a device enrolled a second ago
 * must verify at once, and revoke() forgets the entry before the state changes.
 */
@Injectable()
export class DeviceKeyCache {
  private readonly keys = new Map<string, Entry>();
  private static readonly MAX = 200_000;
  /** bumped by every forget(): a lookup that started before it must not cache what it read */
  private epoch = 0;

  constructor(private readonly repo: DeviceKeyRepository) {}

  async resolve(deviceId: string): Promise<CryptoKey | null> {
    const entry = await this.entry(deviceId);
    if (!entry) return null;
    entry.key ??= importPublicJwk(entry.jwk);
    return entry.key;
  }

  /** The same key as a node:crypto KeyObject, or null. */
  async resolveKeyObject(deviceId: string): Promise<KeyObject | null> {
    return (await this.entry(deviceId))?.keyObject ?? null;
  }

  private async entry(deviceId: string): Promise<Entry | null> {
    const hit = this.keys.get(deviceId);
    if (hit) return hit;
    const epoch = this.epoch;
    const entry = toEntry(await this.repo.activePublicJwk(deviceId));
    if (!entry) return null;
    // A revocation (here or announced by another instance) may have landed while the row was read.
    if (epoch !== this.epoch) return entry;
    this.remember(deviceId, entry);
    return entry;
  }

  /**
   * Caches the keys of those of `deviceIds` not cached yet with one query (report ingest: a batch from thousands of
   * devices would otherwise read them one query each). Unknown or revoked devices stay uncached, as in entry().
   */
  async prefetch(deviceIds: Iterable<string>): Promise<void> {
    const missing = [...new Set(deviceIds)].filter((id) => !this.keys.has(id));
    if (!missing.length) return;
    const epoch = this.epoch;
    const rows = await this.repo.activePublicJwks(missing);
    // a revocation landed while the rows were read: cache nothing (each lookup reads its row again)
    if (epoch !== this.epoch) return;
    for (const r of rows) {
      const entry = toEntry(r.publicKeyJwk);
      if (entry) this.remember(r.id, entry);
    }
  }

  private remember(deviceId: string, entry: Entry): void {
    if (this.keys.size >= DeviceKeyCache.MAX) this.keys.clear();
    this.keys.set(deviceId, entry);
  }

  forget(deviceId: string): void {
    this.epoch++;
    this.keys.delete(deviceId);
  }

  /** Whether a key for this device is cached (diagnostics and tests). */
  has(deviceId: string): boolean {
    return this.keys.has(deviceId);
  }
}

/** A stored public JWK as a cache entry, or null when it is not a valid Ed25519 key. */
function toEntry(stored: unknown): Entry | null {
  const jwk = ZEd25519PublicJwk.safeParse(stored);
  if (!jwk.success) return null;
  try {
    return { jwk: jwk.data, keyObject: createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.data.x }, format: "jwk" }), key: null };
  } catch {
    return null; // x is not a valid Ed25519 point encoding
  }
}
