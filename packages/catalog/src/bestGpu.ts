import type { DeviceHardware } from "./deviceHardware.js";

type Gpu = DeviceHardware["gpus"][number];

/** The GPU a load would offload to: the one with the most VRAM; null when none reports VRAM (integrated or none). */
export function bestGpu(gpus: readonly Gpu[]): (Gpu & { vramBytes: number }) | null {
  let best: (Gpu & { vramBytes: number }) | null = null;
  for (const g of gpus) {
    if (g.vramBytes !== null && g.vramBytes > 0 && (best === null || g.vramBytes > best.vramBytes)) best = { ...g, vramBytes: g.vramBytes };
  }
  return best;
}
