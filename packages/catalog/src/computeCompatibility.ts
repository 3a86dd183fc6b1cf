import type { TCompatibilityClass, TMemoryPlanV1, TModelShapeV1, TRuntimeRequirementsV1 } from "@fleet/protocol";
import type { DeviceHardware } from "./deviceHardware.js";
import { hardwareClass } from "./hardwareClass.js";
import { offloadGpu } from "./offloadGpu.js";
import { planMemoryFit } from "./planMemoryFit.js";
import { runtimeSatisfies } from "./runtimeSatisfies.js";

/** Kept free for the OS and the user's applications when planning for a device from its inventory. */
export const DEFAULT_FLEET_HEADROOM_BYTES = 1024 ** 3;

export interface CompatibilityInput {
  entry: {
    id: string;
    targetPath: string;
    fileSizeBytes: number;
    shape: TModelShapeV1;
    /** the context the entry states its memory at */
    contextSize: number;
    runtime: TRuntimeRequirementsV1;
  };
  device: DeviceHardware;
  /** default DEFAULT_FLEET_HEADROOM_BYTES (1 GiB) */
  headroomBytes?: number;
  /** reason a self-test of this entry failed on this device's runtime (learned), if any */
  learnedIncompatibility?: string | null;
  /** the device measured this entry paging heavily although it was planned to fit (learned), if so */
  learnedMemoryPressure?: string | null;
}

export interface Compatibility {
  class: TCompatibilityClass;
  /** layers on the GPU when the class is runnable (0 otherwise) */
  gpuLayers: number;
  totalLayers: number;
  reason: string | null;
  plan: TMemoryPlanV1;
  hardwareClass: string;
}

const CLASS_OF_PLACEMENT: Record<TMemoryPlanV1["placement"], TCompatibilityClass> = {
  "gpu-full": "gpu-full",
  "gpu-partial": "gpu-partial",
  cpu: "cpu-only",
};

/**
 * Where an entry would run on a device, by the same planMemoryFit the agent runs before every load.
 * Fleet planning has no live free-memory figures, so it plans against the device's total RAM (the planner
 * adds the headroom to what the load needs, i.e. total RAM minus headroom is the budget) and the total VRAM
 * of the GPU the runtime would use (most VRAM; integrated GPUs without a VRAM figure get no offload).
 * Like the agent it budgets anonymous memory (weights + KV cache + compute), not the reclaimable page cache
 * of the mmapped file. A runtime that cannot load the entry (declared minimums or a learned failure) makes it
 * "incompatible-runtime" whatever the memory says; the plan is still returned. Throws RangeError on negative
 * or NaN sizes and a non-positive context (from planMemoryFit).
 */
export function computeCompatibility(input: CompatibilityInput): Compatibility {
  const { entry, device } = input;
  const headroomBytes = input.headroomBytes ?? DEFAULT_FLEET_HEADROOM_BYTES;
  if (!(headroomBytes >= 0) || !(device.ramTotalBytes >= 0) || !(entry.fileSizeBytes >= 0)) {
    throw new RangeError("computeCompatibility needs non-negative headroom, RAM and file sizes");
  }
  const gpu = offloadGpu(device);
  const plan = planMemoryFit({
    model: { id: entry.targetPath, weightsBytes: entry.fileSizeBytes, ...entry.shape },
    contextSize: entry.contextSize,
    device: { ramFreeBytes: device.ramTotalBytes, vramFreeBytes: gpu?.vramBytes ?? 0, gpuOffload: gpu !== null },
    headroomBytes,
  });
  const base = { totalLayers: plan.totalLayers, plan, hardwareClass: hardwareClass(device) };

  const runtime = runtimeSatisfies(entry.runtime, device.runtime);
  const learned = input.learnedIncompatibility ?? null;
  if (!runtime.ok || learned !== null) {
    const reasons = [
      ...(runtime.ok ? [] : [runtime.reason]),
      ...(learned !== null ? [`incompatible runtime (learned from a failed self-test): ${learned}`] : []),
    ];
    return { ...base, class: "incompatible-runtime", gpuLayers: 0, reason: reasons.join("; ") };
  }
  if (!plan.fits) return { ...base, class: "does-not-fit", gpuLayers: 0, reason: plan.reason };
  // The measurement wins over the plan: the device paged heavily running it, so it does not fit in practice.
  const pressure = input.learnedMemoryPressure ?? null;
  if (pressure !== null) return { ...base, class: "does-not-fit", gpuLayers: 0, reason: `planned to fit, but paged heavily on this device (measured): ${pressure}` };
  return { ...base, class: CLASS_OF_PLACEMENT[plan.placement], gpuLayers: plan.gpuLayers, reason: null };
}
