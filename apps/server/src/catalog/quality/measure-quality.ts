import type { Llama, LlamaModel, Token } from "node-llama-cpp";

/** Fixed harness settings: the same for a variant and its reference, recorded with every score. */
export interface HarnessSettings {
  /** tokens per scored window, BOS included (capped by the model's training context) */
  contextSize: number;
  batchSize: number;
  threads: number;
}

export interface ModelPass {
  /** natural-log probability of each actual next token */
  logProbs: number[];
  /** argmax of the raw logits at each position (greedy prediction) */
  topTokens: number[];
  tokenCount: number;
  contextSize: number;
}

export interface QualityScore {
  perplexity: number;
  top1Agreement: number;
  referencePerplexity: number;
  scoredTokens: number;
  contextSize: number;
}

export class QualityHarnessError extends Error {
  override name = "QualityHarnessError";
}

/**
 * One model over the text: non-overlapping windows of (contextSize - 1) text tokens, each evaluated from a fresh
 * history after BOS; every position asks for the greedy (argmax) next token, its logit (the max), the logit of the
 * actual next token and the sum of exp(logit - max), so log p = logit - max - ln(sum) without building the
 * vocabulary-sized probability map. Greedy means no randomness: results depend only on the weights, the text and
 * these settings.
 */
export async function evaluateModel(llama: Llama, modelPath: string, text: string, s: HarnessSettings, onProgress: (done: number, total: number) => void): Promise<ModelPass & { tokens: Token[] }> {
  const model: LlamaModel = await llama.loadModel({ modelPath, gpuLayers: 0 });
  try {
    const tokens = model.tokenize(text);
    const bos = model.tokens.bos;
    if (bos === null) throw new QualityHarnessError("the model has no BOS token; windows cannot start from a defined state");
    const contextSize = Math.min(s.contextSize, model.trainContextSize);
    const window = contextSize - 1;
    if (tokens.length < 2) throw new QualityHarnessError("the text is too short for this tokenizer");
    const context = await model.createContext({ contextSize, batchSize: Math.min(s.batchSize, contextSize), threads: { ideal: s.threads, min: s.threads }, sequences: 1 });
    try {
      const seq = context.getSequence();
      const logProbs: number[] = [];
      const topTokens: number[] = [];
      for (let start = 0; start < tokens.length; start += window) {
        const input: Token[] = [bos, ...tokens.slice(start, start + window)];
        await seq.clearHistory();
        const items = input.map((tok, i) =>
          // greedy "sampling" (temperature 0) is the native argmax, far cheaper than asking for the top logit
          i < input.length - 1 ? ([tok, { generateNext: { token: true, options: { temperature: 0 }, logits: { filter: { tokens: [input[i + 1]!], includeSelected: true } }, totalLogitWeight: true } }] as const) : tok,
        );
        const done = logProbs.length;
        const out = await seq.controlledEvaluate(items as Parameters<typeof seq.controlledEvaluate>[0], {
          onTokenResult: (i) => {
            if (i % 64 === 0) onProgress(done + i, tokens.length);
          },
        });
        for (let i = 0; i < input.length - 1; i++) {
          const next = out[i]?.next;
          if (!next?.logits || next.totalLogitWeight === undefined) throw new QualityHarnessError(`no logits at position ${start + i}`);
          const top = next.token;
          const maxLogit = top === undefined || top === null ? undefined : next.logits.get(top);
          if (top === undefined || top === null || maxLogit === undefined) throw new QualityHarnessError(`no greedy token at position ${start + i}`);
          const target = next.logits.get(input[i + 1]!);
          if (target === undefined) throw new QualityHarnessError(`no logit for the next token at position ${start + i}`);
          if (target > maxLogit + 1e-4) throw new QualityHarnessError(`the greedy token at position ${start + i} is not the argmax`);
          logProbs.push(target - maxLogit - Math.log(next.totalLogitWeight));
          topTokens.push(top);
        }
        onProgress(logProbs.length, tokens.length);
      }
      return { logProbs, topTokens, tokenCount: tokens.length, contextSize, tokens };
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

export const perplexityOf = (logProbs: readonly number[]): number => Math.exp(-logProbs.reduce((a, b) => a + b, 0) / logProbs.length);

/** Score a candidate pass against its reference pass (same tokens, same positions). */
export function scoreAgainst(candidate: ModelPass & { tokens: Token[] }, reference: ModelPass & { tokens: Token[] }): QualityScore {
  if (candidate.tokens.length !== reference.tokens.length || candidate.tokens.some((t, i) => t !== reference.tokens[i])) {
    throw new QualityHarnessError("the candidate and the reference tokenize the text differently: they are not variants of one source model");
  }
  if (candidate.contextSize !== reference.contextSize) throw new QualityHarnessError(`context differs (${candidate.contextSize} vs ${reference.contextSize})`);
  let same = 0;
  for (let i = 0; i < candidate.topTokens.length; i++) if (candidate.topTokens[i] === reference.topTokens[i]) same++;
  return {
    perplexity: perplexityOf(candidate.logProbs),
    top1Agreement: same / candidate.topTokens.length,
    referencePerplexity: perplexityOf(reference.logProbs),
    scoredTokens: candidate.logProbs.length,
    contextSize: candidate.contextSize,
  };
}
