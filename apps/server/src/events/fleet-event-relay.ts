import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from "@nestjs/common";
import type { CryptoKey } from "jose";
import type { Subscription } from "nats";
import type { Logger } from "pino";
import { Counter } from "prom-client";
import { FLEET_EVENT_BATCH_MAX, ZFleetEventV1, fleetEventBatchOrigin, importPublicJwk, openFleetEventBatch, signFleetEventBatch, subjects, type TFleetEventV1 } from "@fleet/protocol";
import { CONFIG, LOGGER, SERVER_KEY } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { MetricsService } from "../common/metrics.service.js";
import type { ServerKey } from "../common/server-key.js";
import { NatsService } from "../nats/nats.service.js";
import { FleetEvent, FleetEventBus, type FleetEventMessage, type FleetEventType } from "./fleet-events.js";

/** Reach the other instances another way: each one's RevocationBroadcast re-publishes a revocation on its own bus. */
const LOCAL_ONLY: ReadonlySet<FleetEventType> = new Set([FleetEvent.DeviceRevoked]);
/** A batch's JSON above this is split (NATS' default max_payload is 1 MiB). */
const MAX_BATCH_BYTES = 256 * 1024;
/** Origins whose last seq is remembered (one per server process that ever ran; restarts add new ones). */
const MAX_ORIGINS = 64;
/** Each instance says hello this often; a peer not heard from for PEER_TTL_MS is gone (then nothing is relayed). */
const HELLO_MS = 10_000;
const PEER_TTL_MS = 35_000;

export type RelayDropReason = "unsigned" | "malformed" | "lost" | "send_failed" | "invalid_local";

/**
 * Cross-replica fan-out of fleet events, for websocket clients. Every event published on this instance's bus (except
 * LOCAL_ONLY) goes out in signed, ordered batches on core NATS `<prefix>.control.fleet-events` (no stream: live events
 * are best effort); each instance delivers the other instances' batches to its own websocket clients via onRemote(),
 * never to its in-process subscribers (those act on events: two instances must not both act), and skips its own.
 * Instances say hello (an empty batch) at start and every HELLO_MS, and answer a new instance's hello at once: an
 * instance that has heard from no other within PEER_TTL_MS relays nothing (a single server pays nothing).
 * Only the server's NATS user may use the subject (devices' allow lists do not cover `<prefix>.control.>`); on a NATS
 * without per-device auth the server-key signature keeps forged events out. Bad batches are dropped and counted in
 * fleet_event_relay_dropped_total{reason}, as are batches that never arrived (a gap in an origin's seq).
 */
