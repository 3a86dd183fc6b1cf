import { z } from "zod";
import { ZIsoDate, ZSha256Hex } from "./common.js";
import { ZResourcesAppliedV1 } from "./resource-usage.js";

/** One outbound path the agent uses, disclosed so compliance can see every byte that leaves. */
export const ZOutboundEndpointV1 = z.object({
  purpose: z.enum(["control-plane", "messaging", "model-download", "telemetry", "remote-inference", "other"]),
  url: z.string().max(2048),
  /** what may travel on it */
  carries: z.array(z.string().max(100)).max(32),
});

export const ZLocalApiExposureV1 = z.object({
  enabled: z.boolean(),
  bindAddress: z.string().max(100),
  port: z.number().int().min(0).max(65535),
  loopbackOnly: z.boolean(),
  authRequired: z.boolean(),
  corsAllowedOrigins: z.array(z.string().max(500)).max(100),
});

/** One listening socket of the agent's own API, as the exposure scan found it (not as configured). */
export const ZApiSocketFindingV1 = z.object({
  address: z.string().max(100),
  port: z.number().int().min(0).max(65535),
  loopbackOnly: z.boolean(),
});

/** The agent's local API, probed: does it refuse an unauthenticated request, what does a foreign Origin get. */
export const ZApiExposureFindingV1 = z.object({
  sockets: z.array(ZApiSocketFindingV1).max(32),
  /** an unauthenticated GET /v1/models on loopback was refused (401/403); null when the API is not listening */
  authRequired: z.boolean().nullable(),
  /** HTTP status of that unauthenticated probe; null when it could not be made */
  unauthenticatedStatus: z.number().int().nullable(),
  /** Access-Control-Allow-Origin returned to a foreign Origin (null = none, the browser blocks it) */
  corsAllowOriginForForeign: z.string().max(500).nullable(),
});

/** Another LLM server on this machine (Ollama, LM Studio, llama.cpp server, vLLM, or a configured port). */
export const ZLocalLlmServerFindingV1 = z.object({
  name: z.string().max(100),
  port: z.number().int().min(1).max(65535),
  found: z.boolean(),
  /** addresses it listens on ("0.0.0.0", "::", "127.0.0.1", ...) */
  boundAddresses: z.array(z.string().max(100)).max(32),
  loopbackOnly: z.boolean().nullable(),
  /** answered the harmless probe path on loopback without credentials; null when not found or not HTTP */
  answersWithoutAuth: z.boolean().nullable(),
  probePath: z.string().max(200).nullable(),
  probeStatus: z.number().int().nullable(),
});

/** Whether an installed model's hash is an approved catalog target, as far as the agent's synced catalog knows. */
export const ZModelProvenanceV1 = z.object({
  sha256: ZSha256Hex,
  fileName: z.string().max(1024),
  /** unknown: not in the catalog's approved targets, or the catalog is not synced yet (catalogSynced=false) */
  provenance: z.enum(["catalog-approved", "unknown"]),
});

/** Evidence the agent gathered itself, on the posture interval; absent from older agents. */
export const ZExposureScanV1 = z.object({
  scannedAt: ZIsoDate,
  api: ZApiExposureFindingV1,
  localLlmServers: z.array(ZLocalLlmServerFindingV1).max(64),
  /** false = the agent has no catalog targets metadata yet, so no model can be told approved */
  catalogSynced: z.boolean(),
  models: z.array(ZModelProvenanceV1).max(1000),
});
export type TExposureScanV1 = z.infer<typeof ZExposureScanV1>;
export type TLocalLlmServerFindingV1 = z.infer<typeof ZLocalLlmServerFindingV1>;
export type TApiExposureFindingV1 = z.infer<typeof ZApiExposureFindingV1>;
export type TModelProvenanceV1 = z.infer<typeof ZModelProvenanceV1>;

export const ZPostureV1 = z.object({
  outbound: z.array(ZOutboundEndpointV1).max(100),
  telemetry: z.enum(["off", "metrics-only", "full"]),
  /** whether prompts could ever be sent to a remote model when the local one is unavailable */
  remoteFallback: z.object({ enabled: z.boolean(), url: z.string().max(2048).nullable() }),
  promptsLeaveDevice: z.boolean(),
  localApi: ZLocalApiExposureV1,
  /** optional so older agents' postures still validate */
  exposure: ZExposureScanV1.optional(),
  /** the resource policy as applied on the device; absent from older agents */
  resources: ZResourcesAppliedV1.optional(),
});
export type TPostureV1 = z.infer<typeof ZPostureV1>;
export type TLocalApiExposureV1 = z.infer<typeof ZLocalApiExposureV1>;
export type TOutboundEndpointV1 = z.infer<typeof ZOutboundEndpointV1>;
