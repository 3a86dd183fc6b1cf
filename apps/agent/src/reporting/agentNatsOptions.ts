import { jwtAuthenticator, type ConnectionOptions } from "nats";
import { deviceInboxPrefix, natsConnectionOptions } from "@fleet/protocol";
import type { AgentState } from "../state/ZAgentState.js";

/** The device's NATS user (JWT + nkey seed from enrollment) and the inbox prefix its permissions allow. */
export interface AgentNatsIdentity {
  jwt: string;
  seed: string;
  inboxPrefix: string;
}

export function agentNatsIdentity(state: AgentState): AgentNatsIdentity | null {
  return state.natsCreds ? { ...state.natsCreds, inboxPrefix: deviceInboxPrefix(state.deviceId) } : null;
}

/**
 * Connect options for the agent: servers (and user/password) from the URL, plus the device's own user and inbox
 * prefix when it has one. The device may subscribe only below `_INBOX_<id>`, so replies (PubAcks, pull batches)
 * must come there.
 */
export function agentNatsOptions(url: string, identity: AgentNatsIdentity | null): ConnectionOptions {
  const base = natsConnectionOptions(url);
  if (!identity) return base;
  return { ...base, authenticator: jwtAuthenticator(identity.jwt, new TextEncoder().encode(identity.seed)), inboxPrefix: identity.inboxPrefix };
}
