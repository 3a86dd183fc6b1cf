import type { Command } from "commander";
import { loadAgentConfig } from "../config/loadAgentConfig.js";
import type { AgentConfig } from "../config/ZAgentConfig.js";
import { ConfigError } from "../errors.js";
import { CliExit, ExitCode, type CliIo } from "./CliIo.js";

export interface CommonFlags {
  home?: string;
  config?: string;
}

/** --home and --config, accepted by every command that touches the agent's home. */
export function withCommonOptions(cmd: Command): Command {
  return cmd.option("--home <dir>", "agent home directory (default: $FLEET_AGENT_HOME, /var/lib/fleet-agent as root, else ~/.fleet-agent)").option("--config <file>", "JSON config file (default: <home>/config.json)");
}

/** Load the config, turning a ConfigError into a usage exit that lists every bad key. */
export async function configFromFlags(flags: CommonFlags, io: CliIo, extra: Record<string, unknown> = {}): Promise<AgentConfig> {
  try {
    return await loadAgentConfig({ configFile: flags.config, env: io.env, flags: { home: flags.home, ...extra } });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliExit(ExitCode.Usage, err.message);
    throw err;
  }
}
