import { EventEmitter } from "node:events";
import { Injectable } from "@nestjs/common";
import type { RejectReason, ReportKind } from "@fleet/protocol";

/** Every fleet event name, in one place. Websocket clients receive each under its own name. */
export const FleetEvent = {
  DeviceEnrolled: "device.enrolled",
  DeviceReported: "device.reported",
  DeviceOnline: "device.online",
  DeviceOffline: "device.offline",
  DeviceRevoked: "device.revoked",
  ReportRejected: "report.rejected",
  BenchmarkCompleted: "benchmark.completed",
} as const;
export type FleetEventType = (typeof FleetEvent)[keyof typeof FleetEvent];

/** Payload `data` of each event type. */
export interface FleetEventData {
  "device.enrolled": { hostname: string };
  "device.reported": { kind: ReportKind; msgId: string };
  "device.online": { lastSeenAt: string };
  "device.offline": { lastSeenAt: string | null };
  "device.revoked": Record<string, never>;
  "report.rejected": { reason: RejectReason; detail: string; subject: string };
  "benchmark.completed": { commandId: string | null; ok: boolean; runId: string };
}

export type FleetEventMessage<T extends FleetEventType = FleetEventType> = {
  [K in T]: { type: K; deviceId: string | null; at: string; data: FleetEventData[K] };
}[T];

/** In-process bus: services publish, the websocket gateway (and tests) subscribe. */
@Injectable()
export class FleetEventBus {
  private readonly emitter = new EventEmitter().setMaxListeners(100);

  publish<T extends FleetEventType>(type: T, deviceId: string | null, data: FleetEventData[T]): void {
    const msg = { type, deviceId, at: new Date().toISOString(), data } as FleetEventMessage<T>;
    this.emitter.emit("event", msg);
  }

  subscribe(fn: (msg: FleetEventMessage) => void): () => void {
    this.emitter.on("event", fn);
    return () => this.emitter.off("event", fn);
  }
}
