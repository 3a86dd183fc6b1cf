import { z } from "zod";
import { ZBytes, ZIsoDate, ZSha256Hex } from "./common.js";
import { ZMemoryPressureV1, ZSustainedBenchmarkV1 } from "./resource-usage.js";

export const ZPlacementV1 = z.enum(["gpu-full", "gpu-partial", "cpu"]);
export const ZBackendV1 = z.enum(["cpu", "cuda", "vulkan", "metal"]);

/** The memory-fit decision taken before a load; recorded with every load. */
export const ZMemoryPlanV1 = z.object({
  fits: z.boolean(),
  placement: ZPlacementV1,
  gpuLayers: z.number().int().nonnegative(),
  totalLayers: z.number().int().nonnegative(),
  contextSize: z.number().int().positive(),
  /** host RAM the load needs: weights not offloaded + KV on host + compute + headroom */
  requiredRamBytes: ZBytes,
  requiredVramBytes: ZBytes,
  availableRamBytes: ZBytes,
  availableVramBytes: ZBytes,
  breakdown: z.object({ weightsBytes: ZBytes, kvCacheBytes: ZBytes, computeBytes: ZBytes, headroomBytes: ZBytes }),
  /** why it does not fit, in words an admin can act on */
  reason: z.string().max(2000).nullable(),
  /** a smaller approved model that would fit, when one is known */
  suggestion: z.string().max(500).nullable(),
});
export type TMemoryPlanV1 = z.infer<typeof ZMemoryPlanV1>;

const ZPercentiles = z.object({ p50: z.number().nonnegative(), p95: z.number().nonnegative() }).nullable();

export const ZModelRuntimeStatsV1 = z.object({
  modelId: z.string().max(500),
  sha256: ZSha256Hex.nullable(),
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  ttftMs: ZPercentiles,
  tpotMs: ZPercentiles,
});

export const ZModelLoadV1 = z.object({
  at: ZIsoDate,
  modelId: z.string().max(500),
  sha256: ZSha256Hex.nullable(),
  ok: z.boolean(),
  error: z.string().max(2000).nullable(),
  loadMs: z.number().nonnegative(),
  backend: ZBackendV1,
  gpuLayers: z.number().int().nonnegative(),
  contextSize: z.number().int().nonnegative(),
  quantization: z.string().max(50).nullable(),
  peakRssBytes: ZBytes,
  peakVramBytes: ZBytes,
  plan: ZMemoryPlanV1.nullable(),
  /** major faults and swap during the load; absent from older agents */
  memoryPressure: ZMemoryPressureV1.optional(),
});

/** Aggregated over one reporting window. Prompts and outputs never leave the device: counts and timings only. */
export const ZRuntimeMetricsV1 = z.object({
  windowStart: ZIsoDate,
  windowEnd: ZIsoDate,
  models: z.array(ZModelRuntimeStatsV1).max(100),
  loads: z.array(ZModelLoadV1).max(100),
  /** the inference host's memory pressure over this window; absent from older agents */
  memoryPressure: z.array(ZMemoryPressureV1).max(10).optional(),
});
export type TRuntimeMetricsV1 = z.infer<typeof ZRuntimeMetricsV1>;
export type TModelLoadV1 = z.infer<typeof ZModelLoadV1>;

const ZMeanStd = z.object({ mean: z.number().nonnegative(), stddev: z.number().nonnegative(), samples: z.array(z.number()).max(100) });

/** A llama-bench style result, disclosing everything needed to compare it with another. */
export const ZBenchmarkResultV1 = z.object({
  commandId: z.string().max(100).nullable(),
  at: ZIsoDate,
  ok: z.boolean(),
  error: z.string().max(2000).nullable(),
  model: z.object({
    id: z.string().max(500),
    sha256: ZSha256Hex.nullable(),
    architecture: z.string().max(100).nullable(),
    type: z.string().max(100).nullable(),
    sizeBytes: ZBytes,
    parameterCount: z.number().nonnegative().nullable(),
    quantization: z.string().max(50).nullable(),
  }),
  build: z.object({ nodeLlamaCpp: z.string().max(50), llamaCpp: z.string().max(100) }),
  hardware: z.object({
    cpu: z.string().max(200),
    cpuCores: z.number().int().nonnegative(),
    gpus: z.array(z.string().max(300)).max(16),
    backends: z.array(ZBackendV1).max(8),
    ramTotalBytes: ZBytes,
    vramTotalBytes: ZBytes,
    powerMode: z.string().max(100),
  }),
  settings: z.object({
    nPrompt: z.number().int().nonnegative(),
    nGen: z.number().int().nonnegative(),
    repetitions: z.number().int().positive(),
    batchSize: z.number().int().positive(),
    threads: z.number().int().positive(),
    kvType: z.string().max(20),
    gpuLayers: z.number().int().nonnegative(),
    mmap: z.boolean(),
    contextSize: z.number().int().positive(),
  }),
  /** tokens per second */
  promptProcessing: ZMeanStd.nullable(),
  generation: ZMeanStd.nullable(),
  memory: z.object({ peakRssBytes: ZBytes, peakVramBytes: ZBytes }),
  /** present for a sustained run: tokens/s over time, sensors, power, throttling */
  sustained: ZSustainedBenchmarkV1.optional(),
});
export type TBenchmarkResultV1 = z.infer<typeof ZBenchmarkResultV1>;
