import { z } from "zod";
import { ZIsoDate } from "./common.js";

export const ZDeviceEventV1 = z.object({
  at: ZIsoDate,
  level: z.enum(["info", "warn", "error"]),
  /** stable machine-readable kind, e.g. "model.load.failed" */
  kind: z.string().regex(/^[a-z0-9]+(\.[a-z0-9-]+)*$/).max(100),
  message: z.string().max(2000),
  data: z.record(z.string(), z.unknown()).optional(),
});
export const ZEventsReportV1 = z.object({ events: z.array(ZDeviceEventV1).min(1).max(100) });
export type TDeviceEventV1 = z.infer<typeof ZDeviceEventV1>;
export type TEventsReportV1 = z.infer<typeof ZEventsReportV1>;
