import { z } from "zod";
import { SCHEMA_VERSION, ZDeviceId, ZIsoDate } from "./common.js";

/**
 * Sustained mode of the standard benchmark: generate for durationSec, sample tokens/s every sampleIntervalSec,
 * call it throttling when the final window's median is more than throttleDropPct below the first window's.
 */
export const SUSTAINED_DEFAULTS = { mode: "standard", durationSec: 600, sampleIntervalSec: 5, throttleDropPct: 10 } as const;
const ZSustainedFields = {
  mode: z.enum(["standard", "sustained"]),
  durationSec: z.number().int().min(2).max(3600),
  sampleIntervalSec: z.number().int().min(1).max(60),
  throttleDropPct: z.number().min(1).max(90),
};
/** REST request fields (defaults filled in) */
export const ZSustainedOptionsV1 = z.object({
  mode: ZSustainedFields.mode.default(SUSTAINED_DEFAULTS.mode),
  durationSec: ZSustainedFields.durationSec.default(SUSTAINED_DEFAULTS.durationSec),
  sampleIntervalSec: ZSustainedFields.sampleIntervalSec.default(SUSTAINED_DEFAULTS.sampleIntervalSec),
  throttleDropPct: ZSustainedFields.throttleDropPct.default(SUSTAINED_DEFAULTS.throttleDropPct),
});
/** in a command: optional, absent = standard mode (commands from older servers) */
const ZSustainedCommandFields = z.object(ZSustainedFields).partial();

export const ZBenchmarkCommandV1 = z.object({
  type: z.literal("benchmark"),
  modelId: z.string().max(500).nullable(),
  nPrompt: z.number().int().min(1).max(8192).default(512),
  nGen: z.number().int().min(1).max(2048).default(128),
  repetitions: z.number().int().min(1).max(20).default(5),
  ...ZSustainedCommandFields.shape,
});
export const ZReportNowCommandV1 = z.object({ type: z.literal("report-now") });

export const ZCommandBodyV1 = z.discriminatedUnion("type", [ZBenchmarkCommandV1, ZReportNowCommandV1]);

/** How long a command the server issues stays valid (expiresAt = issuedAt + this). */
export const COMMAND_TTL_MS = 5 * 60_000;
/** Longest lifetime a command may declare: a bug or a stolen signing step cannot mint a command valid for a year. */
export const MAX_COMMAND_TTL_MS = 60 * 60_000;
/**
 * Clock difference tolerated between server and device when a device checks a command's validity window:
 * a command is accepted from issuedAt - skew until expiresAt + skew by the device's clock.
 */
export const COMMAND_CLOCK_SKEW_MS = 2 * 60_000;

/** Server -> device. Signed by the server's key; the agent verifies before acting, and acts once, while valid. */
export const ZCommandV1 = z
  .object({
    v: z.literal(SCHEMA_VERSION),
    commandId: z.uuid(),
    deviceId: ZDeviceId,
    issuedAt: ZIsoDate,
    /** after this (plus COMMAND_CLOCK_SKEW_MS) the device refuses the command: a captured command cannot be replayed later */
    expiresAt: ZIsoDate,
    body: ZCommandBodyV1,
  })
  .refine((c) => Date.parse(c.expiresAt) > Date.parse(c.issuedAt), { message: "expiresAt must be after issuedAt", path: ["expiresAt"] })
  .refine((c) => Date.parse(c.expiresAt) - Date.parse(c.issuedAt) <= MAX_COMMAND_TTL_MS, {
    message: `a command may be valid for at most ${MAX_COMMAND_TTL_MS / 60_000} minutes`,
    path: ["expiresAt"],
  });
export type TCommandV1 = z.infer<typeof ZCommandV1>;
export type TCommandBodyV1 = z.infer<typeof ZCommandBodyV1>;
