import { FleetEvent, type FleetEventMessage } from "./fleet-events.js";

/** Devices whose last presence is remembered; beyond that the least recently changed are forgotten. */
const MAX_DEVICES = 200_000;

/**
 * Every instance keeps its own presence (online from the reports it stored, offline from its own sweep), so with
 * several replicas each announces the same transition: a websocket client would see a device come online twice.
 * This passes a device.online / device.offline only when it changes the device's last delivered presence, and drops
 * one stamped before that (another instance's late sweep). Other events pass untouched.
 */
export class PresenceDedup {
  private readonly last = new Map<string, { online: boolean; at: number }>();

  admit(msg: Pick<FleetEventMessage, "type" | "deviceId" | "at">): boolean {
    if ((msg.type !== FleetEvent.DeviceOnline && msg.type !== FleetEvent.DeviceOffline) || !msg.deviceId) return true;
    const online = msg.type === FleetEvent.DeviceOnline;
    const at = Date.parse(msg.at);
    const prev = this.last.get(msg.deviceId);
    if (prev && (prev.online === online || at < prev.at)) return false;
    this.last.delete(msg.deviceId);
    this.last.set(msg.deviceId, { online, at });
    if (this.last.size > MAX_DEVICES) {
      const oldest = this.last.keys().next();
      if (!oldest.done) this.last.delete(oldest.value);
    }
    return true;
  }
}
