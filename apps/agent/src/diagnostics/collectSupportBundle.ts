import { execFile } from "node:child_process";
import { redactNatsUrl } from "@fleet/protocol";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Logger } from "pino";
import type { AgentConfig } from "../config/ZAgentConfig.js";
import type { AgentState } from "../state/ZAgentState.js";
import { collectInventory } from "../inventory/collectInventory.js";
import { AGENT_VERSION } from "../version.js";
import { collectDoctorReport } from "./collectDoctorReport.js";
import { formatDoctorReport } from "./formatDoctorReport.js";
import { redactObject, redactText } from "./redact.js";
import { writeTarGz, type TarEntry } from "./writeTarGz.js";

const LOG_TAIL_BYTES = 1024 * 1024;

async function tail(file: string, bytes: number): Promise<string> {
  const fh = await fs.open(file, "r");
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    return buf.toString("utf8");
  } finally {
    await fh.close();
  }
}

/** Recent logs: <home>/logs/*.log tails, and the systemd journal of the fleet-agent unit when there is one. */
async function recentLogs(home: string): Promise<{ name: string; text: string }[]> {
  const out: { name: string; text: string }[] = [];
  const dir = path.join(home, "logs");
  for (const f of await fs.readdir(dir).catch(() => [] as string[])) {
    if (f.endsWith(".log")) out.push({ name: `logs/${f}`, text: await tail(path.join(dir, f), LOG_TAIL_BYTES) });
  }
  const journal = await promisify(execFile)("journalctl", ["-u", "fleet-agent", "-n", "2000", "--no-pager", "-o", "cat"], { timeout: 10_000, maxBuffer: 8 * LOG_TAIL_BYTES }).then(
    (r) => r.stdout,
    () => null,
  );
  if (journal?.trim()) out.push({ name: "logs/journal-fleet-agent.log", text: journal });
  return out;
}

export interface SupportBundleOptions {
  config: AgentConfig;
  /** null when not enrolled */
  state: AgentState | null;
  /** directory for the archive; default <home>/support */
  outDir?: string;
  logger: Logger;
}

/**
 * Write a redacted support archive and return its path: config without secrets, state without keys or
 * token, recent logs scrubbed of every known secret, inventory, doctor report (plans), versions.
 */
export async function collectSupportBundle(opts: SupportBundleOptions): Promise<string> {
  const { config, state } = opts;
  const secrets = state ? [state.localApiToken, state.privateJwk.d, ...(state.natsCreds ? [state.natsCreds.seed] : [])] : [];
  const entries: TarEntry[] = [];
  const json = (name: string, v: unknown) => entries.push({ name, data: redactText(JSON.stringify(redactObject(v), null, 2), secrets) + "\n" });

  json("config.json", config);
  json("state-summary.json", state ? { deviceId: state.deviceId, serverUrl: state.serverUrl, natsUrl: state.natsUrl && redactNatsUrl(state.natsUrl), subjectPrefix: state.subjectPrefix, enrolledAt: state.enrolledAt, heartbeatIntervalSec: state.heartbeatIntervalSec } : { enrolled: false });
  const doctor = await collectDoctorReport(config, state?.localApiToken ?? null, opts.logger);
  json("doctor.json", doctor);
  entries.push({ name: "doctor.txt", data: redactText(formatDoctorReport(doctor), secrets) });
  json("inventory.json", await collectInventory(config.modelsDir).catch((err: Error) => ({ error: err.message })));
  json("versions.json", {
    agent: AGENT_VERSION,
    node: process.version,
    nodeLlamaCpp: doctor.capabilities?.nodeLlamaCpp ?? null,
    llamaCpp: doctor.capabilities?.llamaCpp ?? null,
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
  });
  const logs = await recentLogs(config.home);
  for (const l of logs) entries.push({ name: l.name, data: redactText(l.text, secrets) });
  if (logs.length === 0) entries.push({ name: "logs/README.txt", data: "No log files found: the agent logs to stdout (see your service manager's journal).\n" });

  const outDir = opts.outDir ?? path.join(config.home, "support");
  await fs.mkdir(outDir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const file = path.join(outDir, `fleet-agent-support-${state?.deviceId ?? "unenrolled"}-${stamp}.tar.gz`);
  await writeTarGz(file, entries);
  return file;
}
