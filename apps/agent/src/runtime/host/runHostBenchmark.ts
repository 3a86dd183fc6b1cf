import { performance } from "node:perf_hooks";
import type { Llama, Token } from "node-llama-cpp";
import type { HostBenchmark } from "./hostProtocol.js";
import type { ServingModel } from "./loadServingModel.js";

export function meanStd(samples: number[]): { mean: number; stddev: number; samples: number[] } {
  const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length);
  // sample standard deviation, as llama-bench prints
  const variance = samples.length > 1 ? samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (samples.length - 1) : 0;
  return { mean, stddev: Math.sqrt(variance), samples };
}

function promptTokens(serving: ServingModel, n: number): Token[] {
  const base = serving.model.tokenize(
    "Fleet workstations run local models for their users; the agent measures how fast each one answers. ",
  );
  const tokens: Token[] = [];
  while (tokens.length < n) tokens.push(...base);
  return tokens.slice(0, n);
}

/**
 * llama-bench's two tests on the loaded model: pp = evaluate nPrompt tokens in batches, tg = generate nGen
 * tokens one by one from an empty context; one warm-up run, then `repetitions` timed runs each, in a
 * context of exactly nPrompt + nGen tokens with the serving thread count.
 */
export async function runHostBenchmark(
  llama: Llama,
  serving: ServingModel,
  opts: { nPrompt: number; nGen: number; repetitions: number },
): Promise<HostBenchmark> {
  const batchSize = Math.min(512, opts.nPrompt);
  const contextSize = opts.nPrompt + opts.nGen;
  const context = await serving.model.createContext({
    contextSize,
    batchSize,
    threads: { ideal: serving.threads, min: serving.threads },
  });
  let peakVram = 0;
  const sampleVram = async () => {
    if (llama.supportsGpuOffloading) peakVram = Math.max(peakVram, (await llama.getVramState()).used);
  };
  try {
    const sequence = context.getSequence();
    const tokens = promptTokens(serving, opts.nPrompt);
    const pp: number[] = [];
    const tg: number[] = [];
    for (let rep = -1; rep < opts.repetitions; rep++) {
      await sequence.clearHistory();
      const t0 = performance.now();
      await sequence.evaluateWithoutGeneratingNewTokens(tokens);
      const ms = performance.now() - t0;
      if (rep >= 0) pp.push((opts.nPrompt * 1000) / ms);
      await sampleVram();
    }
    for (let rep = -1; rep < opts.repetitions; rep++) {
      await sequence.clearHistory();
      let n = 0;
      const t0 = performance.now();
      // the raw evaluator keeps generating past end-of-text tokens, as llama-bench does
      for await (const _ of sequence.evaluate([tokens[0]!])) if (++n >= opts.nGen) break;
      const ms = performance.now() - t0;
      if (rep >= 0) tg.push((n * 1000) / ms);
    }
    await sampleVram();
    return {
      promptProcessing: meanStd(pp),
      generation: meanStd(tg),
      batchSize,
      threads: serving.threads,
      contextSize,
      kvType: "f16",
      gpuLayers: serving.model.gpuLayers,
      mmap: serving.model.useMmap,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      peakVramBytes: peakVram,
    };
  } finally {
    await context.dispose();
  }
}
