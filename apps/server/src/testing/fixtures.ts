import type { ReportBody } from "@fleet/protocol";

// Valid report bodies for tests; each function returns a fresh object so tests can vary it.

export const TINY_SHA = "81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb";

export function inventoryBody(over: { gpus?: ReportBody<"inventory">["gpus"]; hostname?: string; ramFreeBytes?: number } = {}): ReportBody<"inventory"> {
  return {
    collectedAt: new Date().toISOString(),
    cpu: { manufacturer: "AMD", brand: "Ryzen 7 7840U", cores: 16, physicalCores: 8, speedGHz: 3.3, flags: ["avx2"] },
    memory: { totalBytes: 32 * 2 ** 30, freeBytes: 10 * 2 ** 30, availableBytes: over.ramFreeBytes ?? 20 * 2 ** 30, swapTotalBytes: 0, swapFreeBytes: 0 },
    gpus: over.gpus ?? [
      { vendor: "NVIDIA", model: "RTX 4070 Laptop", vramBytes: 8 * 2 ** 30, vramFreeBytes: 7 * 2 ** 30, driverVersion: "550.1", bus: "PCIe" },
      { vendor: "AMD", model: "Radeon 780M", vramBytes: null, vramFreeBytes: null, driverVersion: null, bus: null },
    ],
    disks: [{ mount: "/", fsType: "ext4", sizeBytes: 5e11, freeBytes: 2e11 }],
    modelsDir: { path: "/var/lib/fleet/models", sizeBytes: 5e11, freeBytes: 2e11 },
    os: { platform: "linux", distro: "Ubuntu", release: "24.04", kernel: "6.8.0", arch: "x64", hostname: over.hostname ?? "ws-test" },
    power: { hasBattery: true, isCharging: false, percent: 80, acConnected: false },
  };
}

export function modelEntry(fileName: string, sha256 = TINY_SHA): ReportBody<"models">["models"][number] {
  return {
    path: `/var/lib/fleet/models/${fileName}`,
    fileName,
    sizeBytes: 1750560,
    mtimeMs: 1764057600000,
    sha256,
    gguf: {
      ggufVersion: 3, name: fileName, architecture: "llama", fileType: "MOSTLY_F16", quantization: "F16", parameterCount: 1_000_000,
      contextLength: 2048, blockCount: 2, embeddingLength: 64, headCount: 4, headCountKv: 4, tokenizer: "llama", vocabSize: 32000, license: null,
    },
    error: null,
  };
}

export function modelsBody(models: ReportBody<"models">["models"]): ReportBody<"models"> {
  return { modelsDir: "/var/lib/fleet/models", models };
}

export function heartbeatBody(agentVersion = "0.2.0"): ReportBody<"heartbeat"> {
  return { agentVersion, uptimeSec: 12.5, queueDepth: 3, runtime: { state: "ready", activeModel: "tiny" }, rssBytes: 123_456_789 };
}

export function postureBody(): ReportBody<"posture"> {
  return {
    outbound: [{ purpose: "messaging", url: "nats://127.0.0.1:4222", carries: ["reports"] }],
    telemetry: "metrics-only",
    remoteFallback: { enabled: false, url: null },
    promptsLeaveDevice: false,
    localApi: { enabled: true, bindAddress: "127.0.0.1", port: 8080, loopbackOnly: true, authRequired: true, corsAllowedOrigins: [] },
  };
}

export function eventsBody(): ReportBody<"events"> {
  const at = new Date().toISOString();
  return {
    events: [
      { at, level: "info", kind: "model.load.ok", message: "loaded tiny" },
      { at, level: "error", kind: "model.load.failed", message: "out of memory", data: { requiredBytes: 123 } },
    ],
  };
}

export function metricsBody(): ReportBody<"metrics"> {
  const end = new Date();
  return {
    windowStart: new Date(end.getTime() - 60_000).toISOString(),
    windowEnd: end.toISOString(),
    models: [{ modelId: "tiny", sha256: TINY_SHA, requests: 10, errors: 1, promptTokens: 500, outputTokens: 800, ttftMs: { p50: 40, p95: 90 }, tpotMs: { p50: 8, p95: 12 } }],
    loads: [
      {
        at: end.toISOString(), modelId: "tiny", sha256: TINY_SHA, ok: true, error: null, loadMs: 120, backend: "cpu", gpuLayers: 0, contextSize: 2048,
        quantization: "F16", peakRssBytes: 300_000_000, peakVramBytes: 0, plan: null,
      },
    ],
  };
}

export function benchmarkBody(commandId: string | null, ok = true): ReportBody<"benchmark"> {
  return {
    commandId,
    at: new Date().toISOString(),
    ok,
    error: ok ? null : "failed to load",
    model: { id: "tiny", sha256: TINY_SHA, architecture: "llama", type: "llama ?B F16", sizeBytes: 1750560, parameterCount: 1e6, quantization: "F16" },
    build: { nodeLlamaCpp: "3.22.1", llamaCpp: "b1234" },
    hardware: { cpu: "Ryzen", cpuCores: 2, gpus: [], backends: ["cpu"], ramTotalBytes: 2 ** 34, vramTotalBytes: 0, powerMode: "ac" },
    settings: { nPrompt: 64, nGen: 16, repetitions: 2, batchSize: 512, threads: 2, kvType: "f16", gpuLayers: 0, mmap: true, contextSize: 512 },
    promptProcessing: ok ? { mean: 1500.5, stddev: 10, samples: [1490.5, 1510.5] } : null,
    generation: ok ? { mean: 220.25, stddev: 2, samples: [218.25, 222.25] } : null,
    memory: { peakRssBytes: 3e8, peakVramBytes: 0 },
  };
}

/** Read one sample from a Prometheus text exposition, 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",");
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (m && m[1] === name && (m[3] ?? "") === want) return Number(m[4]);
  }
  return 0;
}
