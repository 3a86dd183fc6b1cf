import { z } from "zod";
import { ZDeviceId, ZIsoDate } from "./common.js";
import { ZCatalogQualityRunV1 } from "./catalog.js";
import { ZRolloutDeviceState, ZRolloutState } from "./rollout.js";
import { RejectReason } from "./signing.js";
import { REPORT_KINDS } from "./subjects.js";

/** Every fleet event the server streams (socket.io namespace /events, each emitted under its type). */
export const FleetEvent = {
  DeviceEnrolled: "device.enrolled",
  DeviceReported: "device.reported",
  DeviceOnline: "device.online",
  DeviceOffline: "device.offline",
  DeviceRevoked: "device.revoked",
  ReportRejected: "report.rejected",
  BenchmarkCompleted: "benchmark.completed",
  RolloutCreated: "rollout.created",
  RolloutRingStarted: "rollout.ring.started",
  RolloutPromoted: "rollout.promoted",
  RolloutCompleted: "rollout.completed",
  RolloutPaused: "rollout.paused",
  RolloutResumed: "rollout.resumed",
  RolloutAborted: "rollout.aborted",
  RolloutRolledBack: "rollout.rolled_back",
  /** a device's row in a rollout changed state (update report, skipped, rollback issued) */
  RolloutDeviceUpdated: "rollout.device.updated",
  /** a catalog quality measurement started, progressed (at most every 250 ms) or ended */
  CatalogQualityProgress: "catalog.quality.progress",
} as const;
export type FleetEventType = (typeof FleetEvent)[keyof typeof FleetEvent];

/** Rollout-level events share one payload: where the rollout is now and why. */
const ZRolloutEventData = z.object({ rolloutId: z.uuid(), state: ZRolloutState, currentRing: z.number().int().nonnegative(), reason: z.string().nullable() });

const event = <T extends FleetEventType, D extends z.ZodType>(type: T, data: D) =>
  z.object({ type: z.literal(type), deviceId: ZDeviceId.nullable(), at: ZIsoDate, data });

/** One fleet event as the server emits it: {type, deviceId, at, data}, `data` shaped by `type`. */
export const ZFleetEventV1 = z.discriminatedUnion("type", [
  event(FleetEvent.DeviceEnrolled, z.object({ hostname: z.string() })),
  event(FleetEvent.DeviceReported, z.object({ kind: z.enum(REPORT_KINDS), msgId: z.string() })),
  event(FleetEvent.DeviceOnline, z.object({ lastSeenAt: ZIsoDate })),
  event(FleetEvent.DeviceOffline, z.object({ lastSeenAt: ZIsoDate.nullable() })),
  event(FleetEvent.DeviceRevoked, z.object({})),
  event(FleetEvent.ReportRejected, z.object({ reason: z.enum(Object.values(RejectReason)), detail: z.string(), subject: z.string() })),
  event(FleetEvent.BenchmarkCompleted, z.object({ commandId: z.string().nullable(), ok: z.boolean(), runId: z.string() })),
  event(FleetEvent.RolloutCreated, ZRolloutEventData),
  event(FleetEvent.RolloutRingStarted, ZRolloutEventData),
  event(FleetEvent.RolloutPromoted, ZRolloutEventData),
  event(FleetEvent.RolloutCompleted, ZRolloutEventData),
  event(FleetEvent.RolloutPaused, ZRolloutEventData),
  event(FleetEvent.RolloutResumed, ZRolloutEventData),
  event(FleetEvent.RolloutAborted, ZRolloutEventData),
  event(FleetEvent.RolloutRolledBack, ZRolloutEventData),
  event(FleetEvent.RolloutDeviceUpdated, z.object({ rolloutId: z.uuid(), state: ZRolloutDeviceState, code: z.string().nullable() })),
  event(FleetEvent.CatalogQualityProgress, ZCatalogQualityRunV1),
]);
export type TFleetEventV1 = z.infer<typeof ZFleetEventV1>;
/** The event of one type, e.g. `TFleetEventOf<"report.rejected">`. */
export type TFleetEventOf<T extends FleetEventType> = Extract<TFleetEventV1, { type: T }>;
