import { z } from "zod";
import { ZDeviceId, ZIsoDate } from "./common.js";
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
} as const;
export type FleetEventType = (typeof FleetEvent)[keyof typeof FleetEvent];

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
]);
export type TFleetEventV1 = z.infer<typeof ZFleetEventV1>;
/** The event of one type, e.g. `TFleetEventOf<"report.rejected">`. */
export type TFleetEventOf<T extends FleetEventType> = Extract<TFleetEventV1, { type: T }>;
