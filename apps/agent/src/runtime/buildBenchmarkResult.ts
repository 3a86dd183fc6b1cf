import os from "node:os";
import type { TBenchmarkResultV1 } from "@fleet/protocol";
import type { BenchmarkCommand } from "./RuntimeHooks.js";
import type { HostBenchmark, HostInfo } from "./host/hostProtocol.js";
import type { InstalledModelFile } from "./installedModels.js";
import { readPowerMode } from "./readPowerMode.js";

const round = (x: number) => Math.round(x * 100) / 100;
const ms = (m: { mean: number; stddev: number; samples: number[] }) => ({ mean: round(m.mean), stddev: round(m.stddev), samples: m.samples.map(round) });

function hardware(info: HostInfo | null, powerMode: string): TBenchmarkResultV1["hardware"] {
  return {
    cpu: (os.cpus()[0]?.model ?? "unknown").slice(0, 200),
    cpuCores: os.availableParallelism(),
    gpus: info?.gpuDevices ?? [],
    backends: info?.backends ?? ["cpu"],
    ramTotalBytes: os.totalmem(),
    vramTotalBytes: info?.vramTotalBytes ?? 0,
    powerMode,
  };
}

/** A llama-bench style result with everything needed to compare it with another machine's. */
export async function buildBenchmarkResult(a: {
  commandId: string;
  at: string;
  model: InstalledModelFile;
  sha256: string | null;
  info: HostInfo;
  bench: HostBenchmark;
  command: BenchmarkCommand;
}): Promise<TBenchmarkResultV1> {
  const mi = a.info.activeModelInfo;
  return {
    commandId: a.commandId,
    at: a.at,
    ok: true,
    error: null,
    model: {
      id: a.model.id,
      sha256: a.sha256,
      architecture: mi?.architecture ?? null,
      type: mi?.type ?? null,
      sizeBytes: mi?.sizeBytes ?? a.model.sizeBytes,
      parameterCount: mi?.parameterCount ?? null,
      quantization: mi?.quantization ?? null,
    },
    build: { nodeLlamaCpp: a.info.nodeLlamaCpp, llamaCpp: a.info.llamaCpp.slice(0, 100) },
    hardware: hardware(a.info, await readPowerMode()),
    settings: {
      nPrompt: a.command.nPrompt,
      nGen: a.command.nGen,
      repetitions: a.command.repetitions,
      batchSize: a.bench.batchSize,
      threads: a.bench.threads,
      kvType: a.bench.kvType,
      gpuLayers: a.bench.gpuLayers,
      mmap: a.bench.mmap,
      contextSize: a.bench.contextSize,
    },
    promptProcessing: ms(a.bench.promptProcessing),
    generation: ms(a.bench.generation),
    memory: { peakRssBytes: a.bench.peakRssBytes, peakVramBytes: a.bench.peakVramBytes },
  };
}

/** The same disclosure shape for a benchmark that could not run, saying why. */
export async function failedBenchmark(commandId: string, at: string, command: BenchmarkCommand, error: string): Promise<TBenchmarkResultV1> {
  return {
    commandId,
    at,
    ok: false,
    error: error.slice(0, 2000),
    model: { id: command.modelId ?? "(none)", sha256: null, architecture: null, type: null, sizeBytes: 0, parameterCount: null, quantization: null },
    build: { nodeLlamaCpp: "unknown", llamaCpp: "unknown" },
    hardware: hardware(null, await readPowerMode()),
    settings: { nPrompt: command.nPrompt, nGen: command.nGen, repetitions: command.repetitions, batchSize: 1, threads: 1, kvType: "f16", gpuLayers: 0, mmap: true, contextSize: command.nPrompt + command.nGen },
    promptProcessing: null,
    generation: null,
    memory: { peakRssBytes: 0, peakVramBytes: 0 },
  };
}
