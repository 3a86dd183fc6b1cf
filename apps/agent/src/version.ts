/** Reported in heartbeats and at enrollment. Kept in code so a built agent knows its version without package.json. */
export const AGENT_VERSION = "0.1.0";
