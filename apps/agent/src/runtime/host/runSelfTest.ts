import { performance } from "node:perf_hooks";
import type { Llama } from "node-llama-cpp";
import { HostError } from "./HostError.js";
import type { SelfTestResult, ToHost } from "./hostProtocol.js";
import { loadServingModel } from "./loadServingModel.js";
import { generateText } from "./generateText.js";
import { planLocalLoad } from "./planLocalLoad.js";

type SelfTestMessage = Extract<ToHost, { type: "selftest" }>;

/**
 * Test a candidate model without touching the serving one: plan it, load it beside the serving model, generate a
 * few tokens, measure tokens/s, unload it. Any failure is a HostError the update pipeline reports.
 */
export async function runSelfTest(llama: Llama, msg: SelfTestMessage, signal: AbortSignal): Promise<SelfTestResult> {
  const local = await planLocalLoad(llama, msg.req).catch((err: unknown) => {
    throw new HostError("self_test_failed", `cannot read the candidate: ${(err as Error).message}`);
  });
  if (!local.plan.fits) throw new HostError("does_not_fit", local.plan.reason ?? "does not fit", local.plan);
  let candidate;
  try {
    candidate = await loadServingModel(llama, {
      modelId: msg.req.modelId,
      modelPath: msg.req.modelPath,
      contextSize: msg.req.contextSize,
      gpuLayers: local.gpuLayers,
      threads: msg.req.threads,
      maxThreads: msg.req.maxThreads,
      signal,
      onProgress: () => {},
    });
  } catch (err) {
    throw new HostError("self_test_failed", `candidate did not load: ${(err as Error).message}`, local.plan);
  }
  try {
    const t0 = performance.now();
    const r = await generateText(candidate, { kind: "completion", prompt: msg.prompt }, { maxTokens: msg.maxTokens, temperature: 0 }, signal, () => {});
    const sec = (performance.now() - t0) / 1000;
    if (r.outputTokens === 0) throw new HostError("self_test_failed", "candidate generated no tokens", local.plan);
    return { loadMs: candidate.loadMs, outputTokens: r.outputTokens, tokensPerSecond: sec > 0 ? r.outputTokens / sec : null, plan: local.plan };
  } catch (err) {
    if (err instanceof HostError) throw err;
    throw new HostError("self_test_failed", `candidate failed to generate: ${(err as Error).message}`, local.plan);
  } finally {
    await candidate.context.dispose();
    await candidate.model.dispose();
  }
}
