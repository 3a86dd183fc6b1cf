import { Injectable } from "@nestjs/common";
import { importPublicJwk, ZEd25519PublicJwk, type TEd25519PublicJwk } from "@fleet/protocol";
import type { CryptoKey } from "jose";
import { DeviceKeyRepository } from "./device-key.repository.js";

interface Entry {
  jwk: TEd25519PublicJwk;
  /** imported on first use: report ingest needs only `x` (its verification threads import keys themselves) */
  key: Promise<CryptoKey> | null;
}

/**
 * Verification keys of active devices: the public JWK (report ingest hands its `x` to SignatureVerifier) and, when
 * request auth asks, a jose CryptoKey imported once. Only hits are cached: a device enrolled a second ago must verify
 * at once, and revoke() forgets the entry before the state changes.
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

  /** The key's JWK `x` (base64url Ed25519 public key), what a verification thread imports, or null. */
  async resolveX(deviceId: string): Promise<string | null> {
    return (await this.entry(deviceId))?.jwk.x ?? null;
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

/** A stored public JWK as a cache entry, or null when it is not an Ed25519 public JWK. */
function toEntry(stored: unknown): Entry | null {
  const jwk = ZEd25519PublicJwk.safeParse(stored);
  return jwk.success ? { jwk: jwk.data, key: null } : null;
}
