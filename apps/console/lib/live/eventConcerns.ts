import type { TFleetEventV1 } from "@fleet/protocol";

/** What a page shows: the whole fleet (`/`) or one device (`/devices/[id]`). */
export type LiveScope = { deviceId: string | null };

/** Whether an event can change what the page in `scope` shows, so it is worth a refresh. */
export function eventConcerns(event: TFleetEventV1, scope: LiveScope): boolean {
  // fleet pages (overview, devices, rollouts) also change with rollout and catalog events, which name no device
  if (scope.deviceId === null) return event.deviceId !== null || event.type.startsWith("rollout.") || event.type.startsWith("catalog.");
  return event.deviceId === scope.deviceId;
}
