import { describe, expect, it } from "vitest";
import { catalogMemoryRequirement } from "./catalogMemoryRequirement.js";
import { planMemoryFit } from "./planMemoryFit.js";

const llama8b = { layers: 32, headCount: 32, kvHeads: 8, headDim: 128, embeddingLength: 4096, vocabSize: 128256 };

describe("catalogMemoryRequirement", () => {
  it.each([
    // KV = 32 x ctx x 8 x 128 x 4 bytes; compute = 512 x ctx x 32 x 4 + 512 x 4096 x 32 + 128256 x 32
    ["8B Q4_K_M at 4096", 4_912_916_032, 4096, { kvCacheBytes: 536_870_912, computeBytes: 339_648_512 }],
    ["8B Q4_K_M at 8192 (KV 1.07 GB as NOTES-llama measures)", 4_912_916_032, 8192, { kvCacheBytes: 1_073_741_824, computeBytes: 608_083_968 }],
  ])("%s", (_name, size, ctx, want) => {
    const r = catalogMemoryRequirement(llama8b, size, ctx);
    expect(r).toEqual({ ...want, ramBytes: size + want.kvCacheBytes + want.computeBytes });
    for (const v of Object.values(r)) expect(Number.isInteger(v)).toBe(true); // TUF custom metadata: integers only
  });

  it("is exactly what a CPU plan with no headroom requires", () => {
    const r = catalogMemoryRequirement(llama8b, 4_912_916_032, 4096);
    const plan = planMemoryFit({ model: { id: "m", weightsBytes: 4_912_916_032, ...llama8b }, contextSize: 4096, device: { ramFreeBytes: 64 * 1024 ** 3, vramFreeBytes: 0, gpuOffload: false }, headroomBytes: 0 });
    expect(r.ramBytes).toBe(plan.requiredRamBytes);
  });

  // NOTES-llama measured on CPU: RSS ~2x the file = anonymous memory (repacked weights + KV + compute) + page
  // cache of the mmapped file (reclaimable). The stated requirement budgets the anonymous part and must cover it.
  it.each([
    ["1B Q8_0 (anon 1.66 GB measured)", { layers: 16, headCount: 32, kvHeads: 8, headDim: 64, embeddingLength: 2048, vocabSize: 128256 }, 1_313_260_640, 1.66e9, 2.96e9],
    ["8B Q4_K_M (anon 5.10 GB measured)", llama8b, 4_912_916_032, 5.1e9, 9.43e9],
  ])("covers the anonymous memory measured for %s, not the whole RSS", (_name, shape, size, anon, rss) => {
    const r = catalogMemoryRequirement(shape, size, 4096);
    expect(r.ramBytes).toBeGreaterThanOrEqual(anon);
    expect(r.ramBytes).toBeLessThan(rss);
  });
});
