import "server-only";
import { io, type Socket } from "socket.io-client";
import { formatIssues, ZFleetEventV1, type TFleetEventV1 } from "@fleet/protocol";
import { ServerError, ServerUnreachableError } from "../api-errors";
import { logLine } from "../logLine";
import { FanOut } from "./fanOut";

export type HubMessage = { kind: "event"; event: TFleetEventV1 } | { kind: "down"; reason: string };

const CONNECT_TIMEOUT_MS = 5_000;

/**
 * The console process's ONE upstream socket.io connection to the server's /events namespace,
 * authenticated with FLEET_EVENTS_TOKEN (viewer scope, websocket only), fanned out to every browser stream.
 * socket.io reconnects it by itself; while it is down, open streams are told ("down") and end, so browsers
 * reconnect and are refused until it is back.
 */
export class EventHub {
  readonly fan: FanOut<HubMessage>;
  private readonly socket: Socket;
  private lastError: Error | null = null;

  constructor(serverUrl: string, token: string, maxStreams: number) {
    this.fan = new FanOut<HubMessage>(maxStreams);
    this.socket = io(`${serverUrl}/events`, {
      auth: { token },
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelayMax: 5_000,
      timeout: CONNECT_TIMEOUT_MS,
    });
    this.socket.on("connect", () => {
      this.lastError = null;
      logLine("info", "fleet event upstream connected", { streams: this.fan.size });
    });
    this.socket.on("connect_error", (err: Error) => {
      this.lastError =
        err.message === "unauthorized"
          ? new ServerError(401, "unauthorized", "the server refused the console's FLEET_EVENTS_TOKEN for its event stream")
          : new ServerUnreachableError(serverUrl, { cause: err });
      logLine("warn", "fleet event upstream refused or unreachable", { reason: err.message });
    });
    this.socket.on("disconnect", (reason: string) => {
      logLine("info", "fleet event upstream closed", { reason, streams: this.fan.size });
      this.fan.publish({ kind: "down", reason });
    });
    this.socket.onAny((name: string, payload: unknown) => {
      const parsed = ZFleetEventV1.safeParse(payload);
      if (!parsed.success || parsed.data.type !== name) {
        // version skew or a bad upstream: skip it (parsed output only, so nothing unknown is ever relayed)
        logLine("warn", "fleet event dropped", { event: name, reason: parsed.success ? "name differs from type" : formatIssues(parsed.error) });
        return;
      }
      this.fan.publish({ kind: "event", event: parsed.data });
    });
  }

  /** Resolves when the upstream is connected; rejects with the reason it is not (within the connect timeout). */
  ready(): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (err: Error | null) => {
        clearTimeout(timer);
        this.socket.off("connect", onConnect);
        this.socket.off("connect_error", onError);
        if (err) reject(err);
        else resolve();
      };
      const onConnect = () => done(null);
      const onError = () => done(this.lastError ?? new Error("event upstream unavailable"));
      const timer = setTimeout(() => done(this.lastError ?? new ServerUnreachableError("the server's /events")), CONNECT_TIMEOUT_MS);
      this.socket.on("connect", onConnect);
      this.socket.on("connect_error", onError);
    });
  }

  close(): void {
    this.socket.close();
  }
}

// One per console process (globalThis survives Next's per-route module instances).
const KEY = Symbol.for("fleet.console.eventHub");
type WithHub = typeof globalThis & { [KEY]?: EventHub };

export function eventHub(serverUrl: string, token: string, maxStreams: number): EventHub {
  const g = globalThis as WithHub;
  return (g[KEY] ??= new EventHub(serverUrl, token, maxStreams));
}
