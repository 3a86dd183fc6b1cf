import { stateExists, readState } from "../state/stateFile.js";
import type { AgentState } from "../state/ZAgentState.js";

/** Diagnostics work before enrollment too: the state, or null when there is none yet. */
export async function readStateIfEnrolled(home: string): Promise<AgentState | null> {
  return (await stateExists(home)) ? readState(home) : null;
}
