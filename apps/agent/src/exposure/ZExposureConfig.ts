import { z } from "zod";

export const ZLocalLlmServerProbe = z.strictObject({
  name: z.string().min(1).max(100),
  port: z.number().int().min(1).max(65535),
  /** a harmless GET that lists models; an answer to it without credentials means anyone on this machine can use it */
  probePath: z.string().startsWith("/").max(200),
});
export type LocalLlmServerProbe = z.infer<typeof ZLocalLlmServerProbe>;

/** Well-known local LLM servers and a listing endpoint each answers. */
export const DEFAULT_LOCAL_LLM_SERVERS: LocalLlmServerProbe[] = [
  { name: "ollama", port: 11434, probePath: "/api/tags" },
  { name: "lm-studio", port: 1234, probePath: "/v1/models" },
  { name: "llama.cpp-server", port: 8080, probePath: "/v1/models" },
  { name: "vllm", port: 8000, probePath: "/v1/models" },
];

export const ZExposureConfig = z.strictObject({
  localLlmServers: z.array(ZLocalLlmServerProbe).max(64).default(DEFAULT_LOCAL_LLM_SERVERS),
  /** per probe (connect and HTTP answer) */
  probeTimeoutMs: z.number().int().min(50).max(10_000).default(1500),
});
export type ExposureConfig = z.infer<typeof ZExposureConfig>;
