import fs from "node:fs/promises";
import os from "node:os";
import { GgufInsights, readGgufFileInfo, type GgufFileInfo, type Llama } from "node-llama-cpp";
import { kvCacheBytes, planMemoryFit, type ModelShape } from "@fleet/catalog";
import type { TMemoryPlanV1 } from "@fleet/protocol";
import { modelShapeFromGguf } from "./modelShapeFromGguf.js";
import type { PlanRequest } from "./hostProtocol.js";

export interface LocalPlan {
  plan: TMemoryPlanV1;
  shape: ModelShape;
  gpuLayers: number;
}

/**
 * Plan a load on this machine. Sizes come from node-llama-cpp's own GgufInsights (weights as it would
 * allocate them, context memory as it estimates it); the placement and the refusal wording from the
 * shared catalog planner, so the agent and the fleet-wide planner agree. The memory budget, when set,
 * caps what counts as free.
 */
async function readShape(id: string, file: string): Promise<{ shape: ModelShape; info: GgufFileInfo }> {
  const stat = await fs.stat(file);
  const info = await readGgufFileInfo(file, { logWarnings: false });
  return { shape: modelShapeFromGguf(id, info, stat.size), info };
}

/** Headers of the other installed models, read only when a suggestion is needed; unreadable ones are skipped. */
async function candidateShapes(req: PlanRequest): Promise<ModelShape[]> {
  const shapes = await Promise.all(req.candidates.filter((c) => c.id !== req.modelId).map((c) => readShape(c.id, c.path).then((r) => r.shape, () => null)));
  return shapes.filter((s): s is ModelShape => s !== null);
}

export async function planLocalLoad(llama: Llama, req: PlanRequest): Promise<LocalPlan> {
  const { shape, info } = await readShape(req.modelId, req.modelPath);
  const insights = await GgufInsights.from(info, llama);

  const vram = llama.supportsGpuOffloading ? await llama.getVramState() : { total: 0, free: 0 };
  let gpuLayers = 0;
  if (llama.supportsGpuOffloading && vram.free > 0) {
    // node-llama-cpp's own choice for this GPU decides how the estimate splits RAM and VRAM
    gpuLayers = await insights.configurationResolver.resolveModelGpuLayers("auto");
  }
  const model = insights.estimateModelResourceRequirements({ gpuLayers });
  const context = insights.estimateContextResourceRequirements({ contextSize: req.contextSize, modelGpuLayers: gpuLayers });
  // node-llama-cpp estimates the context as one number; split it so the plan shows what the KV cache costs.
  const kv = kvCacheBytes({ layers: shape.layers, contextSize: req.contextSize, kvHeads: shape.kvHeads, headDim: shape.headDim });
  const contextTotal = context.cpuRam + context.gpuVram;
  const ramFree = Math.min(req.memoryBudgetBytes ?? Number.MAX_SAFE_INTEGER, os.freemem());
  const input = {
    model: { ...shape, weightsBytes: model.cpuRam + model.gpuVram },
    contextSize: req.contextSize,
    device: { ramFreeBytes: ramFree, vramFreeBytes: vram.free, gpuOffload: llama.supportsGpuOffloading },
    headroomBytes: req.headroomBytes,
    kvCacheBytes: Math.min(kv, contextTotal),
    computeBytes: Math.max(0, contextTotal - kv),
  };
  let plan = planMemoryFit(input);
  if (!plan.fits && req.candidates.length > 0) plan = planMemoryFit({ ...input, candidates: await candidateShapes(req) });
  return { plan, shape, gpuLayers: plan.gpuLayers };
}
