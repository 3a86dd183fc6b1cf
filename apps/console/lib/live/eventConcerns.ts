import type { TFleetEventV1 } from "@fleet/protocol";

/** What a page shows: the whole fleet (`/`) or one device (`/devices/[id]`). */
export type LiveScope = { deviceId: string | null };

/** Whether an event can change what the page in `scope` shows, so it is worth a refresh. */
export function eventConcerns(event: TFleetEventV1, scope: LiveScope): boolean {
  if (scope.deviceId === null) return event.deviceId !== null;
  return event.deviceId === scope.deviceId;
}
