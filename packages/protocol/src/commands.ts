import { z } from "zod";
import { SCHEMA_VERSION, ZDeviceId, ZIsoDate } from "./common.js";

export const ZBenchmarkCommandV1 = z.object({
  type: z.literal("benchmark"),
  modelId: z.string().max(500).nullable(),
  nPrompt: z.number().int().min(1).max(8192).default(512),
  nGen: z.number().int().min(1).max(2048).default(128),
  repetitions: z.number().int().min(1).max(20).default(5),
});
export const ZReportNowCommandV1 = z.object({ type: z.literal("report-now") });

export const ZCommandBodyV1 = z.discriminatedUnion("type", [ZBenchmarkCommandV1, ZReportNowCommandV1]);

/** Server -> device. Signed by the server's key; the agent verifies before acting. */
export const ZCommandV1 = z.object({
  v: z.literal(SCHEMA_VERSION),
  commandId: z.uuid(),
  deviceId: ZDeviceId,
  issuedAt: ZIsoDate,
  body: ZCommandBodyV1,
});
export type TCommandV1 = z.infer<typeof ZCommandV1>;
export type TCommandBodyV1 = z.infer<typeof ZCommandBodyV1>;
