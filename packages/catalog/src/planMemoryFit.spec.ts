import { describe, expect, it } from "vitest";
import { ZMemoryPlanV1 } from "@fleet/protocol";
import { planMemoryFit, type ModelShape, type PlanInput } from "./planMemoryFit.js";
import { kvCacheBytes } from "./kvCacheBytes.js";

const GiB = 1024 ** 3;
// Shapes of public Llama 3 GGUFs (sizes as the synthetic presets in /work/shared/tools reproduce them).
const llama8bQ4: ModelShape = { id: "llama3-8b-q4_k_m.gguf", weightsBytes: 4.92e9, layers: 32, headCount: 32, kvHeads: 8, headDim: 128, embeddingLength: 4096, vocabSize: 128256 };
const llama8bQ8: ModelShape = { ...llama8bQ4, id: "llama3-8b-q8_0.gguf", weightsBytes: 8.54e9 };
const llama70b: ModelShape = { id: "llama3-70b-q4_k_m.gguf", weightsBytes: 42.5e9, layers: 80, headCount: 64, kvHeads: 8, headDim: 128, embeddingLength: 8192, vocabSize: 128256 };
const llama1b: ModelShape = { id: "llama3.2-1b-q8_0.gguf", weightsBytes: 1.32e9, layers: 16, headCount: 32, kvHeads: 8, headDim: 64, embeddingLength: 2048, vocabSize: 128256 };
const cpuOnly = (ramGiB: number) => ({ ramFreeBytes: ramGiB * GiB, vramFreeBytes: 0, gpuOffload: false });
const withGpu = (ramGiB: number, vramGiB: number) => ({ ramFreeBytes: ramGiB * GiB, vramFreeBytes: vramGiB * GiB, gpuOffload: true });

describe("kvCacheBytes", () => {
  it.each([
    ["8B f16 at 8192 = 1.07 GB (NOTES-llama)", { layers: 32, contextSize: 8192, kvHeads: 8, headDim: 128 }, 1_073_741_824],
    ["8B q8_0 at 8192 counts the block scale", { layers: 32, contextSize: 8192, kvHeads: 8, headDim: 128, kvType: "q8_0" as const }, (1_073_741_824 / 2) * (34 / 32)],
    ["8B f32 doubles f16", { layers: 32, contextSize: 8192, kvHeads: 8, headDim: 128, kvType: "f32" as const }, 2_147_483_648],
    ["1B f16 at 4096", { layers: 16, contextSize: 4096, kvHeads: 8, headDim: 64 }, 134_217_728],
  ])("%s", (_name, shape, expected) => {
    expect(kvCacheBytes(shape)).toBe(expected);
  });
});

type Case = { name: string; input: PlanInput; expect: Partial<ReturnType<typeof planMemoryFit>>; reason?: RegExp[] };
const cases: Case[] = [
  {
    name: "8B Q4 on a 24 GiB card goes fully on the GPU",
    input: { model: llama8bQ4, contextSize: 8192, device: withGpu(16, 24), headroomBytes: GiB },
    expect: { fits: true, placement: "gpu-full", gpuLayers: 33, totalLayers: 33, reason: null },
  },
  {
    name: "8B Q8 on an 8 GiB card is partially offloaded",
    input: { model: llama8bQ8, contextSize: 8192, device: withGpu(16, 8), headroomBytes: GiB },
    expect: { fits: true, placement: "gpu-partial", gpuLayers: 27 },
  },
  {
    name: "8B Q4 on a CPU with 16 GiB",
    input: { model: llama8bQ4, contextSize: 8192, device: cpuOnly(16), headroomBytes: GiB },
    expect: { fits: true, placement: "cpu", gpuLayers: 0, requiredVramBytes: 0 },
  },
  {
    name: "a GPU the build cannot use is ignored",
    input: { model: llama8bQ4, contextSize: 8192, device: { ...withGpu(16, 24), gpuOffload: false }, headroomBytes: GiB },
    expect: { fits: true, placement: "cpu", gpuLayers: 0 },
  },
  {
    name: "70B never fits a 24 GiB machine; the 8B is suggested",
    input: { model: llama70b, contextSize: 8192, device: cpuOnly(24), headroomBytes: GiB, candidates: [llama70b, llama1b, llama8bQ4] },
    expect: { fits: false, suggestion: "llama3-8b-q4_k_m.gguf" },
    reason: [/needs 4\d\.\d\d GiB of RAM/, /24\.00 GiB of RAM is free/, /Use llama3-8b-q4_k_m\.gguf instead/],
  },
  {
    name: "70B does not fit 16 GiB RAM + an 8 GiB card either",
    input: { model: llama70b, contextSize: 8192, device: withGpu(16, 8), headroomBytes: GiB, candidates: [] },
    expect: { fits: false, placement: "gpu-partial", suggestion: null },
    reason: [/VRAM/, /Or lower the context|Free memory/],
  },
  {
    name: "70B does fit a 24 GiB card with 32 GiB RAM by partial offload",
    input: { model: llama70b, contextSize: 8192, device: withGpu(32, 24), headroomBytes: GiB },
    expect: { fits: true, placement: "gpu-partial" },
  },
  {
    name: "headroom is honoured: fits with none, refused with 2 GiB",
    input: { model: llama8bQ4, contextSize: 4096, device: cpuOnly(6), headroomBytes: 2 * GiB },
    expect: { fits: false },
    reason: [/headroom 2\.00 GiB/],
  },
  {
    name: "same machine without headroom fits",
    input: { model: llama8bQ4, contextSize: 4096, device: cpuOnly(6), headroomBytes: 0 },
    expect: { fits: true, placement: "cpu" },
  },
  {
    name: "short context fits on 8 GiB",
    input: { model: llama8bQ4, contextSize: 2048, device: cpuOnly(8), headroomBytes: GiB },
    expect: { fits: true },
  },
  {
    name: "context growth turns the fit into a refusal that names a context that fits",
    input: { model: llama8bQ4, contextSize: 32768, device: cpuOnly(8), headroomBytes: GiB },
    expect: { fits: false, suggestion: null },
    reason: [/at context 32768/, /Or lower the context to \d+\./],
  },
  {
    name: "nothing smaller fits: the reason says what to do",
    input: { model: llama1b, contextSize: 4096, device: cpuOnly(1), headroomBytes: GiB, candidates: [llama8bQ4] },
    expect: { fits: false, suggestion: null },
    reason: [/Free memory, raise the memory budget/],
  },
];

