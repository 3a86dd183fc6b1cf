import { z } from "zod";

/**
 * The only place the agent reads process.env. Every FLEET_AGENT_* / FLEET_* key the agent knows is parsed here;
 * numbers are coerced because env values are strings.
 */
export const ZAgentEnv = z.object({
  FLEET_AGENT_HOME: z.string().min(1).optional(),
  FLEET_AGENT_CONFIG: z.string().min(1).optional(),
  FLEET_AGENT_MODELS_DIR: z.string().min(1).optional(),
  FLEET_SERVER_URL: z.string().min(1).optional(),
  FLEET_NATS_URL: z.string().min(1).optional(),
  FLEET_AGENT_HEARTBEAT_SEC: z.coerce.number().positive().optional(),
  FLEET_AGENT_INVENTORY_SEC: z.coerce.number().positive().optional(),
  FLEET_AGENT_LOG_LEVEL: z.string().optional(),
});
export type AgentEnv = z.infer<typeof ZAgentEnv>;

/** Maps env keys to config keys, so an env issue is reported under the env name the user set. */
export const ENV_TO_CONFIG = {
  FLEET_AGENT_HOME: "home",
  FLEET_AGENT_MODELS_DIR: "modelsDir",
  FLEET_SERVER_URL: "serverUrl",
  FLEET_NATS_URL: "natsUrl",
  FLEET_AGENT_HEARTBEAT_SEC: "heartbeatIntervalSec",
  FLEET_AGENT_INVENTORY_SEC: "inventoryIntervalSec",
  FLEET_AGENT_LOG_LEVEL: "logLevel",
} as const;

export function readProcessEnv(): Record<string, string | undefined> {
  return process.env;
}
