import { KeyObject } from "node:crypto";
import { Injectable } from "@nestjs/common";
import { importPublicJwk, ZEd25519PublicJwk } from "@fleet/protocol";
import type { CryptoKey } from "jose";
import { DeviceKeyRepository } from "./device-key.repository.js";

/**
 * Imported verification keys of active devices, as a jose CryptoKey (request auth) and a node:crypto KeyObject
 * (report ingest verifies with crypto.verify, synchronously). Only hits are cached: a device enrolled a second ago
 * must verify at once, and revoke() forgets the entry before the state changes.
 */
@Injectable()
export class DeviceKeyCache {
  private readonly keys = new Map<string, { key: CryptoKey; keyObject: KeyObject }>();
  private static readonly MAX = 50_000;
  /** bumped by every forget(): a lookup that started before it must not cache what it read */
  private epoch = 0;

  constructor(private readonly repo: DeviceKeyRepository) {}

  async resolve(deviceId: string): Promise<CryptoKey | null> {
    return (await this.entry(deviceId))?.key ?? null;
  }

  /** The same key as a node:crypto KeyObject, or null. */
  async resolveKeyObject(deviceId: string): Promise<KeyObject | null> {
    return (await this.entry(deviceId))?.keyObject ?? null;
  }

  private async entry(deviceId: string): Promise<{ key: CryptoKey; keyObject: KeyObject } | null> {
    const hit = this.keys.get(deviceId);
    if (hit) return hit;
    const epoch = this.epoch;
    const jwk = ZEd25519PublicJwk.safeParse(await this.repo.activePublicJwk(deviceId));
    if (!jwk.success) return null;
    const key = await importPublicJwk(jwk.data);
    const entry = { key, keyObject: KeyObject.from(key) };
    // A revocation (here or announced by another instance) may have landed while the row was read.
    if (epoch !== this.epoch) return entry;
    if (this.keys.size >= DeviceKeyCache.MAX) this.keys.clear();
    this.keys.set(deviceId, entry);
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
    const entries = await Promise.all(
      rows.map(async (r) => {
        const jwk = ZEd25519PublicJwk.safeParse(r.publicKeyJwk);
        if (!jwk.success) return null;
        const key = await importPublicJwk(jwk.data);
        return [r.id, { key, keyObject: KeyObject.from(key) }] as const;
      }),
    );
    // a revocation landed while the rows were read: cache nothing (each lookup reads its row again)
    if (epoch !== this.epoch) return;
    for (const e of entries) {
      if (!e) continue;
      if (this.keys.size >= DeviceKeyCache.MAX) this.keys.clear();
      this.keys.set(e[0], e[1]);
    }
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
