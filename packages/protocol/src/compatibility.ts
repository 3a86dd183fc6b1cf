import { z } from "zod";
import { ZIsoDate } from "./common.js";
import { ZMemoryPlanV1 } from "./runtime.js";

/**
 * Device x catalog entry: where the model would run. Computed on the server by the same packages/catalog
 * function the agent uses before a load.
 */
export const COMPATIBILITY_CLASSES = ["gpu-full", "gpu-partial", "cpu-only", "does-not-fit", "incompatible-runtime"] as const;
export const ZCompatibilityClass = z.enum(COMPATIBILITY_CLASSES);
export type TCompatibilityClass = z.infer<typeof ZCompatibilityClass>;

/** Classes a rollout may target: the model runs there. */
export const RUNNABLE_CLASSES: readonly TCompatibilityClass[] = ["gpu-full", "gpu-partial", "cpu-only"];

export const ZCompatibilityV1 = z.object({
  deviceId: z.string(),
  hostname: z.string(),
  entryId: z.uuid(),
  targetPath: z.string(),
  class: ZCompatibilityClass,
  /** layers offloaded to the GPU (0 on CPU) of totalLayers */
  gpuLayers: z.number().int().nonnegative(),
  totalLayers: z.number().int().nonnegative(),
  /** e.g. "ram-32g/gpu-nvidia-12g" (see packages/catalog hardwareClass) */
  hardwareClass: z.string(),
  reason: z.string().nullable(),
  plan: ZMemoryPlanV1.nullable(),
  computedAt: ZIsoDate,
});
export type TCompatibilityV1 = z.infer<typeof ZCompatibilityV1>;

export const ZCompatibilityQueryV1 = z.object({
  page: z.coerce.number().int().positive().default(1),
  pageSize: z.coerce.number().int().min(1).max(500).default(100),
  entryId: z.uuid().optional(),
  hardwareClass: z.string().max(100).optional(),
  /** device label `group` */
  group: z.string().max(100).optional(),
  class: ZCompatibilityClass.optional(),
  deviceId: z.string().max(64).optional(),
});

/** Per entry: device counts per hardware class and compatibility class. */
export const ZCompatibilitySummaryV1 = z.object({
  entryId: z.uuid(),
  targetPath: z.string(),
  totals: z.record(ZCompatibilityClass, z.number().int().nonnegative()),
  byHardwareClass: z.array(z.object({ hardwareClass: z.string(), counts: z.record(ZCompatibilityClass, z.number().int().nonnegative()) })),
});
export type TCompatibilitySummaryV1 = z.infer<typeof ZCompatibilitySummaryV1>;
