import os from "node:os";
import type { TApiExposureFindingV1, TExposureScanV1, TLocalLlmServerFindingV1, TModelProvenanceV1 } from "@fleet/protocol";
import type { ApprovedHashes } from "./ApprovedHashes.js";
import { canConnect } from "./canConnect.js";
import { probeHttp } from "./probeHttp.js";
import { isLoopbackAddress, readListeningSockets, type ListeningSocket } from "./readListeningSockets.js";
import type { ExposureConfig } from "./ZExposureConfig.js";

export interface ExposureScanInputs {
  config: ExposureConfig;
  /** the agent's own local API while it listens; null when it is off */
  api: { port: number } | null;
  models: { sha256: string; fileName: string }[];
  approved: ApprovedHashes | null;
  /** tests point this at a fixture; default /proc/net */
  procNet?: string;
}

/** A foreign origin for the CORS probe: no allow-list entry can match it. */
const FOREIGN_ORIGIN = "http://exposure-probe.invalid";

/**
 * What this machine exposes, observed rather than declared: where the agent's API really listens, whether it
 * refuses an unauthenticated request and what a foreign browser origin gets; which other LLM servers listen on
 * their well-known ports, bound where, and whether they answer without credentials; which installed models are
 * approved catalog targets. Probes go to 127.0.0.1 only and read at most the status line and headers.
 */
export async function scanExposure(inputs: ExposureScanInputs): Promise<TExposureScanV1> {
  const listening = await readListeningSockets(inputs.procNet);
  const timeoutMs = inputs.config.probeTimeoutMs;
  const [api, servers] = await Promise.all([
    scanApi(inputs.api, listening, timeoutMs),
    Promise.all(inputs.config.localLlmServers.filter((s) => s.port !== inputs.api?.port).map((s) => scanServer(s, listening, timeoutMs))),
  ]);
  const approved = inputs.approved?.approvedSha256s() ?? null;
  const models: TModelProvenanceV1[] = inputs.models.map((m) => ({
    sha256: m.sha256,
    fileName: m.fileName.slice(0, 1024),
    provenance: approved?.has(m.sha256) ? "catalog-approved" : "unknown",
  }));
  return { scannedAt: new Date().toISOString(), api, localLlmServers: servers, catalogSynced: approved !== null, models };
}

async function scanApi(api: { port: number } | null, listening: ListeningSocket[] | null, timeoutMs: number): Promise<TApiExposureFindingV1> {
  if (!api) return { sockets: [], authRequired: null, unauthenticatedStatus: null, corsAllowOriginForForeign: null };
  const bound = await boundAddresses(api.port, listening, timeoutMs);
  // Two probes: without an Origin (a local process: is auth enforced?) and with a foreign one (a web page: does the
  // browser get an Access-Control-Allow-Origin?). One probe with an Origin would be refused for the origin alone.
  const [probe, cors] = await Promise.all([
    probeHttp(api.port, "/v1/models", { timeoutMs }),
    probeHttp(api.port, "/v1/models", { timeoutMs, headers: { origin: FOREIGN_ORIGIN } }),
  ]);
  const acao = cors?.headers["access-control-allow-origin"];
  return {
    sockets: bound.map((address) => ({ address, port: api.port, loopbackOnly: isLoopbackAddress(address) })),
    authRequired: probe ? probe.status === 401 || probe.status === 403 : null,
    unauthenticatedStatus: probe?.status ?? null,
    corsAllowOriginForForeign: typeof acao === "string" ? acao.slice(0, 500) : null,
  };
}

async function scanServer(s: ExposureConfigServer, listening: ListeningSocket[] | null, timeoutMs: number): Promise<TLocalLlmServerFindingV1> {
  const bound = await boundAddresses(s.port, listening, timeoutMs);
  if (bound.length === 0) {
    return { name: s.name, port: s.port, found: false, boundAddresses: [], loopbackOnly: null, answersWithoutAuth: null, probePath: null, probeStatus: null };
  }
  const probe = await probeHttp(s.port, s.probePath, { timeoutMs });
  return {
    name: s.name,
    port: s.port,
    found: true,
    boundAddresses: bound,
    loopbackOnly: bound.every(isLoopbackAddress),
    answersWithoutAuth: probe ? probe.status >= 200 && probe.status < 300 : null,
    probePath: s.probePath,
    probeStatus: probe?.status ?? null,
  };
}
type ExposureConfigServer = ExposureConfig["localLlmServers"][number];

/**
 * Addresses something listens on for this port: from /proc when readable, otherwise by connecting to loopback and
 * to each of this machine's own non-loopback addresses (a socket reachable there is reachable from the network).
 */
async function boundAddresses(port: number, listening: ListeningSocket[] | null, timeoutMs: number): Promise<string[]> {
  if (listening) return [...new Set(listening.filter((l) => l.port === port).map((l) => l.address))].slice(0, 32);
  const candidates = ["127.0.0.1", ...ownAddresses()];
  const ok = await Promise.all(candidates.map((h) => canConnect(h, port, timeoutMs)));
  return candidates.filter((_, i) => ok[i]).slice(0, 32);
}

function ownAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => !!a && !a.internal && a.family === "IPv4")
    .map((a) => a.address);
}