@Injectable()
export class FleetEventRelay implements OnApplicationBootstrap, OnModuleDestroy {
  /** this process's id in batches: it skips its own */
  readonly instanceId = randomUUID();
  private readonly subject: string;
  private readonly log: Logger;
  private readonly remote = new EventEmitter().setMaxListeners(100);
  private readonly dropped: Counter<"reason">;
  private readonly relayed: Counter<"direction">;
  private pending: FleetEventMessage[] = [];
  private flushScheduled = false;
  private seq = 0;
  private sending: Promise<void> = Promise.resolve();
  private readonly lastSeq = new Map<string, number>();
  private unsubscribeBus: (() => void) | null = null;
  private sub: Subscription | null = null;
  private receiving: Promise<void> = Promise.resolve();
  private verifyKey: Promise<CryptoKey> | null = null;
  /** other instances: origin -> when last heard from */
  private readonly peers = new Map<string, number>();
  private helloTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly bus: FleetEventBus,
    private readonly nats: NatsService,
    @Inject(SERVER_KEY) private readonly serverKey: ServerKey,
    @Inject(CONFIG) config: ServerConfig,
    @Inject(LOGGER) log: Logger,
    metrics: MetricsService,
  ) {
    this.subject = subjects(config.subjectPrefix).fleetEvents();
    this.log = log.child({ context: "FleetEventRelay", instanceId: this.instanceId });
    this.dropped = new Counter({
      name: "fleet_event_relay_dropped_total",
      help: "Cross-replica fleet event batches dropped: received unsigned or malformed, lost in transit (seq gap), not sent; and single events of this instance off the protocol schema (invalid_local)",
      labelNames: ["reason"] as const,
      registers: [metrics.registry],
    });
    for (const reason of ["unsigned", "malformed", "lost", "send_failed", "invalid_local"] satisfies RelayDropReason[]) this.dropped.inc({ reason }, 0);
    this.relayed = new Counter({
      name: "fleet_event_relay_events_total",
      help: "Fleet events sent to the other replicas (out) and received from them for this instance's websocket clients (in)",
      labelNames: ["direction"] as const,
      registers: [metrics.registry],
    });
    this.relayed.inc({ direction: "out" }, 0);
    this.relayed.inc({ direction: "in" }, 0);
  }

  onApplicationBootstrap(): void {
    this.unsubscribeBus = this.bus.subscribe((msg) => this.enqueue(msg));
    const sub = this.nats.nc.subscribe(this.subject);
    this.sub = sub;
    // One message at a time, in arrival order (verification is async); the client buffers the rest.
    this.receiving = (async () => {
      for await (const m of sub) await this.receive(m.data);
    })().catch((err: unknown) => this.log.error({ err }, "fleet event relay subscription ended"));
    this.hello();
    this.helloTimer = setInterval(() => this.hello(), HELLO_MS);
    this.helloTimer.unref();
  }

  /** Whether another instance was heard from lately (tests). */
  get hasPeers(): boolean {
    const now = Date.now();
    for (const [origin, at] of this.peers) if (now - at > PEER_TTL_MS) this.peers.delete(origin);
    return this.peers.size > 0;
  }

  private hello(): void {
    this.sending = this.sending.then(() => this.send([]));
  }

  async onModuleDestroy(): Promise<void> {
    if (this.helloTimer) clearInterval(this.helloTimer);
    this.unsubscribeBus?.();
    this.flush();
    await this.sending;
    this.sub?.unsubscribe();
    await this.receiving;
  }

  /** Listen to the events of the other instances (the websocket gateway). */
  onRemote(fn: (msg: TFleetEventV1) => void): () => void {
    this.remote.on("event", fn);
    return () => this.remote.off("event", fn);
  }

  private enqueue(msg: FleetEventMessage): void {
    if (LOCAL_ONLY.has(msg.type) || !this.hasPeers) return;
    this.pending.push(msg);
    if (this.pending.length >= FLEET_EVENT_BATCH_MAX) return this.flush();
    if (this.flushScheduled) return;
    // Events published in one turn (a committed ingest batch) travel together.
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    this.sending = this.sending.then(() => this.send(events));
  }

  private async send(events: TFleetEventV1[]): Promise<void> {
    let wire = events;
    try {
      const jws = await this.sign(wire).catch(async (err: unknown) => {
        if ((err as Error).name !== "ZodError") throw err;
        // One event off the protocol's schema (a bug here) must not sink the rest of its batch.
        const ok = wire.filter((e) => ZFleetEventV1.safeParse(e).success);
        this.dropped.inc({ reason: "invalid_local" }, wire.length - ok.length);
        this.log.error({ err, events: wire.length - ok.length }, "fleet events off the protocol's schema were not relayed");
        wire = ok;
        return ok.length ? this.sign(ok) : "";
      });
      if (!jws) return;
      if (jws.length > MAX_BATCH_BYTES && wire.length > 1) {
        this.seq--; // not sent: the halves take its place
        const half = Math.ceil(wire.length / 2);
        await this.send(wire.slice(0, half));
        return this.send(wire.slice(half));
      }
      this.nats.nc.publish(this.subject, new TextEncoder().encode(jws));
      this.relayed.inc({ direction: "out" }, wire.length);
    } catch (err) {
      this.dropped.inc({ reason: "send_failed" });
      this.log.warn({ err, events: wire.length }, "fleet events not relayed to the other instances");
    }
  }

  /** Sends are one after another: seq moves only when a batch was signed, so receivers see gaps only for lost ones. */
  private async sign(events: TFleetEventV1[]): Promise<string> {
    const jws = await signFleetEventBatch({ v: 1, origin: this.instanceId, seq: this.seq + 1, events }, this.serverKey.privateKey);
    this.seq++;
    return jws;
  }

  private async receive(data: Uint8Array): Promise<void> {
    // Its own batches come back too (one connection for everything): skip them before the costly checks.
    if (fleetEventBatchOrigin(data) === this.instanceId) return;
    this.verifyKey ??= importPublicJwk({ ...this.serverKey.publicJwk });
    const opened = await openFleetEventBatch(data, await this.verifyKey);
    if (!opened.ok) {
      this.dropped.inc({ reason: opened.reason });
      this.log.warn({ subject: this.subject, reason: opened.reason, detail: opened.detail, bytes: data.byteLength }, "fleet event batch dropped");
      return;
    }
    const { origin, seq, events } = opened.value;
    if (origin === this.instanceId) return;
    const known = this.hasPeers && this.peers.has(origin);
    this.peers.set(origin, Date.now());
    // A new instance: say hello back at once, so it relays to this one from now on rather than after HELLO_MS.
    if (!known && events.length === 0) this.hello();
    const last = this.lastSeq.get(origin);
    if (last !== undefined && seq > last + 1) {
      this.dropped.inc({ reason: "lost" }, seq - last - 1);
      this.log.warn({ origin, from: last + 1, to: seq - 1 }, "fleet event batches of another instance never arrived");
    }
    this.lastSeq.delete(origin);
    this.lastSeq.set(origin, Math.max(seq, last ?? 0));
    if (this.lastSeq.size > MAX_ORIGINS) this.lastSeq.delete(this.lastSeq.keys().next().value!);
    this.relayed.inc({ direction: "in" }, events.length);
    for (const e of events) this.remote.emit("event", e);
  }
}
