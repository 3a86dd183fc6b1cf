import type { TInventoryV1 } from "@fleet/protocol";
import type { DeviceHardware } from "./deviceHardware.js";

/** The planning view of an inventory: total RAM, each GPU's total VRAM, the runtime (null when not reported). */
export function deviceHardwareFromInventory(inv: TInventoryV1): DeviceHardware {
  return {
    ramTotalBytes: inv.memory.totalBytes,
    gpus: inv.gpus.map((g) => ({ vendor: g.vendor, model: g.model, vramBytes: g.vramBytes })),
    runtime: inv.runtime ?? null,
  };
}
