import { Empty, type NatsConnection, type Subscription } from "nats";
import { importJWK, type CryptoKey } from "jose";
import { DEFAULT_ASSIGNMENT_BUCKET, openAssignment, type TAssignmentV1 } from "@fleet/protocol";
import type { AgentState } from "../state/ZAgentState.js";
import type { Logger } from "../logger.js";
import { describeError } from "../util/describeError.js";
import type { AssignmentStore } from "./AssignmentStore.js";

export interface AssignmentWatcherOptions {
  state: Pick<AgentState, "deviceId" | "serverPublicJwk" | "assignmentBucket">;
  store: AssignmentStore;
  logger: Logger;
  /** a verified assignment newer than any accepted before (already persisted) */
  onAssignment(a: TAssignmentV1, jws: string): void;
  onRefused(reason: string, detail: string, version: number | null): void;
  requestTimeoutMs?: number;
}

/**
 * Reads only this device's key of the assignment KV bucket: a direct get (at connect and on a timer) plus a core
 * subscription to `$KV.<bucket>.<deviceId>` for live puts. No JetStream management API is used: the device's NATS
 * permissions allow exactly these two subjects. Each value is verified (server signature, device, expiry, version
 * higher than the persisted one) before anything acts on it.
 */
export class AssignmentWatcher {
  private sub: Subscription | null = null;
  private nc: NatsConnection | null = null;
  private serverKey: Promise<CryptoKey> | null = null;
  private chain: Promise<void> = Promise.resolve();
  private readonly bucket: string;

  constructor(private readonly opts: AssignmentWatcherOptions) {
    this.bucket = opts.state.assignmentBucket ?? DEFAULT_ASSIGNMENT_BUCKET;
  }

  get kvSubject(): string {
    return `$KV.${this.bucket}.${this.opts.state.deviceId}`;
  }

  /** Subscribe on this connection (once; nats.js keeps it across reconnects) and read the current value. */
  attach(nc: NatsConnection): Promise<void> {
    if (this.nc !== nc) {
      this.sub?.unsubscribe();
      this.nc = nc;
      this.sub = nc.subscribe(this.kvSubject, {
        callback: (err, msg) => {
          if (err) return this.opts.logger.warn({ err: describeError(err) }, "assignment subscription error");
          if (msg.data.length > 0) void this.handle(msg.data);
        },
      });
    }
    return this.poll();
  }

  /** Direct get of the device's key: `$JS.API.DIRECT.GET.KV_<bucket>.$KV.<bucket>.<deviceId>`. */
  async poll(): Promise<void> {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    try {
      const r = await nc.request(`$JS.API.DIRECT.GET.KV_${this.bucket}.${this.kvSubject}`, Empty, { timeout: this.opts.requestTimeoutMs ?? 5000 });
      if (r.headers?.code === 404 || r.data.length === 0) return; // no assignment yet (or deleted)
      if (r.headers?.hasError) throw new Error(`direct get answered ${r.headers.code} ${r.headers.description}`);
      await this.handle(r.data);
    } catch (err) {
      this.opts.logger.warn({ err: describeError(err) }, "could not read the assignment");
    }
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = null;
    this.nc = null;
  }

  /** One at a time, so a poll and a live put of the same value are not both accepted. */
  private handle(data: Uint8Array): Promise<void> {
    this.chain = this.chain.then(() => this.verify(data)).catch((err) => this.opts.logger.error({ err: describeError(err) }, "assignment handling failed"));
    return this.chain;
  }

  private async verify(data: Uint8Array): Promise<void> {
    const jws = new TextDecoder().decode(data).trim();
    const stored = this.opts.store.value;
    if (jws === stored.jws) return; // the value already accepted, read again
    this.serverKey ??= importJWK({ ...this.opts.state.serverPublicJwk, alg: "EdDSA" }, "EdDSA") as Promise<CryptoKey>;
    const r = await openAssignment(jws, await this.serverKey, { deviceId: this.opts.state.deviceId, minVersionExclusive: stored.version });
    if (!r.ok) {
      this.opts.onRefused(r.reason, r.detail, versionOf(jws));
      return;
    }
    await this.opts.store.save({ version: r.value.version, jws, done: false });
    this.opts.onAssignment(r.value, jws);
  }
}

/** The claimed version of an assignment we refused (for the event only; never trusted). */
function versionOf(jws: string): number | null {
  try {
    const v = (JSON.parse(Buffer.from(jws.split(".")[1] ?? "", "base64url").toString("utf8")) as { version?: unknown }).version;
    return typeof v === "number" ? v : null;
  } catch {
    return null;
  }
}
