import { performance } from "node:perf_hooks";
import type { Token } from "node-llama-cpp";
import type { ServingModel } from "./loadServingModel.js";

const WINDOW_CONTEXT = 512;

/**
 * One window of a sustained benchmark: generate tokens on the serving model, with its thread count, until
 * `windowMs` has passed (the history is cleared whenever the context fills). Continuous load is the point: the
 * machine heats up as it would under a long answer.
 */
export async function runGenerationWindow(serving: ServingModel, windowMs: number): Promise<{ tokens: number; ms: number }> {
  const context = await serving.model.createContext({ contextSize: WINDOW_CONTEXT, threads: { ideal: serving.threads, min: serving.threads } });
  try {
    const sequence = context.getSequence();
    const seed: Token[] = serving.model.tokenize("The fleet agent measures how fast this machine answers over time.");
    let tokens = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < windowMs) {
      await sequence.clearHistory();
      let n = 0;
      // the raw evaluator keeps generating past end-of-text tokens, as llama-bench does
      for await (const _ of sequence.evaluate([seed[0]!])) {
        tokens++;
        if (++n >= WINDOW_CONTEXT - 8 || performance.now() - t0 >= windowMs) break;
      }
    }
    return { tokens, ms: performance.now() - t0 };
  } finally {
    await context.dispose();
  }
}
