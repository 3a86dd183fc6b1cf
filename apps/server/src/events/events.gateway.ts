import { Inject, type OnModuleDestroy } from "@nestjs/common";
import { WebSocketGateway, WebSocketServer, type OnGatewayInit } from "@nestjs/websockets";
import type { Logger } from "pino";
import { CONFIG, LOGGER } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { isAdminBearer } from "../common/admin-token.js";
import { SessionService } from "../auth/session.service.js";
import { authenticateSocket } from "./socket-auth.js";
import { FleetEventBus, type FleetEventMessage } from "./fleet-events.js";
import { FleetEventRelay } from "./fleet-event-relay.js";
import { PresenceDedup } from "./presence-dedup.js";

// Minimal structural types of the socket.io namespace we use (socket.io is a dependency of the Nest adapter, not ours).
interface IoSocket {
  handshake: { auth?: Record<string, unknown>; headers: Record<string, unknown> };
  id: string;
  data: Record<string, unknown>;
  emit(event: string, payload: unknown): boolean;
  disconnect(close?: boolean): void;
  on(event: "disconnect", fn: () => void): void;
}
interface IoNamespace {
  /** the connected sockets */
  sockets: { size: number };
  use(fn: (socket: IoSocket, next: (err?: Error) => void) => void): void;
  emit(event: string, payload: unknown): boolean;
  on(event: "connection", fn: (socket: IoSocket) => void): void;
}

/**
 * socket.io namespace /events: every fleet event, emitted under its type (e.g. "device.online"), to a handshake with a
 * session token (any role), the admin token or FLEET_EVENTS_TOKEN (the console's shared read-only connection).
 * A session's socket is closed ("session.ended") when it signs out here, and within FLEET_WS_SESSION_RECHECK_SEC when it
 * expires, is revoked on another replica or its user is disabled.
 * With several replicas, a client sees every replica's events (FleetEventRelay) once, whichever replica it is connected to.
 */
@WebSocketGateway({ namespace: "/events", cors: { origin: false } })
export class EventsGateway implements OnGatewayInit, OnModuleDestroy {
  @WebSocketServer() private server!: IoNamespace;
  private unsubscribe: (() => void) | null = null;
  private unsubscribeRemote: (() => void) | null = null;
  private readonly presence = new PresenceDedup();
  private readonly log: Logger;
  /** open sockets of session tokens, by jti */
  private readonly sessionSockets = new Map<string, Set<IoSocket>>();
  private recheckTimer: NodeJS.Timeout | null = null;
  private stopRevokedListener: (() => void) | null = null;

  constructor(
    private readonly bus: FleetEventBus,
    @Inject(CONFIG) private readonly config: ServerConfig,
    @Inject(LOGGER) log: Logger,
    private readonly sessions: SessionService,
    private readonly relay: FleetEventRelay,
  ) {
    this.log = log.child({ context: "EventsGateway" });
  }

  afterInit(ns: IoNamespace): void {
    ns.use((socket, next) => {
      const token = socket.handshake.auth?.token;
      const bearer = typeof token === "string" ? `Bearer ${token}` : socket.handshake.headers.authorization;
      if (isAdminBearer(bearer, this.config.adminToken)) return next();
      authenticateSocket(bearer, this.config.auth.eventsToken, this.sessions).then(
        (who) => {
          if (who.ok) {
            socket.data.principal = who.principal;
            return next();
          }
          this.log.warn({ socket: socket.id, reason: who.reason }, "websocket refused");
          next(Object.assign(new Error("unauthorized"), { data: { reason: who.reason } }));
        },
        (err: unknown) => {
          this.log.error({ err, socket: socket.id }, "websocket authentication failed");
          next(Object.assign(new Error("unavailable"), { data: { reason: "could not check the session; retry" } }));
        },
      );
    });
    ns.on("connection", (socket) => this.track(socket));
    this.stopRevokedListener = this.sessions.onRevoked((jti) => this.endSession(jti, "signed out"));
    this.recheckTimer = setInterval(() => void this.recheckSessions(), this.config.auth.wsSessionRecheckSec * 1000);
    this.recheckTimer.unref();
    const deliver = (msg: FleetEventMessage) => {
      // admit() runs either way (it tracks presence); with nobody connected socket.io would still encode every event
      if (this.presence.admit(msg) && ns.sockets.size > 0) ns.emit(msg.type, msg);
    };
    this.unsubscribe = this.bus.subscribe(deliver);
    this.unsubscribeRemote = this.relay.onRemote(deliver);
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    this.unsubscribeRemote?.();
    this.stopRevokedListener?.();
    if (this.recheckTimer) clearInterval(this.recheckTimer);
  }

  private track(socket: IoSocket): void {
    const p = socket.data.principal as { kind?: string; jti?: string } | undefined;
    if (p?.kind !== "session" || !p.jti) return;
    const jti = p.jti;
    const set = this.sessionSockets.get(jti) ?? new Set<IoSocket>();
    set.add(socket);
    this.sessionSockets.set(jti, set);
    socket.on("disconnect", () => {
      set.delete(socket);
      if (set.size === 0) this.sessionSockets.delete(jti);
    });
  }

  private endSession(jti: string, reason: string): void {
    for (const socket of this.sessionSockets.get(jti) ?? []) {
      socket.emit("session.ended", { reason });
      socket.disconnect(true);
    }
    this.sessionSockets.delete(jti);
  }

  /** Close the sockets of sessions that expired, were revoked elsewhere or whose user was disabled. */
  private async recheckSessions(): Promise<void> {
    if (this.sessionSockets.size === 0) return;
    try {
      const invalid = await this.sessions.invalidOf([...this.sessionSockets.keys()]);
      for (const jti of invalid) this.endSession(jti, "session expired or revoked");
    } catch (err) {
      this.log.warn({ err }, "websocket session re-check failed; will retry");
    }
  }
}
