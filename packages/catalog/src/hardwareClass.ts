import type { DeviceHardware } from "./deviceHardware.js";
import { bestGpu } from "./bestGpu.js";
import { gpuVendorSlug } from "./gpuVendorSlug.js";

const GiB = 1024 ** 3;
// Installed sizes machines are sold with; a device reports a little less than it has (firmware, kernel
// reservations), so its RAM is rounded up to the next of these.
const RAM_SIZES_GIB = [1, 2, 3, 4, 6, 8, 12, 16, 18, 24, 32, 36, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048];

function ramGiB(bytes: number): number {
  const gib = bytes / GiB;
  return RAM_SIZES_GIB.find((s) => s >= gib - 0.01) ?? Math.ceil(gib / 256) * 256;
}

/**
 * A coarse bucket for grouping the fleet: "ram-32g/gpu-nvidia-12g", "ram-16g/gpu-none",
 * "ram-16g/gpu-integrated" (GPUs present, none reporting VRAM). The GPU is the one a load would use
 * (most VRAM); VRAM is rounded up to whole GiB (a "12 GB" card reports 11.7-12 GiB).
 */
export function hardwareClass(hw: DeviceHardware): string {
  const ram = `ram-${ramGiB(hw.ramTotalBytes)}g`;
  const gpu = bestGpu(hw.gpus);
  if (gpu) return `${ram}/gpu-${gpuVendorSlug(gpu.vendor)}-${Math.ceil(gpu.vramBytes / GiB - 0.01)}g`;
  return `${ram}/${hw.gpus.length > 0 ? "gpu-integrated" : "gpu-none"}`;
}
