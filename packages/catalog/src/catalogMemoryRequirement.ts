import type { TModelShapeV1 } from "@fleet/protocol";
import { planMemoryFit } from "./planMemoryFit.js";

export interface CatalogMemoryRequirement {
  /** weights + KV cache + compute: the anonymous memory a CPU-only load allocates (no headroom) */
  ramBytes: number;
  kvCacheBytes: number;
  computeBytes: number;
}

/**
 * The memory an entry states at its context: planMemoryFit's own breakdown for a CPU-only device with
 * unlimited RAM and no headroom, so the catalog figure and every device's plan come from the same arithmetic.
 * Like the planner it counts anonymous memory only; the mmapped file's page cache (RSS ~2x the file on CPU,
 * see NOTES-llama) is reclaimable and not budgeted.
 */
export function catalogMemoryRequirement(shape: TModelShapeV1, fileSizeBytes: number, contextSize: number): CatalogMemoryRequirement {
  const plan = planMemoryFit({
    model: { id: "catalog-entry", weightsBytes: fileSizeBytes, ...shape },
    contextSize,
    device: { ramFreeBytes: Number.MAX_SAFE_INTEGER, vramFreeBytes: 0, gpuOffload: false },
    headroomBytes: 0,
  });
  const { weightsBytes, kvCacheBytes, computeBytes } = plan.breakdown;
  return { ramBytes: weightsBytes + kvCacheBytes + computeBytes, kvCacheBytes, computeBytes };
}
