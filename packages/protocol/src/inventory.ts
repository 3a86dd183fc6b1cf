import { z } from "zod";
import { ZBytes, ZIsoDate } from "./common.js";

export const ZCpuV1 = z.object({
  manufacturer: z.string().max(200),
  brand: z.string().max(200),
  cores: z.number().int().positive(),
  physicalCores: z.number().int().positive(),
  speedGHz: z.number().nonnegative().nullable(),
  flags: z.array(z.string().max(64)).max(512),
});

export const ZMemoryV1 = z.object({
  totalBytes: ZBytes,
  freeBytes: ZBytes,
  availableBytes: ZBytes,
  swapTotalBytes: ZBytes,
  swapFreeBytes: ZBytes,
});

export const ZGpuV1 = z.object({
  vendor: z.string().max(200),
  model: z.string().max(200),
  /** null when the driver does not report it (common for integrated GPUs) */
  vramBytes: ZBytes.nullable(),
  vramFreeBytes: ZBytes.nullable(),
  driverVersion: z.string().max(100).nullable(),
  bus: z.string().max(100).nullable(),
});

export const ZDiskV1 = z.object({
  mount: z.string().max(1024),
  fsType: z.string().max(64),
  sizeBytes: ZBytes,
  freeBytes: ZBytes,
});

export const ZOsV1 = z.object({
  platform: z.string().max(64),
  distro: z.string().max(200),
  release: z.string().max(200),
  kernel: z.string().max(200),
  arch: z.string().max(32),
  hostname: z.string().max(255),
});

export const ZPowerV1 = z.object({
  hasBattery: z.boolean(),
  isCharging: z.boolean().nullable(),
  percent: z.number().min(0).max(100).nullable(),
  acConnected: z.boolean().nullable(),
});

/** The inference runtime a device has: entries can require a newer one (compatibility "incompatible: runtime"). */
export const ZRuntimeInfoV1 = z.object({
  nodeLlamaCpp: z.string().max(32),
  /** llama.cpp release tag of the binding, e.g. "b6000"; null when unknown */
  llamaCppRelease: z.string().max(32).nullable(),
  /** backends the binding can use on this machine */
  backends: z.array(z.enum(["cpu", "cuda", "vulkan", "metal"])).max(8),
});
export type TRuntimeInfoV1 = z.infer<typeof ZRuntimeInfoV1>;

export const ZInventoryV1 = z.object({
  collectedAt: ZIsoDate,
  cpu: ZCpuV1,
  memory: ZMemoryV1,
  gpus: z.array(ZGpuV1).max(64),
  disks: z.array(ZDiskV1).max(256),
  modelsDir: z.object({ path: z.string().max(4096), sizeBytes: ZBytes, freeBytes: ZBytes }),
  os: ZOsV1,
  power: ZPowerV1,
  /** absent from agents older than the catalog (treated as unknown runtime) */
  runtime: ZRuntimeInfoV1.nullable().optional(),
});
export type TInventoryV1 = z.infer<typeof ZInventoryV1>;
export type TGpuV1 = z.infer<typeof ZGpuV1>;
