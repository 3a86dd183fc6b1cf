import os from "node:os";
import { nkeys } from "nats";
import {
  generateSigningKeyPair,
  formatIssues,
  ZEnrollRequestV1,
  ZEnrollResponseV1,
  ZErrorBody,
  serverKeySha256,
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
  /** expected serverKeySha256() of the key the server answers with; enrollment fails on any other key */
  serverKeySha256?: string;
  /** injectable for tests; defaults to global fetch */
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * Enroll this machine: new Ed25519 key pair, POST /api/v1/enroll, validate the answer, write state.json.
 * Throws AlreadyEnrolledError (unless force), EnrollmentError with the server's code and message.
 */
export async function enroll(opts: EnrollOptions): Promise<AgentState> {
  checkTransport(opts.serverUrl);
  if (!opts.force && (await stateExists(opts.home))) {
    throw new AlreadyEnrolledError(`already enrolled (${stateFilePath(opts.home)} exists); use --force to enroll again`);
  }
  const keys = await generateSigningKeyPair();
  const publicJwk = { kty: keys.publicJwk.kty, crv: keys.publicJwk.crv, x: keys.publicJwk.x };
  // The device's own NATS identity: only the public nkey is sent; the server answers with a user JWT for it.
  const natsUser = nkeys.createUser();
  const request: TEnrollRequestV1 = {
    token: opts.token,
    publicKeyJwk: publicJwk as TEnrollRequestV1["publicKeyJwk"],
    hostname: (opts.hostname ?? os.hostname()).slice(0, 255) || "unknown",
    agentVersion: AGENT_VERSION,
    natsUserKey: natsUser.getPublicKey(),
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
  if (opts.serverKeySha256 !== undefined) {
    const got = await serverKeySha256(r.serverPublicKeyJwk);
    if (got !== opts.serverKeySha256) {
      throw new EnrollmentError(
        `the server's key ${got} is not the pinned ${opts.serverKeySha256}: this is not the control plane you meant (or its key changed); nothing was stored`,
        "server_key_mismatch",
        res.status,
      );
    }
  }
  if (r.natsUserJwt && jwtSubject(r.natsUserJwt) !== natsUser.getPublicKey()) {
    throw new EnrollmentError("server sent a NATS user JWT for another key", "invalid_response", res.status);
  }
  const state = ZAgentState.parse({
    v: 1,
    deviceId: r.deviceId,
    privateJwk: { kty: keys.privateJwk.kty, crv: keys.privateJwk.crv, x: keys.privateJwk.x, d: keys.privateJwk.d },
    publicJwk,
    serverPublicJwk: r.serverPublicKeyJwk,
    subjectPrefix: r.subjectPrefix,
    natsUrl: r.natsUrl,
    natsCreds: r.natsUserJwt ? { jwt: r.natsUserJwt, seed: new TextDecoder().decode(natsUser.getSeed()) } : null,
    serverUrl: opts.serverUrl,
    heartbeatIntervalSec: r.heartbeatIntervalSec ?? DEFAULT_HEARTBEAT_INTERVAL_SEC,
    localApiToken: newLocalApiToken(),
    enrolledAt: new Date().toISOString(),
    catalogTrustedRoot: r.catalogTrustedRoot,
    assignmentBucket: r.assignmentBucket,
    policyBucket: r.policyBucket,
  });
  await writeState(opts.home, state);
  return state;
}

/**
 * The token and the server's key travel in this request: plain http only to this machine (a local control plane, a
 * test), https everywhere else.
 */
export function checkTransport(serverUrl: string): void {
  let u: URL;
  try {
    u = new URL(serverUrl);
  } catch {
    throw new EnrollmentError(`--server ${serverUrl} is not a URL`, "invalid_server_url", null);
  }
  if (u.protocol === "https:") return;
  if (u.protocol === "http:" && isLoopbackHost(u.hostname)) return;
  if (u.protocol === "http:") {
    throw new EnrollmentError(`refusing plain http to ${u.host}: the enrollment token and the server's key would travel unprotected; use https:// (http is allowed only to loopback)`, "insecure_transport", null);
  }
  throw new EnrollmentError(`--server must be an https:// URL, not ${u.protocol}`, "invalid_server_url", null);
}

function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

function ensureTrailingSlashless(u: string): string {
  return u.replace(/\/+$/, "");
}

/** The `sub` claim of a NATS JWT (not verified here: nats-server checks the signature chain when the agent connects). */
function jwtSubject(jwt: string): string | null {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as { sub?: unknown };
    return typeof claims.sub === "string" ? claims.sub : null;
  } catch {
    return null;
  }
}
