import { z } from "zod";

/**
 * The `resources` part of the signed device policy (contract 2, device-policy/v1). The same shape is the local
 * default in config.json until a signed policy arrives; a verified policy replaces it.
 */
export const ZResourcePolicy = z.strictObject({
  /** cap on node-llama-cpp threads */
  maxInferenceThreads: z.number().int().min(1).nullable().default(null),
  /** share of the cores inference may use (threads = floor(cores x share), at least 1) */
  maxCpuSharePct: z.number().int().min(1).max(100).nullable().default(null),
  /** hashing, downloads, self-tests and benchmarks wait for AC power */
  backgroundOnlyOnAcPower: z.boolean().default(false),
  /** ... and for the machine to be below idleCpuPctBelow % CPU busy */
  backgroundOnlyWhenIdle: z.boolean().default(false),
  idleCpuPctBelow: z.number().int().min(1).max(100).default(50),
  /** nice value of background work processes (0..19) */
  backgroundNice: z.number().int().min(0).max(19).default(10),
  backgroundIoniceClass: z.enum(["idle", "best-effort", "none"]).default("idle"),
});
export type ResourcePolicy = z.infer<typeof ZResourcePolicy>;

export const ZResourcesConfig = z.strictObject({
  /** local policy until a signed device policy is received */
  policy: ZResourcePolicy.default(ZResourcePolicy.parse({})),
  /** how often deferred background work looks again at power and CPU */
  deferRetrySec: z.number().positive().default(30),
  /** CPU busy is sampled over this long */
  cpuSampleMs: z.number().int().positive().default(1000),
});
export type ResourcesConfig = z.infer<typeof ZResourcesConfig>;
