import { Empty, type Subscription } from "nats";
import { importPublicJwk, openAssignment, updateStatusOf, type TAssignmentV1, type TUpdateStatusV1 } from "@fleet/protocol";
import type { CryptoKey } from "jose";
import type { SimDevice } from "./device-sim.js";

/** How the simulated agent answers an install: reach active, or fail with an UpdateFailure code. */
export type InstallOutcome = { ok: true } | { ok: false; code: string; reason: string; selfTestFailed?: boolean };

/**
 * A SimDevice that behaves like the agent's update loop: reads its own assignment from the KV bucket (direct get of
 * its key, plus live updates on `$KV.<bucket>.<id>`), verifies it with openAssignment against the server's key and the
 * highest version it accepted, and sends "update" reports for installs and rollbacks.
 */
export class RolloutDevice {
  /** highest assignment version accepted (the agent persists it) */
  acceptedVersion = 0;
  readonly accepted: TAssignmentV1[] = [];
  readonly refused: { reason: string; detail: string }[] = [];
  serving: { model: string; sha256: string | null } = { model: "base.gguf", sha256: null };
  private sub: Subscription | null = null;
  private lastJws = "";
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    readonly sim: SimDevice,
    private readonly serverKey: CryptoKey,
    /** what to do with an install; default: succeed */
    public outcome: (a: TAssignmentV1) => InstallOutcome = () => ({ ok: true }),
  ) {}

  static async attach(sim: SimDevice, outcome?: (a: TAssignmentV1) => InstallOutcome): Promise<RolloutDevice> {
    return new RolloutDevice(sim, await importPublicJwk(sim.enrollment.serverPublicKeyJwk), outcome);
  }

  get id(): string {
    return this.sim.id;
  }

  private get bucket(): string {
    return this.sim.enrollment.assignmentBucket;
  }

  /** Start following the assignment: a direct get now, then every live update. */
  async start(): Promise<void> {
    this.sub = this.sim.nc.subscribe(`$KV.${this.bucket}.${this.id}`, {
      callback: (err, msg) => {
        if (!err && msg.data.length > 0) this.enqueue(msg.data);
      },
    });
    await this.poll();
  }

  /** Direct get of the device's own key (what the agent does at connect and on a timer). */
  async poll(): Promise<void> {
    const reply = await this.sim.nc.request(`$JS.API.DIRECT.GET.KV_${this.bucket}.$KV.${this.bucket}.${this.id}`, Empty, { timeout: 5000 });
    if (reply.data.length > 0) this.enqueue(reply.data);
    await this.queue;
  }

  /** Wait until everything received so far is handled. */
  settled(): Promise<void> {
    return this.queue;
  }

  private enqueue(data: Uint8Array): void {
    const copy = new Uint8Array(data);
    // The latest JWS arrives twice (direct get and live update): handle it once.
    const jws = new TextDecoder().decode(copy);
    if (jws === this.lastJws) return;
    this.lastJws = jws;
    this.queue = this.queue.then(() => this.handle(copy)).catch((err: Error) => {
      this.refused.push({ reason: "error", detail: err.message });
    });
  }

  private async handle(data: Uint8Array): Promise<void> {
    const opened = await openAssignment(data, this.serverKey, { deviceId: this.id, minVersionExclusive: this.acceptedVersion });
    if (!opened.ok) {
      this.refused.push({ reason: opened.reason, detail: opened.detail });
      return;
    }
    const a = opened.value;
    this.acceptedVersion = a.version;
    this.accepted.push(a);
    if (a.action === "install" && a.desired) {
      const o = this.outcome(a);
      await this.update(a, "downloading", { bytesDone: 0, bytesTotal: a.desired.length });
      await this.update(a, "verifying", { bytesDone: a.desired.length, bytesTotal: a.desired.length });
      await this.update(a, "testing");
      if (o.ok) {
        this.serving = { model: a.desired.target, sha256: a.desired.sha256 };
        await this.update(a, "active", { selfTest: { ok: true, loadMs: 100, outputTokens: 16, tokensPerSecond: 50, error: null } });
      } else {
        await this.update(a, "failed", { code: o.code, reason: o.reason, selfTest: o.selfTestFailed ? { ok: false, loadMs: null, outputTokens: 0, tokensPerSecond: null, error: o.reason } : null });
      }
    } else if (a.action === "rollback") {
      this.serving = a.desired ? { model: a.desired.target, sha256: a.desired.sha256 } : { model: "base.gguf", sha256: null };
      await this.update(a, "rolled_back", { code: null, reason: "rolled back by the server" });
    }
  }

  /** Send one "update" report about assignment `a`. */
  async update(a: TAssignmentV1, state: TUpdateStatusV1["state"], over: Partial<TUpdateStatusV1> = {}): Promise<void> {
    const body = updateStatusOf(a, state, { serving: this.serving, ...over });
    await this.sim.publish(this.sim.report("update", body));
  }

  stop(): void {
    this.sub?.unsubscribe();
  }
}
