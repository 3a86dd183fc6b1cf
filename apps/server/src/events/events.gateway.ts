import { Inject, type OnModuleDestroy } from "@nestjs/common";
import { WebSocketGateway, WebSocketServer, type OnGatewayInit } from "@nestjs/websockets";
import type { Logger } from "pino";
import { CONFIG, LOGGER } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { isAdminBearer } from "../common/admin-token.js";
import { FleetEventBus } from "./fleet-events.js";

// Minimal structural types of the socket.io namespace we use (socket.io is a dependency of the Nest adapter, not ours).
interface IoSocket {
  handshake: { auth?: Record<string, unknown>; headers: Record<string, unknown> };
  id: string;
}
interface IoNamespace {
  use(fn: (socket: IoSocket, next: (err?: Error) => void) => void): void;
  emit(event: string, payload: unknown): boolean;
}

/** socket.io namespace /events: admins get every fleet event, emitted under its type (e.g. "device.online"). */
@WebSocketGateway({ namespace: "/events", cors: { origin: false } })
export class EventsGateway implements OnGatewayInit, OnModuleDestroy {
  @WebSocketServer() private server!: IoNamespace;
  private unsubscribe: (() => void) | null = null;
  private readonly log: Logger;

  constructor(
    private readonly bus: FleetEventBus,
    @Inject(CONFIG) private readonly config: ServerConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ context: "EventsGateway" });
  }

  afterInit(ns: IoNamespace): void {
    ns.use((socket, next) => {
      const token = socket.handshake.auth?.token;
      const bearer = typeof token === "string" ? `Bearer ${token}` : socket.handshake.headers.authorization;
      if (isAdminBearer(bearer, this.config.adminToken)) return next();
      this.log.warn({ socket: socket.id }, "websocket refused: bad admin token");
      next(new Error("unauthorized"));
    });
    this.unsubscribe = this.bus.subscribe((msg) => ns.emit(msg.type, msg));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}
