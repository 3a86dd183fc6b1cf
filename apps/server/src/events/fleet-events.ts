import { EventEmitter } from "node:events";
import { Injectable } from "@nestjs/common";
import type { FleetEventType, TFleetEventOf } from "@fleet/protocol";

// The event names and payloads are the protocol's (ZFleetEventV1): the console validates what it relays with it.
export { FleetEvent, type FleetEventType } from "@fleet/protocol";

/** Payload `data` of each event type. */
export type FleetEventData = { [K in FleetEventType]: TFleetEventOf<K>["data"] };

export type FleetEventMessage<T extends FleetEventType = FleetEventType> = TFleetEventOf<T>;

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
