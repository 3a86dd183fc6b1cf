import type { DeviceHardware } from "./deviceHardware.js";
import { bestGpu } from "./bestGpu.js";
import { gpuVendorSlug } from "./gpuVendorSlug.js";

/**
 * The GPU a load on this device would offload to, or null. When the device reported its runtime, only
 * GPUs one of its backends can drive count (cuda: NVIDIA, metal: Apple, vulkan: any), as node-llama-cpp's
 * `supportsGpuOffloading` would say on the device itself; an unreported runtime is assumed to use its GPU.
 */
export function offloadGpu(hw: DeviceHardware): ReturnType<typeof bestGpu> {
  const backends = hw.runtime?.backends;
  const usable = backends === undefined
    ? hw.gpus
    : hw.gpus.filter((g) => {
        const vendor = gpuVendorSlug(g.vendor);
        return backends.includes("vulkan") || (backends.includes("cuda") && vendor === "nvidia") || (backends.includes("metal") && vendor === "apple");
      });
  return bestGpu(usable);
}
