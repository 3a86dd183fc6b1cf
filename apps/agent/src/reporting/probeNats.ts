import { connect } from "nats";
import { agentNatsOptions, type AgentNatsIdentity } from "./agentNatsOptions.js";
import { describeError } from "../util/describeError.js";

/** Can we reach this NATS server right now? One connect attempt, bounded by `timeoutMs`. */
export async function probeNats(url: string, timeoutMs = 2000, identity: AgentNatsIdentity | null = null): Promise<{ reachable: boolean; error: string | null; rttMs: number | null }> {
  try {
    const nc = await connect({ ...agentNatsOptions(url, identity), timeout: timeoutMs, reconnect: false, name: "fleet-agent-status" });
    try {
      return { reachable: true, error: null, rttMs: await nc.rtt() };
    } finally {
      await nc.close();
    }
  } catch (err) {
    return { reachable: false, error: describeError(err), rttMs: null };
  }
}
