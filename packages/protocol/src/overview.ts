import { z } from "zod";

// The console's Overview (issue 12): the fleet at a glance, computed in the database (stays fast at 50,000 devices).

const count = z.number().int().nonnegative();

export const ZFleetOverviewV1 = z.object({
  generatedAt: z.string(),
  devices: z.object({ total: count, online: count, offline: count, neverSeen: count, revoked: count }),
  /** active devices by RAM of their latest inventory (label e.g. "16–32 GiB") */
  ramClasses: z.array(z.object({ label: z.string(), devices: count })),
  /** active devices by their largest GPU: vendor and VRAM class ("none" without a GPU) */
  gpuClasses: z.array(z.object({ vendor: z.string(), vram: z.string(), devices: count })),
  /** installed models (not removed) by file hash, most devices first, with the catalog name/version when known */
  models: z.array(z.object({ sha256: z.string(), name: z.string(), version: z.string().nullable(), quantization: z.string().nullable(), devices: count })),
  rollouts: z.array(
    z.object({
      id: z.string(),
      state: z.string(),
      entryName: z.string(),
      entryVersion: z.string(),
      currentRing: z.number().int(),
      rings: z.number().int().nullable(),
      active: count,
      failed: count,
      inProgress: count,
      total: count,
    }),
  ),
  failing: z.array(z.object({ deviceId: z.string(), hostname: z.string(), rolloutId: z.string(), code: z.string().nullable(), reason: z.string().nullable(), at: z.string() })),
  violations: z.object({ devices: count, open: count, byPolicy: z.array(z.object({ policy: z.string(), open: count })) }),
});
export type TFleetOverviewV1 = z.infer<typeof ZFleetOverviewV1>;
