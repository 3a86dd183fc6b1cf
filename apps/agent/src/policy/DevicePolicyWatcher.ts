import fs from "node:fs/promises";
import path from "node:path";
import { Empty, type NatsConnection, type Subscription } from "nats";
import { importJWK, type CryptoKey } from "jose";
import { z } from "zod";
import { DEFAULT_DEVICE_POLICY_BUCKET, openDevicePolicy, type DevicePolicyRefusal, type TDevicePolicyV1 } from "@fleet/protocol";
import type { AgentState } from "../state/ZAgentState.js";
import { silentLogger, type Logger } from "../logger.js";
import { describeError } from "../util/describeError.js";
import { writeFileAtomic } from "../util/writeFileAtomic.js";

export const DEVICE_POLICY_FILE = "device-policy.json";
const ZStored = z.strictObject({ v: z.literal(1), version: z.number().int().nonnegative(), jws: z.string().nullable() });

export interface DevicePolicyWatcherOptions {
  home: string;
  state: Pick<AgentState, "deviceId" | "serverPublicJwk" | "policyBucket">;
  logger?: Logger;
  /** a policy was refused (bad signature, expired, not newer, another device's); the one in force stays */
  onRefused?(reason: DevicePolicyRefusal, detail: string): void;
  pollMs?: number;
  requestTimeoutMs?: number;
}

/**
 * The signed device policy in force. Reads only this device's key of the policy KV bucket (direct get at connect
 * and on a timer, plus a core subscription to `$KV.<bucket>.<deviceId>` for live puts), verifies each value (server
 * signature, addressee, expiry, version higher than the one held) and persists the accepted one, so a restart keeps
 * it. `current()` is null before any policy arrived and once the one held has expired.
 */
export class DevicePolicyWatcher {
  private sub: Subscription | null = null;
  private nc: NatsConnection | null = null;
  private serverKey: Promise<CryptoKey> | null = null;
  private chain: Promise<void> = Promise.resolve();
  private held: { version: number; jws: string | null; policy: TDevicePolicyV1 | null } = { version: 0, jws: null, policy: null };
  private readonly listeners: ((p: TDevicePolicyV1) => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly bucket: string;
  private readonly log: Logger;
  private readonly file: string;

  constructor(private readonly opts: DevicePolicyWatcherOptions) {
    this.bucket = opts.state.policyBucket ?? DEFAULT_DEVICE_POLICY_BUCKET;
    this.log = (opts.logger ?? silentLogger()).child({ component: "DevicePolicyWatcher" });
    this.file = path.join(opts.home, DEVICE_POLICY_FILE);
  }

  get kvSubject(): string {
    return `$KV.${this.bucket}.${this.opts.state.deviceId}`;
  }

  /** The verified policy in force, or null (none yet, or expired). */
  current(now = new Date()): TDevicePolicyV1 | null {
    const p = this.held.policy;
    if (p?.expiresAt && Date.parse(p.expiresAt) <= now.getTime()) return null;
    return p;
  }

  onChange(fn: (p: TDevicePolicyV1) => void): void {
    this.listeners.push(fn);
  }

  /** Restore the policy accepted before a restart (verified again: a file edited by hand is not trusted). */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await fs.readFile(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    let stored: z.infer<typeof ZStored>;
    try {
      stored = ZStored.parse(JSON.parse(text));
    } catch (err) {
      // the agent still starts (telemetry off until a policy arrives); the server's KV holds the newest policy
      this.log.error({ err: describeError(err), file: this.file }, "the stored device policy is unreadable; waiting for a new one");
      return;
    }
    this.held = { version: stored.version, jws: null, policy: null };
    if (!stored.jws) return;
    const r = await openDevicePolicy(stored.jws, await this.key(), { deviceId: this.opts.state.deviceId, minVersionExclusive: stored.version - 1 });
    if (r.ok) this.held = { version: r.value.version, jws: stored.jws, policy: r.value };
    else this.log.warn({ reason: r.reason, detail: r.detail }, "the stored device policy no longer verifies; waiting for a new one");
  }

  /** Subscribe on this connection (nats.js keeps it across reconnects) and read the current value. */
  attach(nc: NatsConnection): Promise<void> {
    if (this.nc !== nc) {
      this.sub?.unsubscribe();
      this.nc = nc;
      this.sub = nc.subscribe(this.kvSubject, {
        callback: (err, msg) => {
          if (err) return this.log.warn({ err: describeError(err) }, "device policy subscription error");
          if (msg.data.length > 0) void this.handle(msg.data);
        },
      });
      this.timer ??= setInterval(() => void this.poll(), this.opts.pollMs ?? 60_000);
      this.timer.unref();
    }
    return this.poll();
  }

  async poll(): Promise<void> {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    try {
      const r = await nc.request(`$JS.API.DIRECT.GET.KV_${this.bucket}.${this.kvSubject}`, Empty, { timeout: this.opts.requestTimeoutMs ?? 5000 });
      if (r.headers?.code === 404 || r.data.length === 0) return;
      if (r.headers?.hasError) throw new Error(`direct get answered ${r.headers.code} ${r.headers.description}`);
      await this.handle(r.data);
    } catch (err) {
      this.log.warn({ err: describeError(err) }, "could not read the device policy");
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sub?.unsubscribe();
    this.sub = null;
    this.nc = null;
    await this.chain;
  }

  /** Verify and, if newer, persist and apply a signed policy (also the entry point tests use). */
  handle(data: Uint8Array | string): Promise<void> {
    this.chain = this.chain.then(() => this.verify(data)).catch((err) => this.log.error({ err: describeError(err) }, "device policy handling failed"));
    return this.chain;
  }

  private async verify(data: Uint8Array | string): Promise<void> {
    const jws = (typeof data === "string" ? data : new TextDecoder().decode(data)).trim();
    if (jws === this.held.jws) return;
    const r = await openDevicePolicy(jws, await this.key(), { deviceId: this.opts.state.deviceId, minVersionExclusive: this.held.version });
    if (!r.ok) {
      this.log.warn({ reason: r.reason, detail: r.detail }, "device policy refused");
      this.opts.onRefused?.(r.reason, r.detail);
      return;
    }
    await writeFileAtomic(this.file, JSON.stringify({ v: 1, version: r.value.version, jws }));
    this.held = { version: r.value.version, jws, policy: r.value };
    this.log.info({ version: r.value.version, telemetry: r.value.privacy.telemetry }, "device policy in force");
    for (const fn of this.listeners) fn(r.value);
  }

  private key(): Promise<CryptoKey> {
    this.serverKey ??= importJWK({ ...this.opts.state.serverPublicJwk, alg: "EdDSA" }, "EdDSA") as Promise<CryptoKey>;
    return this.serverKey;
  }
}
