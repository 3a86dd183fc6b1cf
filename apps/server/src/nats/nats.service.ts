import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, connect, credsAuthenticator, nanos, type JetStreamClient, type JetStreamManager, type NatsConnection, type StreamConfig } from "nats";
import type { Logger } from "pino";
import { deviceCommandConsumer, natsConnectionOptions, redactNatsUrl, subjects } from "@fleet/protocol";
import type { ServerConfig } from "../common/env.js";
import { withTimeout } from "../common/with-timeout.js";
import type { NatsAuthority } from "./nats-authority.js";

export class NatsSetupError extends Error {
  override name = "NatsSetupError";
}

const DAY_NS = nanos(24 * 3600 * 1000);
/** How long close() lets a drain flush before it closes the connection outright. */
const DRAIN_TIMEOUT_MS = 3_000;

/** The server's NATS connection, its JetStream streams and the report consumer definition. */
export class NatsService {
  private connected = true;
  private readonly reconnectHandlers: (() => void)[] = [];

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly config: ServerConfig,
    private readonly log: Logger,
  ) {
    void this.watchStatus();
  }

  /** With `auth`, the server connects as its own user of the fleet account (decentralized auth). */
  static async connect(config: ServerConfig, rootLog: Logger, auth: NatsAuthority | null = null): Promise<NatsService> {
    const log = rootLog.child({ context: "NatsService" });
    let nc: NatsConnection;
    try {
      const authenticator = auth ? credsAuthenticator(new TextEncoder().encode(await auth.serverCreds())) : undefined;
      // Reconnect forever: the broker restarting must never take the control plane down.
      nc = await connect({ ...natsConnectionOptions(config.natsUrl), authenticator, name: "fleet-server", maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    } catch (err) {
      throw new NatsSetupError(`cannot connect to NATS at ${redactNatsUrl(config.natsUrl)}: ${(err as Error).message}`, { cause: err });
    }
    const svc = new NatsService(nc, nc.jetstream(), await nc.jetstreamManager(), config, log);
    await svc.ensureStreams();
    return svc;
  }

  /** Called after every reconnect (e.g. to re-push state a restarted nats-server lost). */
  onReconnect(handler: () => void): void {
    this.reconnectHandlers.push(handler);
  }

  get isConnected(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  /** Create or update the report and command streams and the durable report consumer. */
  async ensureStreams(): Promise<void> {
    const subj = subjects(this.config.subjectPrefix);
    await this.upsertStream({
      name: this.config.stream,
      subjects: subj.allReports(),
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      duplicate_window: nanos(2 * 60 * 1000),
      max_age: 30 * DAY_NS,
      max_msg_size: 1024 * 1024,
      // bounded: when full, the oldest reports go (a device that floods cannot fill the disk)
      max_bytes: this.config.limits.reportStreamMaxBytes,
      discard: DiscardPolicy.Old,
    });
    await this.upsertStream({
      name: this.config.commandStream,
      subjects: [subj.allCommands()],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      duplicate_window: nanos(2 * 60 * 1000),
      max_age: 7 * DAY_NS,
      max_bytes: this.config.limits.commandStreamMaxBytes,
      discard: DiscardPolicy.Old,
    });
    const consumer = {
      durable_name: this.config.consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.config.ingestAckWaitSec * 1000),
      // Unlimited: a database outage naks messages until it is back; bad messages are term()ed instead.
      max_deliver: -1,
      max_ack_pending: 1000,
    };
    try {
      await this.jsm.consumers.info(this.config.stream, this.config.consumer);
      // the settings an existing durable consumer may change; its name and policies are fixed at creation
      const { ack_wait, max_deliver, max_ack_pending } = consumer;
      await this.jsm.consumers.update(this.config.stream, this.config.consumer, { ack_wait, max_deliver, max_ack_pending });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.jsm.consumers.add(this.config.stream, consumer);
    }
  }

  private async upsertStream(cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
    try {
      await this.jsm.streams.info(cfg.name);
      await this.jsm.streams.update(cfg.name, cfg);
    } catch (err) {
      if (!isNotFound(err)) throw new NatsSetupError(`cannot configure stream ${cfg.name}: ${(err as Error).message}`, { cause: err });
      await this.jsm.streams.add(cfg);
    }
  }

  /**
   * The durable pull consumer `agent-<id>` a device reads its commands from. Devices may not create consumers, so the
   * server creates it at enrollment (`all`) and re-creates it when missing (`new`: a re-created consumer must not
   * replay the stream's older commands).
   */
  async ensureDeviceConsumer(deviceId: string, deliver: "all" | "new"): Promise<"exists" | "created"> {
    const name = deviceCommandConsumer(deviceId);
    try {
      await this.jsm.consumers.info(this.config.commandStream, name);
      return "exists";
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await this.jsm.consumers.add(this.config.commandStream, {
      durable_name: name,
      filter_subject: subjects(this.config.subjectPrefix).command(deviceId),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: deliver === "all" ? DeliverPolicy.All : DeliverPolicy.New,
      max_deliver: 5,
      ack_wait: nanos(30_000),
    });
    return "created";
  }

  /**
   * Names of the command stream's consumers, a page (up to 1,024) per request: how the start-up check learns which
   * devices lack theirs (one CONSUMER.INFO per device took 50,000 requests at 50,000 devices).
   */
  async commandConsumerNames(): Promise<Set<string>> {
    const names = new Set<string>();
    const subject = `${this.jsm.getOptions().apiPrefix ?? "$JS.API"}.CONSUMER.NAMES.${this.config.commandStream}`;
    for (;;) {
      const reply = await this.nc.request(subject, new TextEncoder().encode(JSON.stringify({ offset: names.size })), { timeout: 10_000 });
      const page = JSON.parse(new TextDecoder().decode(reply.data)) as { total?: number; consumers?: string[] | null; error?: { description?: string } };
      if (page.error) throw new NatsSetupError(`cannot list the consumers of ${this.config.commandStream}: ${page.error.description ?? "unknown error"}`);
      const batch = page.consumers ?? [];
      for (const n of batch) names.add(n);
      if (!batch.length || names.size >= (page.total ?? 0)) return names;
    }
  }

  /** Publish a signed command; the msgId makes a retried publish a no-op within the duplicate window. */
  async publishCommand(deviceId: string, jws: string, msgId: string): Promise<void> {
    await this.ensureDeviceConsumer(deviceId, "new");
    await this.js.publish(subjects(this.config.subjectPrefix).command(deviceId), new TextEncoder().encode(jws), { msgID: msgId });
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === "disconnect") {
        this.connected = false;
        this.log.warn({ server: s.data }, "NATS disconnected");
      } else if (s.type === "reconnect") {
        this.connected = true;
        this.log.info({ server: s.data }, "NATS reconnected");
        for (const h of this.reconnectHandlers) h();
      }
    }
  }

  /**
   * Drain (pending publishes flushed, subscriptions ended) within `drainTimeoutMs`, else close outright. Always
   * completes: nats.js's drain() flushes through the server, so while reconnecting it waits for a PONG that comes only
   * after a reconnect, and when a flush of that drain is rejected by the disconnect it resolves without ever closing
   * the connection (it keeps reconnecting forever). A disconnected connection is therefore closed without a drain,
   * and the connection is closed after every drain whatever its outcome.
   */
  async close(drainTimeoutMs = DRAIN_TIMEOUT_MS): Promise<void> {
    if (this.nc.isClosed()) return;
    const t0 = performance.now();
    if (!this.isConnected) {
      this.log.warn("NATS not connected at shutdown; closing without a drain");
    } else if (!this.nc.isDraining()) {
      await withTimeout(this.nc.drain(), drainTimeoutMs, "NATS drain").catch((err: unknown) => this.log.warn({ err }, "NATS drain failed or was late; closing the connection"));
    }
    if (!this.nc.isClosed()) {
      await withTimeout(this.nc.close(), drainTimeoutMs, "NATS close").catch((err: unknown) => this.log.error({ err }, "NATS close did not complete"));
    }
    this.log.info({ ms: Math.round(performance.now() - t0) }, "NATS connection closed");
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: string | number; api_error?: { code?: number }; message?: string };
  return e?.api_error?.code === 404 || e?.code === "404" || e?.code === 404 || /not found/i.test(e?.message ?? "");
}
