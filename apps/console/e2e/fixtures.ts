import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { ReportBody } from "@fleet/protocol";

/** The real tiny test model: its sha256 and size are computed from the file, not typed in. */
export const TINY_MODEL_PATH = path.resolve(import.meta.dirname, "../../../../shared/models/llama-2-tiny-random.gguf");

export function tinyModel(): { sha256: string; sizeBytes: number; mtimeMs: number } {
  const st = statSync(TINY_MODEL_PATH);
  return { sha256: createHash("sha256").update(readFileSync(TINY_MODEL_PATH)).digest("hex"), sizeBytes: st.size, mtimeMs: st.mtimeMs };
}

const GiB = 1024 ** 3;

export function inventoryBody(hostname: string): ReportBody<"inventory"> {
  return {
    collectedAt: new Date().toISOString(),
    cpu: { manufacturer: "AMD", brand: "Ryzen 7 PRO 7840U", cores: 16, physicalCores: 8, speedGHz: 3.3, flags: ["avx2", "avx512f", "fma"] },
    memory: { totalBytes: 32 * GiB, freeBytes: 11 * GiB, availableBytes: 19 * GiB, swapTotalBytes: 8 * GiB, swapFreeBytes: 8 * GiB },
    gpus: [{ vendor: "NVIDIA", model: "RTX 4060 Laptop", vramBytes: 8 * GiB, vramFreeBytes: 7 * GiB, driverVersion: "550.54", bus: "PCIe" }],
    disks: [{ mount: "/", fsType: "ext4", sizeBytes: 476 * GiB, freeBytes: 188 * GiB }],
    modelsDir: { path: "/var/lib/fleet-agent/models", sizeBytes: 476 * GiB, freeBytes: 188 * GiB },
    os: { platform: "linux", distro: "Ubuntu", release: "24.04", kernel: "6.8.0-49-generic", arch: "x64", hostname },
    power: { hasBattery: true, isCharging: true, percent: 76, acConnected: true },
  };
}

export function modelsBody(): ReportBody<"models"> {
  const m = tinyModel();
  return {
    modelsDir: "/var/lib/fleet-agent/models",
    models: [
      {
        path: "/var/lib/fleet-agent/models/llama-2-tiny-random.gguf",
        fileName: "llama-2-tiny-random.gguf",
        sizeBytes: m.sizeBytes,
        mtimeMs: m.mtimeMs,
        sha256: m.sha256,
        gguf: {
          ggufVersion: 3, name: "llama-2-tiny-random", architecture: "llama", fileType: "MOSTLY_F16", quantization: "F16",
          parameterCount: 1_000_000, contextLength: 2048, blockCount: 2, embeddingLength: 64, headCount: 4, headCountKv: 4,
          tokenizer: "llama", vocabSize: 32000, license: null,
        },
        error: null,
      },
    ],
  };
}

export function heartbeatBody(): ReportBody<"heartbeat"> {
  return { agentVersion: "0.1.0", uptimeSec: 42, queueDepth: 0, runtime: { state: "ready", activeModel: "llama-2-tiny-random.gguf" }, rssBytes: 90_000_000 };
}

export function postureBody(serverUrl: string, natsUrl: string): ReportBody<"posture"> {
  return {
    outbound: [
      { purpose: "control-plane", url: serverUrl, carries: ["enrollment"] },
      { purpose: "messaging", url: natsUrl, carries: ["inventory", "models", "heartbeat", "metrics", "benchmark"] },
    ],
    telemetry: "metrics-only",
    remoteFallback: { enabled: false, url: null },
    promptsLeaveDevice: false,
    localApi: { enabled: true, bindAddress: "127.0.0.1", port: 8765, loopbackOnly: true, authRequired: true, corsAllowedOrigins: [] },
  };
}

export function metricsBody(): ReportBody<"metrics"> {
  const end = new Date();
  const start = new Date(end.getTime() - 60_000);
  const sha256 = tinyModel().sha256;
  return {
    windowStart: start.toISOString(),
    windowEnd: end.toISOString(),
    models: [
      { modelId: "llama-2-tiny-random.gguf", sha256, requests: 12, errors: 1, promptTokens: 960, outputTokens: 384, ttftMs: { p50: 41.5, p95: 88.25 }, tpotMs: { p50: 3.2, p95: 5.75 } },
    ],
    loads: [
      {
        at: start.toISOString(), modelId: "llama-2-tiny-random.gguf", sha256, ok: true, error: null, loadMs: 180, backend: "cpu", gpuLayers: 0,
        contextSize: 2048, quantization: "F16", peakRssBytes: 140 * 1024 * 1024, peakVramBytes: 0, plan: null,
      },
    ],
  };
}

export function benchmarkBody(): ReportBody<"benchmark"> {
  const m = tinyModel();
  return {
    commandId: null,
    at: new Date().toISOString(),
    ok: true,
    error: null,
    model: { id: "llama-2-tiny-random.gguf", sha256: m.sha256, architecture: "llama", type: "?B", sizeBytes: m.sizeBytes, parameterCount: 1_000_000, quantization: "F16" },
    build: { nodeLlamaCpp: "3.22.1", llamaCpp: "b6000" },
    hardware: { cpu: "AMD Ryzen 7 PRO 7840U", cpuCores: 16, gpus: [], backends: ["cpu"], ramTotalBytes: 32 * GiB, vramTotalBytes: 0, powerMode: "balanced" },
    settings: { nPrompt: 512, nGen: 128, repetitions: 5, batchSize: 512, threads: 2, kvType: "f16", gpuLayers: 0, mmap: true, contextSize: 2048 },
    promptProcessing: { mean: 5321.4, stddev: 41.2, samples: [5300, 5280, 5350, 5390, 5287] },
    generation: { mean: 812.7, stddev: 9.3, samples: [800, 815, 820, 810, 818.5] },
    memory: { peakRssBytes: 150 * 1024 * 1024, peakVramBytes: 0 },
  };
}
