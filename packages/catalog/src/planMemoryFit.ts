import type { TMemoryPlanV1 } from "@fleet/protocol";
import { computeBufferBytes } from "./computeBufferBytes.js";
import { formatGiB } from "./formatGiB.js";
import { kvCacheBytes, type KvCacheType } from "./kvCacheBytes.js";

/** What the planner needs to know about a model: GGUF header facts, no weights. */
export interface ModelShape {
  /** installed model id or file name; used in reasons and suggestions */
  id: string;
  /** tensor data size; the GGUF file size is a close upper bound */
  weightsBytes: number;
  /** transformer blocks (GGUF `<arch>.block_count`) */
  layers: number;
  headCount: number;
  kvHeads: number;
  /** per-head dimension (embedding length / head count for llama-family models) */
  headDim: number;
  embeddingLength: number;
  vocabSize: number;
}

export interface DeviceMemory {
  /** RAM the runtime may use: available memory, or a configured budget if lower */
  ramFreeBytes: number;
  vramFreeBytes: number;
  /** false on CPU-only builds or machines without a usable GPU */
  gpuOffload: boolean;
}

export interface PlanInput {
  model: ModelShape;
  contextSize: number;
  kvType?: KvCacheType;
  device: DeviceMemory;
  /** kept free for the OS and the user's applications */
  headroomBytes: number;
  /** better estimates when available (node-llama-cpp insights for the local device) */
  kvCacheBytes?: number;
  computeBytes?: number;
  /** approved models to suggest when this one does not fit */
  candidates?: ModelShape[];
}

interface Placement {
  placement: TMemoryPlanV1["placement"];
  gpuLayers: number;
  ram: number;
  vram: number;
}

function sizes(input: PlanInput) {
  const { model, contextSize, kvType = "f16" } = input;
  const kv =
    input.kvCacheBytes ??
    kvCacheBytes({ layers: model.layers, contextSize, kvHeads: model.kvHeads, headDim: model.headDim, kvType });
  const compute =
    input.computeBytes ??
    computeBufferBytes({ contextSize, headCount: model.headCount, embeddingLength: model.embeddingLength, vocabSize: model.vocabSize });
  return { weights: model.weightsBytes, kv, compute };
}

/**
 * Where the model goes: all on the GPU, as many layers as fit on it (llama.cpp counts the output layer,
 * so a model of N blocks has N + 1 offloadable layers), or all on the CPU.
 */
function place(input: PlanInput): Placement {
  const { weights, kv, compute } = sizes(input);
  const { device, headroomBytes: headroom, model } = input;
  const totalLayers = model.layers + 1;
  const cpu: Placement = { placement: "cpu", gpuLayers: 0, ram: weights + kv + compute + headroom, vram: 0 };
  if (!device.gpuOffload || device.vramFreeBytes <= 0) return cpu;

  const fullVram = weights + kv + compute;
  if (fullVram <= device.vramFreeBytes) return { placement: "gpu-full", gpuLayers: totalLayers, ram: headroom, vram: fullVram };

  const perLayerWeights = weights / totalLayers;
  const perLayerKv = model.layers > 0 ? kv / model.layers : 0;
  const vramFor = (n: number) => n * perLayerWeights + Math.min(n, model.layers) * perLayerKv + compute;
  let n = 0;
  while (n + 1 < totalLayers && vramFor(n + 1) <= device.vramFreeBytes) n++;
  if (n === 0) return cpu;
  const ram = weights - n * perLayerWeights + kv - Math.min(n, model.layers) * perLayerKv + compute + headroom;
  return { placement: "gpu-partial", gpuLayers: n, ram: Math.ceil(ram), vram: Math.ceil(vramFor(n)) };
}

function fitsAt(input: PlanInput): boolean {
  const p = place(input);
  return p.ram <= input.device.ramFreeBytes && p.vram <= input.device.vramFreeBytes;
}

/** Largest context (a multiple of 256, at least 256) at which the model would fit, or null. */
function largestFittingContext(input: PlanInput): number | null {
  // Caller-supplied KV/compute estimates are for the requested context only; rescale them.
  const scaled = (ctx: number): PlanInput => ({
    ...input,
    contextSize: ctx,
    kvCacheBytes: input.kvCacheBytes === undefined ? undefined : (input.kvCacheBytes * ctx) / input.contextSize,
    computeBytes: input.computeBytes === undefined ? undefined : (input.computeBytes * ctx) / input.contextSize,
  });
  let lo = 0;
  let hi = Math.floor(input.contextSize / 256) - 1;
  if (hi < 1 || !fitsAt(scaled(256))) return null;
  lo = 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fitsAt(scaled(mid * 256))) lo = mid;
    else hi = mid - 1;
  }
  return lo * 256;
}

/** The largest approved candidate, other than the model itself, that fits at the same context. */
function suggest(input: PlanInput): ModelShape | null {
  const fitting = (input.candidates ?? [])
    .filter((c) => c.id !== input.model.id)
    .filter((c) => fitsAt({ ...input, model: c, kvCacheBytes: undefined, computeBytes: undefined, candidates: [] }));
  fitting.sort((a, b) => b.weightsBytes - a.weightsBytes);
  return fitting[0] ?? null;
}

/** Decide whether and where a model fits before loading it; refuse with an actionable reason. */
export function planMemoryFit(input: PlanInput): TMemoryPlanV1 {
  if (!(input.contextSize > 0) || !(input.model.layers >= 0) || !(input.model.weightsBytes >= 0)) {
    throw new RangeError("planMemoryFit needs a positive context size and non-negative model sizes");
  }
  const { weights, kv, compute } = sizes(input);
  const p = place(input);
  const fits = p.ram <= input.device.ramFreeBytes && p.vram <= input.device.vramFreeBytes;
  let reason: string | null = null;
  let suggestion: string | null = null;
  if (!fits) {
    const better = suggest(input);
    suggestion = better?.id ?? null;
    const ctx = largestFittingContext(input);
    const gpu = input.device.gpuOffload ? ` and ${formatGiB(input.device.vramFreeBytes)} of VRAM` : " (no GPU offload)";
    reason =
      `${input.model.id} does not fit at context ${input.contextSize}: it needs ${formatGiB(p.ram)} of RAM` +
      (p.vram > 0 ? ` and ${formatGiB(p.vram)} of VRAM` : "") +
      ` (weights ${formatGiB(weights)} + KV cache ${formatGiB(kv)} + compute ${formatGiB(compute)} + headroom ${formatGiB(input.headroomBytes)})` +
      ` but ${formatGiB(input.device.ramFreeBytes)} of RAM is free${gpu}.` +
      (suggestion ? ` Use ${suggestion} instead, which fits.` : "") +
      (ctx ? ` Or lower the context to ${ctx}.` : "") +
      (!suggestion && !ctx ? " Free memory, raise the memory budget, or install a smaller quantization." : "");
  }
  return {
    fits,
    placement: p.placement,
    gpuLayers: p.gpuLayers,
    totalLayers: input.model.layers + 1,
    contextSize: input.contextSize,
    requiredRamBytes: Math.ceil(p.ram),
    requiredVramBytes: Math.ceil(p.vram),
    availableRamBytes: Math.max(0, Math.floor(input.device.ramFreeBytes)),
    availableVramBytes: Math.max(0, Math.floor(input.device.vramFreeBytes)),
    breakdown: {
      weightsBytes: Math.ceil(weights),
      kvCacheBytes: Math.ceil(kv),
      computeBytes: Math.ceil(compute),
      headroomBytes: input.headroomBytes,
    },
    reason,
    suggestion,
  };
}
