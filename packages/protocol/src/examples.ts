import type { TInventoryV1 } from "./inventory.js";
import type { TModelsReportV1 } from "./models.js";
import type { THeartbeatV1 } from "./heartbeat.js";
import type { TPostureV1 } from "./posture.js";
import type { TEventsReportV1 } from "./events.js";
import type { TBenchmarkResultV1, TRuntimeMetricsV1 } from "./runtime.js";
import type { TUpdateStatusV1 } from "./rollout.js";
import type { TEgressLedgerV1 } from "./egress.js";
import type { ReportKind } from "./subjects.js";

// Valid example bodies, one per report kind: documentation that is checked by the protocol tests
// and a starting point for fixtures elsewhere.

export const exampleInventory: TInventoryV1 = {
  collectedAt: "2026-11-25T08:00:00.000Z",
  cpu: { manufacturer: "Intel", brand: "Core i7-1365U", cores: 12, physicalCores: 10, speedGHz: 1.8, flags: ["avx2", "fma"] },
  memory: { totalBytes: 34359738368, freeBytes: 12884901888, availableBytes: 20401094656, swapTotalBytes: 0, swapFreeBytes: 0 },
  gpus: [{ vendor: "NVIDIA", model: "RTX A2000 8GB Laptop", vramBytes: 8589934592, vramFreeBytes: null, driverVersion: "550.54", bus: "PCIe" }],
  disks: [{ mount: "/", fsType: "ext4", sizeBytes: 512110190592, freeBytes: 201863462912 }],
  modelsDir: { path: "/var/lib/fleet-agent/models", sizeBytes: 512110190592, freeBytes: 201863462912 },
  os: { platform: "linux", distro: "Ubuntu", release: "24.04", kernel: "6.8.0", arch: "x64", hostname: "ws-042" },
  power: { hasBattery: true, isCharging: false, percent: 81, acConnected: false },
};

export const exampleModels: TModelsReportV1 = {
  modelsDir: "/var/lib/fleet-agent/models",
  models: [
    {
      path: "/var/lib/fleet-agent/models/llama-2-tiny-random.gguf",
      fileName: "llama-2-tiny-random.gguf",
      sizeBytes: 1750560,
      mtimeMs: 1764057600000,
      sha256: "81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb",
      gguf: {
        ggufVersion: 3, name: "llama-2-tiny-random", architecture: "llama", fileType: "MOSTLY_F16", quantization: "F16",
        parameterCount: 1_000_000, contextLength: 2048, blockCount: 2, embeddingLength: 64, headCount: 4, headCountKv: 4,
        tokenizer: "llama", vocabSize: 32000, license: null,
      },
      error: null,
    },
  ],
};

export const exampleHeartbeat: THeartbeatV1 = {
  agentVersion: "0.1.0", uptimeSec: 120.5, queueDepth: 0, runtime: { state: "ready", activeModel: "llama-2-tiny-random.gguf" }, rssBytes: 61_000_000,
};

export const examplePosture: TPostureV1 = {
  outbound: [
    { purpose: "control-plane", url: "https://fleet.example.com", carries: ["enrollment"] },
    { purpose: "messaging", url: "nats://fleet.example.com:4222", carries: ["inventory", "models", "heartbeat", "metrics"] },
  ],
  telemetry: "metrics-only",
  remoteFallback: { enabled: false, url: null },
  promptsLeaveDevice: false,
  localApi: { enabled: true, bindAddress: "127.0.0.1", port: 11435, loopbackOnly: true, authRequired: true, corsAllowedOrigins: [] },
};

export const exampleEvents: TEventsReportV1 = {
  events: [{ at: "2026-11-25T08:00:01.000Z", level: "warn", kind: "model.load.failed", message: "truncated GGUF", data: { file: "x.gguf" } }],
};

export const exampleMetrics: TRuntimeMetricsV1 = {
  windowStart: "2026-11-25T08:00:00.000Z",
  windowEnd: "2026-11-25T08:01:00.000Z",
  models: [{ modelId: "llama-2-tiny-random.gguf", sha256: null, requests: 3, errors: 0, promptTokens: 30, outputTokens: 90, ttftMs: { p50: 4, p95: 9 }, tpotMs: { p50: 0.7, p95: 0.9 } }],
  loads: [],
};

export const exampleBenchmark: TBenchmarkResultV1 = {
  commandId: "c0a8012e-0000-4000-8000-000000000001",
  at: "2026-11-25T08:02:00.000Z",
  ok: true,
  error: null,
  model: { id: "llama-2-tiny-random.gguf", sha256: null, architecture: "llama", type: "llama ?B F16", sizeBytes: 1750560, parameterCount: null, quantization: "F16" },
  build: { nodeLlamaCpp: "3.22.1", llamaCpp: "b1234" },
  hardware: { cpu: "Intel Core i7", cpuCores: 2, gpus: [], backends: ["cpu"], ramTotalBytes: 25769803776, vramTotalBytes: 0, powerMode: "ac" },
  settings: { nPrompt: 512, nGen: 128, repetitions: 5, batchSize: 512, threads: 2, kvType: "f16", gpuLayers: 0, mmap: true, contextSize: 1024 },
  promptProcessing: { mean: 9000, stddev: 120, samples: [9000] },
  generation: { mean: 1500, stddev: 40, samples: [1500] },
  memory: { peakRssBytes: 90_000_000, peakVramBytes: 0 },
};

export const exampleUpdate: TUpdateStatusV1 = {
  at: "2026-11-25T08:03:00.000Z",
  assignmentVersion: 3,
  rolloutId: "c0a8012e-0000-4000-8000-000000000002",
  target: "llama-3.2-1b-q8_0-1.0.0.gguf",
  sha256: "81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb",
  state: "downloading",
  bytesDone: 1048576,
  bytesTotal: 1320000000,
  code: null,
  reason: null,
  selfTest: null,
  serving: { model: "llama-2-tiny-random.gguf", sha256: null },
};

export const exampleEgress: TEgressLedgerV1 = {
  since: "2026-11-25T08:00:00.000Z",
  collectedAt: "2026-11-25T08:05:00.000Z",
  entries: [
    {
      host: "nats.fleet.example",
      port: 4222,
      address: "10.0.0.5",
      purpose: "messaging",
      bytesSent: 48213,
      bytesReceived: 9120,
      connections: 1,
      open: 1,
      firstSeenAt: "2026-11-25T08:00:01.000Z",
      lastSeenAt: "2026-11-25T08:05:00.000Z",
    },
  ],
};

export const EXAMPLE_BODIES: { [K in ReportKind]: unknown } = {
  inventory: exampleInventory,
  models: exampleModels,
  heartbeat: exampleHeartbeat,
  posture: examplePosture,
  events: exampleEvents,
  metrics: exampleMetrics,
  benchmark: exampleBenchmark,
  update: exampleUpdate,
  egress: exampleEgress,
};
