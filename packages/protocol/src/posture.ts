import { z } from "zod";

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

export const ZPostureV1 = z.object({
  outbound: z.array(ZOutboundEndpointV1).max(100),
  telemetry: z.enum(["off", "metrics-only", "full"]),
  /** whether prompts could ever be sent to a remote model when the local one is unavailable */
  remoteFallback: z.object({ enabled: z.boolean(), url: z.string().max(2048).nullable() }),
  promptsLeaveDevice: z.boolean(),
  localApi: ZLocalApiExposureV1,
});
export type TPostureV1 = z.infer<typeof ZPostureV1>;
export type TLocalApiExposureV1 = z.infer<typeof ZLocalApiExposureV1>;
export type TOutboundEndpointV1 = z.infer<typeof ZOutboundEndpointV1>;
