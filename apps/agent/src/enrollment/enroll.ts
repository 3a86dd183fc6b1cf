import os from "node:os";
import {
  generateSigningKeyPair,
  formatIssues,
  ZEnrollRequestV1,
  ZEnrollResponseV1,
  ZErrorBody,
  type TEnrollRequestV1,
} from "@fleet/protocol";
import { AlreadyEnrolledError, EnrollmentError } from "../errors.js";
import { newLocalApiToken, stateExists, stateFilePath, writeState } from "../state/stateFile.js";
import type { AgentState } from "../state/ZAgentState.js";
import { AGENT_VERSION } from "../version.js";
import { ZAgentState } from "../state/ZAgentState.js";
import { DEFAULT_HEARTBEAT_INTERVAL_SEC } from "../config/ZAgentConfig.js";

export interface EnrollOptions {
  serverUrl: string;
  token: string;
  home: string;
  force?: boolean;
  hostname?: string;
  /** injectable for tests; defaults to global fetch */
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * Enroll this machine: new Ed25519 key pair, POST /api/v1/enroll, validate the answer, write state.json.
 * Throws AlreadyEnrolledError (unless force), EnrollmentError with the server's code and message.
 */
export async function enroll(opts: EnrollOptions): Promise<AgentState> {
  if (!opts.force && (await stateExists(opts.home))) {
    throw new AlreadyEnrolledError(`already enrolled (${stateFilePath(opts.home)} exists); use --force to enroll again`);
  }
  const keys = await generateSigningKeyPair();
  const publicJwk = { kty: keys.publicJwk.kty, crv: keys.publicJwk.crv, x: keys.publicJwk.x };
  const request: TEnrollRequestV1 = {
    token: opts.token,
    publicKeyJwk: publicJwk as TEnrollRequestV1["publicKeyJwk"],
    hostname: (opts.hostname ?? os.hostname()).slice(0, 255) || "unknown",
    agentVersion: AGENT_VERSION,
  };
  const checked = ZEnrollRequestV1.safeParse(request);
  if (!checked.success) throw new EnrollmentError(`invalid enrollment request: ${formatIssues(checked.error)}`, "validation_failed", null);

  // Appended, not resolved: a server behind a path prefix (https://host/fleet) keeps its prefix.
  const url = `${ensureTrailingSlashless(opts.serverUrl)}/api/v1/enroll`;
  const doFetch = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(checked.data),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
  } catch (err) {
    throw new EnrollmentError(`cannot reach ${url}: ${(err as Error).message}`, "unreachable", null, { cause: err });
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // handled below: a non-JSON answer is reported with its status
  }
  if (!res.ok) {
    const body = ZErrorBody.safeParse(json);
    if (body.success) throw new EnrollmentError(body.data.error.message, body.data.error.code, res.status);
    throw new EnrollmentError(`server answered HTTP ${res.status}: ${text.slice(0, 200)}`, "http_error", res.status);
  }
  const parsed = ZEnrollResponseV1.safeParse(json);
  if (!parsed.success) {
    throw new EnrollmentError(`server sent an invalid enrollment response: ${formatIssues(parsed.error)}`, "invalid_response", res.status);
  }
  const r = parsed.data;
  const state = ZAgentState.parse({
    v: 1,
    deviceId: r.deviceId,
    privateJwk: { kty: keys.privateJwk.kty, crv: keys.privateJwk.crv, x: keys.privateJwk.x, d: keys.privateJwk.d },
    publicJwk,
    serverPublicJwk: r.serverPublicKeyJwk,
    subjectPrefix: r.subjectPrefix,
    natsUrl: r.natsUrl,
    serverUrl: opts.serverUrl,
    heartbeatIntervalSec: r.heartbeatIntervalSec ?? DEFAULT_HEARTBEAT_INTERVAL_SEC,
    localApiToken: newLocalApiToken(),
    enrolledAt: new Date().toISOString(),
  });
  await writeState(opts.home, state);
  return state;
}

function ensureTrailingSlashless(u: string): string {
  return u.replace(/\/+$/, "");
}
