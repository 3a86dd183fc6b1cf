import { z } from "zod";

/** Local inference API settings. Secure defaults: loopback only, token always required, no CORS origins. */
export const ZLocalApiConfig = z.strictObject({
  enabled: z.boolean().default(true),
  host: z.string().default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(11435),
  /** binding a non-loopback address also needs this explicit opt-in */
  allowRemote: z.boolean().default(false),
  corsOrigins: z.array(z.string().url()).default([]),
  rateLimitPerMinute: z.number().int().positive().default(120),
  maxBodyBytes: z.number().int().positive().default(256 * 1024),
  maxTokens: z.number().int().positive().default(2048),
  requestTimeoutMs: z.number().int().positive().default(120_000),
});

/** When the inference host counts as paging heavily (see evaluateMemoryPressure). */
export const ZMemoryPressureConfig = z.strictObject({
  majorFaultsPerSecAbove: z.number().nonnegative().default(200),
  swapPagesPerSecAbove: z.number().nonnegative().default(256),
  hostSwapBytesAbove: z.number().int().nonnegative().default(64 * 1024 * 1024),
});

export const ZRuntimeConfig = z.strictObject({
  enabled: z.boolean().default(true),
  /** file name (in the models dir) or model id of the model to serve; null = the first installed */
  activeModel: z.string().nullable().default(null),
  /** a smaller model to serve when the active one cannot load */
  fallbackModel: z.string().nullable().default(null),
  contextSize: z.number().int().min(128).default(4096),
  /** null = probe per device; see NOTES-llama: the default thread count is disastrous on small machines */
  threads: z.number().int().positive().nullable().default(null),
  /** cap on memory the runtime may plan to use; null = what the machine has free */
  memoryBudgetBytes: z.number().int().positive().nullable().default(null),
  /** kept free for the OS and the user's applications */
  headroomBytes: z.number().int().nonnegative().default(1024 * 1024 * 1024),
  metricsIntervalSec: z.number().int().positive().default(60),
  /** thresholds for flagging a model that was planned to fit but pages heavily */
  memoryPressure: ZMemoryPressureConfig.default(ZMemoryPressureConfig.parse({})),
  api: ZLocalApiConfig.default(ZLocalApiConfig.parse({})),
});
export type RuntimeConfig = z.infer<typeof ZRuntimeConfig>;
export type LocalApiConfig = z.infer<typeof ZLocalApiConfig>;