describe("planMemoryFit", () => {
  it.each(cases)("$name", ({ input, expect: want, reason }) => {
    const plan = planMemoryFit(input);
    expect(ZMemoryPlanV1.safeParse(plan).success).toBe(true);
    expect(plan).toMatchObject(want);
    if (plan.fits) {
      expect(plan.requiredRamBytes).toBeLessThanOrEqual(plan.availableRamBytes);
      expect(plan.requiredVramBytes).toBeLessThanOrEqual(plan.availableVramBytes);
    } else {
      expect(plan.requiredRamBytes > plan.availableRamBytes || plan.requiredVramBytes > plan.availableVramBytes).toBe(true);
    }
    for (const r of reason ?? []) expect(plan.reason).toMatch(r);
  });

  it("a partial offload uses as many layers as fit and no more", () => {
    const input: PlanInput = { model: llama8bQ8, contextSize: 8192, device: withGpu(16, 8), headroomBytes: GiB };
    const plan = planMemoryFit(input);
    const perLayer = llama8bQ8.weightsBytes / 33 + plan.breakdown.kvCacheBytes / 32;
    expect(plan.requiredVramBytes + perLayer).toBeGreaterThan(plan.availableVramBytes);
    // RAM and VRAM together hold the whole model once (compute buffers exist on both sides)
    const total = plan.breakdown.weightsBytes + plan.breakdown.kvCacheBytes + 2 * plan.breakdown.computeBytes + GiB;
    expect(Math.abs(plan.requiredRamBytes + plan.requiredVramBytes - total)).toBeLessThan(4);
  });

  it("the suggested context really fits", () => {
    const input: PlanInput = { model: llama8bQ4, contextSize: 32768, device: cpuOnly(8), headroomBytes: GiB };
    const ctx = Number(/lower the context to (\d+)/.exec(planMemoryFit(input).reason ?? "")?.[1]);
    expect(planMemoryFit({ ...input, contextSize: ctx }).fits).toBe(true);
    expect(planMemoryFit({ ...input, contextSize: ctx + 256 }).fits).toBe(false);
  });

  it("caller-supplied estimates replace the arithmetic", () => {
    const plan = planMemoryFit({ model: llama1b, contextSize: 4096, device: cpuOnly(8), headroomBytes: 0, kvCacheBytes: 1000, computeBytes: 2000 });
    expect(plan.breakdown).toEqual({ weightsBytes: 1.32e9, kvCacheBytes: 1000, computeBytes: 2000, headroomBytes: 0 });
    expect(plan.requiredRamBytes).toBe(1.32e9 + 3000);
  });

  it("rejects a non-positive context", () => {
    expect(() => planMemoryFit({ model: llama1b, contextSize: 0, device: cpuOnly(8), headroomBytes: 0 })).toThrow(RangeError);
  });
});
