import { connect, Events, type JetStreamClient, type NatsConnection } from "nats";
import { redactNatsUrl } from "@fleet/protocol";
import { agentNatsOptions, type AgentNatsIdentity } from "./agentNatsOptions.js";
import type { Logger } from "../logger.js";
import { describeError } from "../util/describeError.js";
import { sleep } from "../util/sleep.js";
import type { Egress } from "../egress/Egress.js";

export interface NatsLinkOptions {
  url: string;
  name: string;
  /** the device's own NATS user and inbox prefix (per-device identity); absent = connect as the URL says */
  identity?: AgentNatsIdentity | null;
  logger: Logger;
  /** first-connect retry backoff bounds */
  minRetryMs?: number;
  maxRetryMs?: number;
  /** the agent's egress layer: the connection's sockets (reconnects included) are accounted as "messaging" */
  egress?: Egress;
}

/**
 * Owns the NATS connection: keeps trying to connect until it succeeds (our own loop, so stop() can end it),
 * then lets nats.js reconnect forever. `connected` follows disconnect/reconnect events, and waiters are woken
 * whenever it becomes true.
 */
export class NatsLink {
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private isConnected = false;
  private readonly abort = new AbortController();
  private readonly waiters = new Set<() => void>();
  private readonly onConnectHandlers: (() => void)[] = [];
  private readonly log: Logger;
  private loop: Promise<void> | null = null;

  constructor(private readonly opts: NatsLinkOptions) {
    this.log = opts.logger.child({ component: "NatsLink" });
  }

  get connected(): boolean {
    return this.isConnected;
  }
  get connection(): NatsConnection | null {
    return this.nc;
  }
  get jetstream(): JetStreamClient | null {
    return this.js;
  }

  /** Called on the first connect and on every reconnect. */
  onConnect(handler: () => void): void {
    this.onConnectHandlers.push(handler);
  }

  start(): void {
    this.loop ??= this.connectLoop();
  }

  /** Resolves when connected, or when `signal` aborts / the link stops. */
  whenConnected(signal?: AbortSignal): Promise<void> {
    if (this.isConnected || this.abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        this.abort.signal.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
      this.abort.signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Flush what is buffered (best effort, bounded) and close. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    const nc = this.nc;
    this.nc = null;
    this.js = null;
    this.isConnected = false;
    if (nc && !nc.isClosed()) {
      await Promise.race([nc.flush().catch(() => {}), sleep(2000)]);
      await nc.close().catch(() => {});
    }
  }

  private async connectLoop(): Promise<void> {
    let delay = this.opts.minRetryMs ?? 500;
    while (!this.abort.signal.aborted) {
      try {
        const options = {
          ...agentNatsOptions(this.opts.url, this.opts.identity ?? null),
          name: this.opts.name,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
          timeout: 5000,
          pingInterval: 10_000,
        };
        const egress = this.opts.egress;
        const nc = await (egress ? egress.run({ ...natsHostPort(this.opts.url), purpose: "messaging" }, () => connect(options)) : connect(options));
        if (this.abort.signal.aborted) {
          await nc.close();
          return;
        }
        this.nc = nc;
        this.js = nc.jetstream();
        void this.watchStatus(nc);
        // nats.js ends the connection for good after repeated authorization errors (e.g. this device was revoked).
        void nc.closed().then((err) => {
          if (err && !this.abort.signal.aborted) {
            this.setConnected(false);
            this.log.error({ err: describeError(err) }, "NATS closed the connection for good (device revoked or credentials refused?); reports wait on disk");
          }
        });
        this.log.info({ url: redactNatsUrl(this.opts.url) }, "connected to NATS");
        this.setConnected(true);
        return;
      } catch (err) {
        this.log.warn({ url: redactNatsUrl(this.opts.url), err: describeError(err), retryInMs: delay }, "cannot connect to NATS; reports wait on disk");
        await sleep(delay, this.abort.signal);
        delay = Math.min(delay * 2, this.opts.maxRetryMs ?? 15_000);
      }
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect) {
        this.log.warn({ server: s.data }, "disconnected from NATS");
        this.setConnected(false);
      } else if (s.type === Events.Reconnect) {
        this.log.info({ server: s.data }, "reconnected to NATS");
        this.setConnected(true);
      }
    }
  }

  private setConnected(value: boolean): void {
    this.isConnected = value;
    if (!value) return;
    for (const wake of [...this.waiters]) wake();
    for (const h of this.onConnectHandlers) h();
  }
}

/** host and port of the first server of a NATS URL (nats://, tls://, or host:port), for the egress ledger */
function natsHostPort(url: string): { host: string; port: number } {
  const first = url.split(",")[0]!.trim();
  const u = new URL(/^[a-z]+:\/\//i.test(first) ? first : `nats://${first}`);
  return { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 4222) };
}
