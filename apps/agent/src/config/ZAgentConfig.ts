import { z } from "zod";
import { DEFAULT_SUBJECT_PREFIX } from "@fleet/protocol";
import { ZExposureConfig } from "../exposure/ZExposureConfig.js";
import { ZRuntimeConfig } from "../runtime/config.js";
import { ZUpdateConfig } from "../update/config.js";
import { ZResourcesConfig } from "../resources/ZResourcesConfig.js";

const ZUrl = (protocols: string[]) =>
  z.string().refine((s) => {
    try {
      return protocols.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, `must be a ${protocols.join(" or ")} URL`);

export const ZHttpUrl = ZUrl(["http:", "https:"]);
export const ZNatsUrl = ZUrl(["nats:", "tls:", "ws:", "wss:"]);

export const ZQueueLimits = z.strictObject({
  /** most reports kept on disk while NATS is unreachable */
  maxMessages: z.number().int().positive().default(5000),
  maxBytes: z.number().int().positive().default(64 * 1024 * 1024),
});

/** Everything the agent can be configured with; file, env and flags all land here and are checked together. */
export const ZAgentConfig = z.strictObject({
  home: z.string().min(1),
  modelsDir: z.string().min(1),
  /** control plane; null until enrolled (state.json then holds it) */
  serverUrl: ZHttpUrl.nullable().default(null),
  /** overrides the NATS URL the server handed out at enrollment */
  natsUrl: ZNatsUrl.nullable().default(null),
  /** null = what the server said at enrollment (or 30 s) */
  heartbeatIntervalSec: z.number().positive().nullable().default(null),
  inventoryIntervalSec: z.number().positive().default(3600),
  modelsRescanIntervalSec: z.number().positive().default(300),
  /** posture (with its exposure scan) is re-checked this often and sent when it changed */
  postureIntervalSec: z.number().positive().default(300),
  /** the exposure scan: which other local LLM servers to look for, probe timeout */
  exposure: ZExposureConfig.default(ZExposureConfig.parse({})),
  /** JetStream stream holding server -> device commands */
  commandsStream: z.string().regex(/^[A-Za-z0-9_-]+$/).default("FLEET_COMMANDS"),
  /** overrides the subject prefix from enrollment (tests, tenants) */
  subjectPrefix: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/).nullable().default(null),
  queue: ZQueueLimits.default(ZQueueLimits.parse({})),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  runtime: ZRuntimeConfig.default(ZRuntimeConfig.parse({})),
  update: ZUpdateConfig.default(ZUpdateConfig.parse({})),
  /** resource policy until a signed one arrives (threads cap, background work conditions and priority) */
  resources: ZResourcesConfig.default(ZResourcesConfig.parse({})),
});
export type AgentConfig = z.infer<typeof ZAgentConfig>;
export type AgentConfigInput = z.input<typeof ZAgentConfig>;

export const DEFAULT_HEARTBEAT_INTERVAL_SEC = 30;
export { DEFAULT_SUBJECT_PREFIX };
