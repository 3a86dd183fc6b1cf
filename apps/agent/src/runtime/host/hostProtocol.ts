import { z } from "zod";
import { ZBackendV1, ZGgufMetadataV1, ZMemoryPlanV1 } from "@fleet/protocol";

// Messages between the agent (parent) and the inference host (child process that owns node-llama-cpp).
// Both sides parse what they receive: a child that misbehaves cannot crash the agent with a bad message.

const ZChatMessage = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() });

export const ZGenerationInput = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("chat"), messages: z.array(ZChatMessage).min(1) }),
  z.object({ kind: z.literal("completion"), prompt: z.string() }),
]);
export type GenerationInput = z.infer<typeof ZGenerationInput>;

export const ZSampling = z.object({
  maxTokens: z.number().int().positive(),
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
  stop: z.array(z.string()).max(4).optional(),
});

export const ZPlanRequest = z.object({
  modelPath: z.string(),
  modelId: z.string(),
  contextSize: z.number().int().positive(),
  memoryBudgetBytes: z.number().int().positive().nullable(),
  headroomBytes: z.number().int().nonnegative(),
  /** other installed models, suggested when this one does not fit */
  candidates: z.array(z.object({ id: z.string(), path: z.string() })).max(200).default([]),
});

export const ZToHost = z.discriminatedUnion("type", [
  z.object({ type: z.literal("plan"), id: z.string(), req: ZPlanRequest }),
  z.object({
    type: z.literal("load"),
    id: z.string(),
    req: ZPlanRequest.extend({ threads: z.number().int().positive().nullable(), maxThreads: z.number().int().positive().nullable().default(null) }),
  }),
  z.object({ type: z.literal("cancel"), id: z.string() }),
  z.object({ type: z.literal("generate"), id: z.string(), input: ZGenerationInput, sampling: ZSampling }),
  z.object({
    type: z.literal("benchmark"),
    id: z.string(),
    nPrompt: z.number().int().positive(),
    nGen: z.number().int().positive(),
    repetitions: z.number().int().positive(),
  }),
  z.object({ type: z.literal("info"), id: z.string() }),
  /** one window of a sustained benchmark: generate on the serving model for windowMs */
  z.object({ type: z.literal("generation-window"), id: z.string(), windowMs: z.number().int().positive().max(120_000) }),
  /** read GGUF headers (and check each file is as long as its header says) without loading anything */
  z.object({
    type: z.literal("inspect"),
    id: z.string(),
    files: z.array(z.object({ id: z.string(), path: z.string() })).max(200),
    /** false: report the header's facts even when the file is shorter than the header says (the self-test then fails) */
    checkLength: z.boolean().default(true),
  }),
  /** load a candidate file beside the serving model, generate a little, unload it: the serving model is untouched */
  z.object({
    type: z.literal("selftest"),
    id: z.string(),
    req: ZPlanRequest.extend({ threads: z.number().int().positive().nullable(), maxThreads: z.number().int().positive().nullable().default(null) }),
    prompt: z.string().max(2000),
    maxTokens: z.number().int().positive().max(512),
  }),
]);
export type ToHost = z.infer<typeof ZToHost>;
export type PlanRequest = z.infer<typeof ZPlanRequest>;
export type Sampling = z.infer<typeof ZSampling>;
export type ChatMessage = z.infer<typeof ZChatMessage>;

export const ZLoadResult = z.object({
  modelId: z.string(),
  loadMs: z.number().nonnegative(),
  backend: ZBackendV1,
  gpuLayers: z.number().int().nonnegative(),
  contextSize: z.number().int().nonnegative(),
  threads: z.number().int().positive(),
  threadProbe: z.array(z.object({ threads: z.number().int(), tokensPerSecond: z.number() })),
  quantization: z.string().nullable(),
  peakRssBytes: z.number().int().nonnegative(),
  peakVramBytes: z.number().int().nonnegative(),
  plan: ZMemoryPlanV1,
});
export type LoadResult = z.infer<typeof ZLoadResult>;

export const ZInspectResult = z.array(
  z.object({ id: z.string(), gguf: ZGgufMetadataV1.nullable(), error: z.string().nullable() }),
);
export type InspectResult = z.infer<typeof ZInspectResult>;

export const ZSelfTestResult = z.object({
  loadMs: z.number().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  tokensPerSecond: z.number().nonnegative().nullable(),
  plan: ZMemoryPlanV1,
});
export type SelfTestResult = z.infer<typeof ZSelfTestResult>;

export const ZGenerationResult = z.object({
  promptTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  finishReason: z.enum(["stop", "length", "abort"]),
  text: z.string(),
});
export type GenerationResult = z.infer<typeof ZGenerationResult>;

const ZMeanStd = z.object({ mean: z.number(), stddev: z.number(), samples: z.array(z.number()) });
export const ZHostBenchmark = z.object({
  promptProcessing: ZMeanStd,
  generation: ZMeanStd,
  batchSize: z.number().int().positive(),
  threads: z.number().int().positive(),
  contextSize: z.number().int().positive(),
  kvType: z.string(),
  gpuLayers: z.number().int().nonnegative(),
  mmap: z.boolean(),
  peakRssBytes: z.number().int().nonnegative(),
  peakVramBytes: z.number().int().nonnegative(),
});
export type HostBenchmark = z.infer<typeof ZHostBenchmark>;

export const ZGenerationWindow = z.object({ tokens: z.number().int().nonnegative(), ms: z.number().nonnegative() });

export const ZHostInfo = z.object({
  nodeLlamaCpp: z.string(),
  llamaCpp: z.string(),
  /** the llama.cpp release tag of the binding (e.g. "b6000") */
  llamaCppRelease: z.string().nullable(),
  backends: z.array(ZBackendV1),
  gpu: z.string(),
  gpuDevices: z.array(z.string()),
  cpuMathCores: z.number().int().nonnegative(),
  vramTotalBytes: z.number().int().nonnegative(),
  vramFreeBytes: z.number().int().nonnegative(),
  activeModel: z.string().nullable(),
  activeModelInfo: z
    .object({
      architecture: z.string().nullable(),
      type: z.string().nullable(),
      sizeBytes: z.number().int().nonnegative(),
      parameterCount: z.number().nullable(),
      quantization: z.string().nullable(),
    })
    .nullable(),
});
export type HostInfo = z.infer<typeof ZHostInfo>;

export const ZFromHost = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready") }),
  z.object({ type: z.literal("progress"), id: z.string(), progress: z.number().min(0).max(1) }),
  z.object({ type: z.literal("chunk"), id: z.string(), text: z.string() }),
  z.object({ type: z.literal("result"), id: z.string(), value: z.unknown() }),
  z.object({ type: z.literal("error"), id: z.string(), code: z.string(), message: z.string(), details: z.unknown().optional() }),
]);
export type FromHost = z.infer<typeof ZFromHost>;
