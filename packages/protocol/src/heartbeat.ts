import { z } from "zod";

export const ZRuntimeStateV1 = z.enum(["disabled", "idle", "loading", "ready", "failed"]);

export const ZHeartbeatV1 = z.object({
  agentVersion: z.string().max(50),
  uptimeSec: z.number().nonnegative(),
  /** reports waiting in the on-disk queue when this heartbeat was written */
  queueDepth: z.number().int().nonnegative(),
  runtime: z.object({
    state: ZRuntimeStateV1,
    activeModel: z.string().max(500).nullable(),
  }),
  rssBytes: z.number().int().nonnegative(),
});
export type THeartbeatV1 = z.infer<typeof ZHeartbeatV1>;
