import { z } from "zod";
import { ZBytes, ZIsoDate, ZSha256Hex } from "./common.js";
import { ZInventoryV1 } from "./inventory.js";
import { ZGgufMetadataV1 } from "./models.js";
import { ZPostureV1 } from "./posture.js";
import { ZBenchmarkResultV1, ZModelLoadV1, ZModelRuntimeStatsV1 } from "./runtime.js";
import { ZSustainedOptionsV1 } from "./commands.js";
import { ZMemoryPressureV1 } from "./resource-usage.js";

// Shapes of the server's REST responses, shared by the server (serialisation, OpenAPI) and the console.

export const ZDeviceStatus = z.enum(["online", "offline", "never_seen", "revoked"]);

export const ZDeviceSummaryV1 = z.object({
  id: z.string(),
  hostname: z.string(),
  status: ZDeviceStatus,
  enrolledAt: ZIsoDate,
  lastSeenAt: ZIsoDate.nullable(),
  agentVersion: z.string().nullable(),
  cpu: z.string().nullable(),
  cpuCores: z.number().int().nullable(),
  ramTotalBytes: ZBytes.nullable(),
  gpus: z.array(z.object({ vendor: z.string(), model: z.string(), vramBytes: ZBytes.nullable() })),
  os: z.string().nullable(),
  models: z.array(z.object({ fileName: z.string(), sha256: ZSha256Hex, architecture: z.string().nullable(), quantization: z.string().nullable() })),
  /** models planned to fit here that paged heavily when they ran (measured by the agent); absent = none known */
  memoryPressure: z.array(z.object({ modelId: z.string(), sha256: ZSha256Hex.nullable(), reason: z.string(), lastSeenAt: ZIsoDate })).optional(),
});
export type TDeviceSummaryV1 = z.infer<typeof ZDeviceSummaryV1>;

export const ZPageV1 = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int().nonnegative(), page: z.number().int().positive(), pageSize: z.number().int().positive() });

export const ZDeviceListV1 = ZPageV1(ZDeviceSummaryV1);
export type TDeviceListV1 = z.infer<typeof ZDeviceListV1>;

export const DEVICE_SORTS = ["hostname", "-hostname", "lastSeenAt", "-lastSeenAt", "enrolledAt", "-enrolledAt"] as const;
export type TDeviceSort = (typeof DEVICE_SORTS)[number];

export const ZDeviceListQueryV1 = z.object({
  page: z.coerce.number().int().positive().default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
  status: ZDeviceStatus.optional(),
  /** substring of the hostname (any case) or an exact device id */
  q: z.string().max(200).optional(),
  /** GPU vendor substring, e.g. "nvidia" */
  gpuVendor: z.string().max(100).optional(),
  /** devices having a model with this sha256 */
  modelSha256: ZSha256Hex.optional(),
  /** sort column, "-" for descending (default hostname); ties broken by id */
  sort: z.enum(DEVICE_SORTS).optional(),
});
export type TDeviceListQueryV1 = z.infer<typeof ZDeviceListQueryV1>;

export const ZInstalledModelViewV1 = z.object({
  path: z.string(),
  fileName: z.string(),
  sizeBytes: ZBytes,
  sha256: ZSha256Hex,
  gguf: ZGgufMetadataV1.nullable(),
  error: z.string().nullable(),
  firstSeenAt: ZIsoDate,
  lastSeenAt: ZIsoDate,
});

export const ZInventorySnapshotViewV1 = z.object({ id: z.string(), receivedAt: ZIsoDate, inventory: ZInventoryV1 });

export const ZDeviceDetailV1 = z.object({
  device: ZDeviceSummaryV1,
  inventory: ZInventorySnapshotViewV1.nullable(),
  /** newest first; the latest few snapshots (see /inventory/history for more) */
  inventoryHistory: z.array(z.object({ id: z.string(), receivedAt: ZIsoDate, ramFreeBytes: ZBytes.nullable(), modelsDirFreeBytes: ZBytes.nullable() })),
  models: z.array(ZInstalledModelViewV1),
  posture: z.object({ receivedAt: ZIsoDate, posture: ZPostureV1 }).nullable(),
  heartbeat: z.object({ receivedAt: ZIsoDate, queueDepth: z.number().int(), runtimeState: z.string(), activeModel: z.string().nullable() }).nullable(),
});
export type TDeviceDetailV1 = z.infer<typeof ZDeviceDetailV1>;

export const ZRuntimeMetricsViewV1 = z.object({
  items: z.array(z.object({ windowStart: ZIsoDate, windowEnd: ZIsoDate, receivedAt: ZIsoDate, stats: ZModelRuntimeStatsV1, memoryPressure: ZMemoryPressureV1.optional() })),
  loads: z.array(ZModelLoadV1),
});
export type TRuntimeMetricsViewV1 = z.infer<typeof ZRuntimeMetricsViewV1>;

export const ZBenchmarkListV1 = z.object({
  items: z.array(z.object({ id: z.string(), receivedAt: ZIsoDate, result: ZBenchmarkResultV1 })),
});
export type TBenchmarkListV1 = z.infer<typeof ZBenchmarkListV1>;

export const ZBenchmarkRequestV1 = z.object({
  modelId: z.string().max(500).nullable().default(null),
  nPrompt: z.number().int().min(1).max(8192).default(512),
  nGen: z.number().int().min(1).max(2048).default(128),
  repetitions: z.number().int().min(1).max(20).default(5),
  ...ZSustainedOptionsV1.shape,
});
export const ZBenchmarkRequestedV1 = z.object({ commandId: z.uuid(), deviceId: z.string(), issuedAt: ZIsoDate });
