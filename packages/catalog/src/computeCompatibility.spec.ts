import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufFileInfo } from "node-llama-cpp";
import { ZMemoryPlanV1, type TCompatibilityClass, type TRuntimeInfoV1 } from "@fleet/protocol";
import { computeCompatibility, type CompatibilityInput } from "./computeCompatibility.js";
import { modelShapeFromGguf, type GgufModelShape } from "./modelShapeFromGguf.js";
import type { DeviceHardware } from "./deviceHardware.js";

// /work/shared/tools/make-synthetic-gguf.mjs: real GGUF v3 headers of public Llama 3 files over sparse holes.
const TOOL = new URL("../../../../shared/tools/make-synthetic-gguf.mjs", import.meta.url).href;
const GiB = 1024 ** 3;
const MODELS = ["llama3.2-1b-q8_0", "llama3-8b-q4_k_m", "llama3-70b-q4_k_m"] as const;
type Model = (typeof MODELS)[number];
const NO_REQUIREMENTS = { minNodeLlamaCpp: null, minLlamaCppRelease: null };

let dir: string;
const models = {} as Record<Model, { shape: GgufModelShape; fileSizeBytes: number }>;

beforeAll(async () => {
  const { writeSyntheticGguf } = (await import(TOOL)) as { writeSyntheticGguf: (out: string, preset: string, o: { vocab: string }) => { fileSize: number } };
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "catalog-compat-"));
  for (const m of MODELS) {
    const file = path.join(dir, `${m}.gguf`);
    writeSyntheticGguf(file, m, { vocab: "none" });
    const info = await readGgufFileInfo(file, { logWarnings: false });
    models[m] = { shape: modelShapeFromGguf(info.metadata), fileSizeBytes: fs.statSync(file).size };
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const nvidia = (vramGiB: number) => ({ vendor: "NVIDIA Corporation", model: `RTX ${vramGiB} GB`, vramBytes: vramGiB * GiB });
const device = (ramGiB: number, vramGiB: number | null, runtime: TRuntimeInfoV1 | null = null): DeviceHardware => ({
  ramTotalBytes: ramGiB * GiB,
  gpus: vramGiB === null ? [] : [nvidia(vramGiB)],
  runtime,
});
const input = (m: Model, hw: DeviceHardware, extra: Partial<CompatibilityInput> = {}): CompatibilityInput => ({
  entry: { id: "00000000-0000-4000-8000-000000000001", targetPath: `${m}-1.gguf`, ...models[m], contextSize: 4096, runtime: NO_REQUIREMENTS },
  device: hw,
  ...extra,
});

// Expected classes at the entries' default memory context 4096 with 1 GiB headroom, reasoned out by hand from
// planMemoryFit's arithmetic (sizes in GiB; KV f16 = layers x ctx x kvHeads x headDim x 4 bytes;
// compute = 512 x ctx x heads x 4 + 512 x embd x 32 + vocab x 32):
//   1B Q8_0:   weights 1.223 + KV 0.125 + compute 0.285 = 1.633 -> CPU needs 2.63 RAM, GPU-full needs 1.63 VRAM.
//   8B Q4_K_M: weights 4.575 + KV 0.500 + compute 0.316 = 5.392 -> CPU needs 6.39 (fits 8 GiB), GPU-full 5.39 (fits 8 GiB).
//   70B Q4_K_M: weights 39.593 + KV 1.250 + compute 0.629 = 41.47 -> CPU needs 42.47 RAM (64 yes, 32 no); never fully
//     on a 24 GiB card. Per offloaded layer 39.593/81 + 1.25/80 = 0.5044 VRAM (compute 0.629 also on the GPU):
//     8 GiB -> floor(7.371/0.5044) = 14 layers, host RAM 35.41; 12 GiB -> 22 layers, 31.37; 24 GiB -> 46 layers, 19.27.
type Expect = TCompatibilityClass | `gpu-partial:${number}`;
const RAM = [8, 16, 32, 64, 128] as const;
const VRAM = [null, 8, 12, 24] as const;
const EXPECTED: Record<Model, Record<(typeof RAM)[number], [Expect, Expect, Expect, Expect]>> = {
  //                      no GPU        8 GiB          12 GiB         24 GiB
  "llama3.2-1b-q8_0": {
    8: ["cpu-only", "gpu-full", "gpu-full", "gpu-full"],
    16: ["cpu-only", "gpu-full", "gpu-full", "gpu-full"],
    32: ["cpu-only", "gpu-full", "gpu-full", "gpu-full"],
    64: ["cpu-only", "gpu-full", "gpu-full", "gpu-full"],
    128: ["cpu-only", "gpu-full", "gpu-full", "gpu-full"],
  },
  "llama3-8b-q4_k_m": {
    8: ["cpu-only", "gpu-full", "gpu-full", "gpu-full"],
    16: ["cpu-only", "gpu-full", "gpu-full", "gpu-full"],
    32: ["cpu-only", "gpu-full", "gpu-full", "gpu-full"],
    64: ["cpu-only", "gpu-full", "gpu-full", "gpu-full"],
    128: ["cpu-only", "gpu-full", "gpu-full", "gpu-full"],
  },
  "llama3-70b-q4_k_m": {
    8: ["does-not-fit", "does-not-fit", "does-not-fit", "does-not-fit"],
    16: ["does-not-fit", "does-not-fit", "does-not-fit", "does-not-fit"],
    32: ["does-not-fit", "does-not-fit", "gpu-partial:22", "gpu-partial:46"],
    64: ["cpu-only", "gpu-partial:14", "gpu-partial:22", "gpu-partial:46"],
    128: ["cpu-only", "gpu-partial:14", "gpu-partial:22", "gpu-partial:46"],
  },
};
const MATRIX = MODELS.flatMap((m) => RAM.flatMap((ram) => VRAM.map((vram, i) => ({ m, ram, vram, want: EXPECTED[m][ram][i]! }))));

describe("computeCompatibility: synthetic 1B/8B/70B x 8-128 GiB RAM x none/8/12/24 GiB VRAM", () => {
  it("reads the presets' shapes from their GGUF headers", () => {
    expect(models["llama3-70b-q4_k_m"].shape).toEqual({ architecture: "llama", layers: 80, headCount: 64, kvHeads: 8, headDim: 128, embeddingLength: 8192, vocabSize: 128256 });
    expect(models["llama3-70b-q4_k_m"].fileSizeBytes / 1e9).toBeCloseTo(42.5, 1);
  });

  it.each(MATRIX)("$m on $ram GiB RAM, $vram GiB VRAM -> $want", ({ m, ram, vram, want }) => {
    const c = computeCompatibility(input(m, device(ram, vram)));
    expect(ZMemoryPlanV1.safeParse(c.plan).success).toBe(true);
    const [cls, layers] = want.split(":");
    expect(c.class).toBe(cls);
    expect(c.totalLayers).toBe(models[m].shape.layers + 1);
    expect(c.hardwareClass).toBe(`ram-${ram}g/${vram === null ? "gpu-none" : `gpu-nvidia-${vram}g`}`);
    if (cls === "gpu-partial") expect(c.gpuLayers).toBe(Number(layers));
    if (cls === "gpu-full") expect(c.gpuLayers).toBe(c.totalLayers);
    if (cls === "cpu-only" || cls === "does-not-fit") expect(c.gpuLayers).toBe(0);
    if (cls === "does-not-fit") {
      expect(c.reason).toBe(c.plan.reason);
      expect(c.reason).toMatch(new RegExp(`${m}-1\\.gguf does not fit at context 4096: it needs \\d+\\.\\d\\d GiB of RAM`));
    } else expect(c.reason).toBeNull();
  });

  it("the budget is total RAM minus the headroom (1 GiB by default)", () => {
    // 8B on CPU needs 5.39 GiB + headroom: an 6.5 GiB machine fits with the default, not with 2 GiB of headroom.
    expect(computeCompatibility(input("llama3-8b-q4_k_m", device(6.5, null))).class).toBe("cpu-only");
    const strict = computeCompatibility(input("llama3-8b-q4_k_m", device(6.5, null), { headroomBytes: 2 * GiB }));
    expect(strict.class).toBe("does-not-fit");
    expect(strict.reason).toMatch(/headroom 2\.00 GiB/);
  });

  it.each([
    ["an integrated GPU without a VRAM figure gets no offload", { ramTotalBytes: 64 * GiB, gpus: [{ vendor: "Intel Corporation", model: "UHD 770", vramBytes: null }], runtime: null }, "cpu-only", "ram-64g/gpu-integrated"],
    ["the GPU with the most VRAM is used", { ramTotalBytes: 64 * GiB, gpus: [nvidia(8), nvidia(24), { vendor: "Intel", model: "iGPU", vramBytes: null }], runtime: null }, "gpu-partial", "ram-64g/gpu-nvidia-24g"],
    ["a CPU-only runtime cannot use the NVIDIA card", device(64, 24, { nodeLlamaCpp: "3.22.1", llamaCppRelease: "b6000", backends: ["cpu"] }), "cpu-only", "ram-64g/gpu-nvidia-24g"],
    ["a CUDA runtime uses it", device(64, 24, { nodeLlamaCpp: "3.22.1", llamaCppRelease: "b6000", backends: ["cpu", "cuda"] }), "gpu-partial", "ram-64g/gpu-nvidia-24g"],
    ["CUDA cannot drive an AMD card, Vulkan can", { ramTotalBytes: 64 * GiB, gpus: [{ vendor: "Advanced Micro Devices, Inc. [AMD/ATI]", model: "RX 7900", vramBytes: 24 * GiB }], runtime: { nodeLlamaCpp: "3.22.1", llamaCppRelease: "b6000", backends: ["cpu", "cuda"] } }, "cpu-only", "ram-64g/gpu-amd-24g"],
    ["Vulkan drives the AMD card", { ramTotalBytes: 64 * GiB, gpus: [{ vendor: "Advanced Micro Devices, Inc. [AMD/ATI]", model: "RX 7900", vramBytes: 24 * GiB }], runtime: { nodeLlamaCpp: "3.22.1", llamaCppRelease: "b6000", backends: ["cpu", "vulkan"] } }, "gpu-partial", "ram-64g/gpu-amd-24g"],
  ] as const)("70B: %s", (_name, hw, cls, hwClass) => {
    const c = computeCompatibility(input("llama3-70b-q4_k_m", hw as DeviceHardware));
    expect(c.class).toBe(cls);
    expect(c.hardwareClass).toBe(hwClass);
  });

  it.each([
    ["node-llama-cpp too old", { minNodeLlamaCpp: "3.23.0", minLlamaCppRelease: null }, null, /node-llama-cpp 3\.22\.1 is older than the 3\.23\.0/],
    ["llama.cpp release too old", { minNodeLlamaCpp: null, minLlamaCppRelease: "b6500" }, null, /llama\.cpp release b6000 is older than the b6500/],
    ["learned from a failed self-test", NO_REQUIREMENTS, "unknown model architecture: 'qwen9'", /learned from a failed self-test\): unknown model architecture: 'qwen9'/],
  ] as const)("incompatible-runtime overrides a fit: %s", (_name, runtime, learned, reason) => {
    const hw = device(32, 24, { nodeLlamaCpp: "3.22.1", llamaCppRelease: "b6000", backends: ["cpu", "cuda"] });
    const base = input("llama3-8b-q4_k_m", hw);
    const c = computeCompatibility({ ...base, entry: { ...base.entry, runtime }, learnedIncompatibility: learned });
    expect(c.class).toBe("incompatible-runtime");
    expect(c.gpuLayers).toBe(0);
    expect(c.reason).toMatch(reason);
    expect(c.plan.placement).toBe("gpu-full"); // the memory plan is still there for the matrix
  });

  it("a requirement against an agent that never reported its runtime is incompatible, no requirement is fine", () => {
    const base = input("llama3-8b-q4_k_m", device(32, null));
    expect(computeCompatibility(base).class).toBe("cpu-only");
    const c = computeCompatibility({ ...base, entry: { ...base.entry, runtime: { minNodeLlamaCpp: "3.0.0", minLlamaCppRelease: null } } });
    expect(c.class).toBe("incompatible-runtime");
    expect(c.reason).toMatch(/did not report its node-llama-cpp/);
  });

  it.each([
    ["negative headroom", { headroomBytes: -1 }],
    ["a context of 0", { contextSize: 0 }],
    ["a NaN RAM size", { ram: Number.NaN }],
  ])("refuses %s", (_name, bad) => {
    const base = input("llama3-8b-q4_k_m", device("ram" in bad ? bad.ram : 32, null));
    const entry = "contextSize" in bad ? { ...base.entry, contextSize: bad.contextSize } : base.entry;
    expect(() => computeCompatibility({ ...base, entry, ...("headroomBytes" in bad ? { headroomBytes: bad.headroomBytes } : {}) })).toThrow(RangeError);
  });
});
