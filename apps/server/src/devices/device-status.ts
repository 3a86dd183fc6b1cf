import type { z } from "zod";
import type { ZDeviceStatus } from "@fleet/protocol";

export type DeviceStatus = z.infer<typeof ZDeviceStatus>;

/** Online/offline is derived, never stored: a device is online if it reported within offlineAfterSec. */
export function deviceStatus(d: { state: string; lastSeenAt: Date | null }, now: Date, offlineAfterSec: number): DeviceStatus {
  if (d.state === "revoked") return "revoked";
  if (!d.lastSeenAt) return "never_seen";
  return now.getTime() - d.lastSeenAt.getTime() <= offlineAfterSec * 1000 ? "online" : "offline";
}

/** The lastSeenAt boundary: seen at or after it means online. */
export function onlineCutoff(now: Date, offlineAfterSec: number): Date {
  return new Date(now.getTime() - offlineAfterSec * 1000);
}
