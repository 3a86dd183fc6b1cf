import "server-only";
import { z } from "zod";
import {
  ZCatalogEntryV1,
  ZCreateRolloutRequestV1,
  ZPageV1,
  ZRolloutActionRequestV1,
  ZRolloutAdoptionV1,
  ZRolloutDeviceViewV1,
  ZRolloutState,
  ZRolloutV1,
  type TCreateRolloutRequestV1,
  type TRolloutDeviceViewV1,
  type TRolloutV1,
} from "@fleet/protocol";
import { call } from "../api";
import { searchString } from "../query";

// Rollouts REST client (apps/server/src/rollouts). The list and device-page shapes are the server's DTOs, built
// here from the protocol's item schemas the same way (ZPageV1).

export const ZRolloutListV1 = ZPageV1(ZRolloutV1);
export const ZRolloutDeviceListV1 = ZPageV1(ZRolloutDeviceViewV1);
export const ZCatalogPageV1 = ZPageV1(ZCatalogEntryV1);
export type TRolloutAdoptionV1 = z.infer<typeof ZRolloutAdoptionV1>;

export const ZRolloutListQuery = z.object({
  page: z.coerce.number().int().positive().default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(25),
  state: ZRolloutState.optional(),
});
export type TRolloutListQuery = z.infer<typeof ZRolloutListQuery>;

export type RolloutAction = "pause" | "resume" | "abort" | "rollback";

const enc = encodeURIComponent;

export function listRollouts(query: Partial<TRolloutListQuery>): Promise<z.infer<typeof ZRolloutListV1>> {
  return call(`/api/v1/rollouts${searchString(query)}`, ZRolloutListV1);
}

export function getRollout(id: string): Promise<TRolloutV1> {
  return call(`/api/v1/rollouts/${enc(id)}`, ZRolloutV1);
}

export function getRolloutDevices(id: string, query: { page?: number; pageSize?: number; state?: string }): Promise<z.infer<typeof ZRolloutDeviceListV1>> {
  return call(`/api/v1/rollouts/${enc(id)}/devices${searchString(query)}`, ZRolloutDeviceListV1);
}

export function getRolloutAdoption(id: string): Promise<TRolloutAdoptionV1> {
  return call(`/api/v1/rollouts/${enc(id)}/adoption`, ZRolloutAdoptionV1);
}

export function createRollout(request: TCreateRolloutRequestV1): Promise<TRolloutV1> {
  return call(`/api/v1/rollouts`, ZRolloutV1, { method: "POST", body: ZCreateRolloutRequestV1.parse(request) });
}

export function actOnRollout(id: string, action: RolloutAction, reason: string): Promise<TRolloutV1> {
  return call(`/api/v1/rollouts/${enc(id)}/${action}`, ZRolloutV1, { method: "POST", body: ZRolloutActionRequestV1.parse({ reason }) });
}

export function rollbackRolloutDevice(id: string, deviceId: string, reason: string): Promise<TRolloutDeviceViewV1> {
  return call(`/api/v1/rollouts/${enc(id)}/devices/${enc(deviceId)}/rollback`, ZRolloutDeviceViewV1, { method: "POST", body: ZRolloutActionRequestV1.parse({ reason }) });
}

/** Approved catalog entries: the wizard's choices. */
export function listApprovedEntries(): Promise<z.infer<typeof ZCatalogPageV1>> {
  return call(`/api/v1/catalog?state=approved&pageSize=200`, ZCatalogPageV1);
}
