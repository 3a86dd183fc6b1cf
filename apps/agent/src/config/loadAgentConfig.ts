import fs from "node:fs/promises";
import path from "node:path";
import { ConfigError } from "../errors.js";
import { defaultHome } from "./defaultHome.js";
import { ENV_TO_CONFIG, readProcessEnv, ZAgentEnv } from "./env.js";
import { ZAgentConfig, type AgentConfig, type AgentConfigInput } from "./ZAgentConfig.js";

export interface LoadAgentConfigOptions {
  /** explicit config file (--config); else FLEET_AGENT_CONFIG; else <home>/config.json when it exists */
  configFile?: string;
  /** defaults to process.env */
  env?: Record<string, string | undefined>;
  /** CLI flags; they win over env, env wins over the file */
  flags?: Partial<AgentConfigInput>;
}

/**
 * Build the agent config from file + env + flags and validate it once, strictly. Throws ConfigError
 * listing every bad key at once.
 */
export async function loadAgentConfig(opts: LoadAgentConfigOptions = {}): Promise<AgentConfig> {
  const issues: string[] = [];
  const envParsed = ZAgentEnv.safeParse(opts.env ?? readProcessEnv());
  const env = envParsed.success ? envParsed.data : {};
  if (!envParsed.success) for (const i of envParsed.error.issues) issues.push(`env ${i.path.join(".")}: ${i.message}`);

  const flags = dropUndefined(opts.flags ?? {});
  const home = path.resolve((flags.home as string | undefined) ?? env.FLEET_AGENT_HOME ?? defaultHome());

  const explicitFile = opts.configFile ?? env.FLEET_AGENT_CONFIG;
  const configFile = explicitFile ? path.resolve(explicitFile) : path.join(home, "config.json");
  const fileValues = await readConfigFile(configFile, explicitFile !== undefined, issues);

  const envValues: Record<string, unknown> = {};
  for (const [envKey, cfgKey] of Object.entries(ENV_TO_CONFIG)) {
    const v = (env as Record<string, unknown>)[envKey];
    if (v !== undefined) envValues[cfgKey] = v;
  }

  const merged: Record<string, unknown> = { ...fileValues, ...envValues, ...flags, home };
  if (merged.modelsDir === undefined) merged.modelsDir = path.join(home, "models");
  else if (typeof merged.modelsDir === "string") merged.modelsDir = path.resolve(home, merged.modelsDir);

  const parsed = ZAgentConfig.safeParse(merged);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const where = i.path.length ? i.path.join(".") : "(root)";
      const keys = i.code === "unrecognized_keys" ? ` ${i.keys.join(", ")}` : "";
      issues.push(`${where}: ${i.message}${keys}`);
    }
  }
  if (issues.length || !parsed.success) {
    throw new ConfigError(`invalid agent configuration:\n  ${issues.join("\n  ")}`, issues);
  }
  return parsed.data;
}

async function readConfigFile(file: string, required: boolean, issues: string[]): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !required) return {};
    issues.push(`config file ${file}: ${(err as Error).message}`);
    return {};
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    issues.push(`config file ${file}: not valid JSON (${(err as Error).message})`);
    return {};
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) {
    issues.push(`config file ${file}: must hold a JSON object`);
    return {};
  }
  const values = json as Record<string, unknown>;
  // A relative modelsDir in a file means relative to that file.
  if (typeof values.modelsDir === "string") values.modelsDir = path.resolve(path.dirname(file), values.modelsDir);
  return values;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
