import { performance } from "node:perf_hooks";
import { threadCandidates, chooseThreads, type ThreadProbe } from "@fleet/catalog";
import type { Llama, LlamaContext, LlamaModel } from "node-llama-cpp";

export interface ServingModel {
  modelId: string;
  model: LlamaModel;
  context: LlamaContext;
  threads: number;
  threadProbe: ThreadProbe[];
  loadMs: number;
}

export interface LoadOptions {
  modelId: string;
  modelPath: string;
  contextSize: number;
  gpuLayers: number;
  /** null = probe 1, cores/2, cores and keep the fastest (NOTES-llama: the default is disastrous on 2 cores) */
  threads: number | null;
  /** the resource policy's cap (max inference threads / CPU share); null = none */
  maxThreads?: number | null;
  signal: AbortSignal;
  onProgress(progress: number): void;
}

// Exact thread counts: a bare number is only a hint that node-llama-cpp may lower or raise.
const exactThreads = (n: number) => ({ ideal: n, min: n });

async function probeThreads(model: LlamaModel, cores: number, maxThreads: number | null, signal: AbortSignal): Promise<ThreadProbe[]> {
  const probes: ThreadProbe[] = [];
  const prompt = model.tokenize("The quick brown fox jumps over the lazy dog.");
  const candidates = threadCandidates(cores).filter((t) => maxThreads === null || t <= maxThreads);
  for (const threads of candidates.length > 0 ? candidates : [1]) {
    signal.throwIfAborted();
    const context = await model.createContext({ contextSize: 256, threads: exactThreads(threads) });
    try {
      const sequence = context.getSequence();
      await sequence.evaluateWithoutGeneratingNewTokens(prompt);
      const nGen = 12;
      let n = 0;
      const t0 = performance.now();
      for await (const _ of sequence.evaluate([prompt[prompt.length - 1]!])) if (++n >= nGen) break;
      probes.push({ threads, tokensPerSecond: (n * 1000) / (performance.now() - t0) });
    } finally {
      await context.dispose();
    }
  }
  return probes;
}

/** Load a model and its serving context; the caller disposes the previous model only once this resolves. */
export async function loadServingModel(llama: Llama, opts: LoadOptions): Promise<ServingModel> {
  const t0 = performance.now();
  const model = await llama.loadModel({
    modelPath: opts.modelPath,
    gpuLayers: opts.gpuLayers,
    loadSignal: opts.signal,
    onLoadProgress: opts.onProgress,
  });
  try {
    let threadProbe: ThreadProbe[] = [];
    const cap = opts.maxThreads ?? null;
    if (opts.threads === null) threadProbe = await probeThreads(model, llama.cpuMathCores, cap, opts.signal);
    // a configured count is still held to the policy's cap
    const threads = Math.min(opts.threads ?? chooseThreads(threadProbe), cap ?? Infinity);
    opts.signal.throwIfAborted();
    const context = await model.createContext({ contextSize: opts.contextSize, threads: exactThreads(threads) });
    return { modelId: opts.modelId, model, context, threads, threadProbe, loadMs: performance.now() - t0 };
  } catch (err) {
    await model.dispose();
    throw err;
  }
}
