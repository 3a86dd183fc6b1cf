import type { CompliancePolicyId, TCompliancePolicyV1, TPostureV1 } from "@fleet/protocol";
import { matchesAllowlist, destinationOf } from "./destination.js";

/** What a device is judged on: its latest posture (null = never sent one) and the models it has installed now. */
export interface DeviceEvidence {
  posture: TPostureV1 | null;
  postureAt: Date | null;
  models: { path: string; fileName: string; sha256: string }[];
  /** sha256 of every approved or deprecated catalog entry */
  approvedSha256s: Set<string>;
  /** the destinations the device's outbound ledger lists: where its sockets really went (absent = none reported) */
  egress?: EgressEvidence[];
}

/** One destination of a device's outbound ledger, with its latest counters. */
export interface EgressEvidence {
  purpose: string;
  host: string;
  port: number;
  address: string | null;
  bytesSent: number;
  bytesReceived: number;
  connections: number;
  lastSeenAt: Date;
}

/**
 * A ledger is cumulative: a destination the device stopped using stays in it with its last-seen time. It is evidence
 * against the allowlist while it was used in this window, so its violation resolves a week after the last use.
 */
export const LEDGER_EVIDENCE_MAX_AGE_MS = 7 * 24 * 3600_000;

/** The exposure scan's knocks on this machine's own loopback ports are not outbound traffic. */
export function leavesMachine(e: Pick<EgressEvidence, "purpose" | "address">): boolean {
  return !(e.purpose === "local-probe" && e.address !== null && isLoopback(e.address));
}
function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

export interface Finding {
  policy: CompliancePolicyId;
  subject: string;
  detail: string;
  evidence: Record<string, unknown>;
}

const TELEMETRY_RANK = { off: 0, "metrics-only": 1, full: 2 } as const;

/**
 * Every finding of every enabled policy for one device. Posture policies need a posture: without one they yield
 * nothing (the report shows them as no_data). Pure: the service stores the result as violations.
 */
export function evaluateDevice(policies: TCompliancePolicyV1[], ev: DeviceEvidence): Finding[] {
  const out: Finding[] = [];
  const on = new Map(policies.filter((p) => p.enabled).map((p) => [p.id, p]));
  const p = ev.posture;
  if (p && on.has("api_loopback") && p.localApi.enabled) {
    const exposed = (p.exposure?.api.sockets ?? []).filter((s) => !s.loopbackOnly);
    if (!p.localApi.loopbackOnly || exposed.length > 0) {
      out.push({
        policy: "api_loopback",
        subject: "local-api",
        detail: `the local API listens beyond loopback (${[p.localApi.bindAddress, ...exposed.map((s) => s.address)].join(", ")})`,
        evidence: { bindAddress: p.localApi.bindAddress, port: p.localApi.port, nonLoopbackSockets: exposed },
      });
    }
  }
  if (p && on.has("api_auth") && p.localApi.enabled) {
    const probed = p.exposure?.api.authRequired;
    if (!p.localApi.authRequired || probed === false) {
      out.push({
        policy: "api_auth",
        subject: "local-api",
        detail: probed === false ? "the local API answered an unauthenticated request on loopback" : "the local API does not require authentication",
        evidence: { declaredAuthRequired: p.localApi.authRequired, probedAuthRequired: probed ?? null, unauthenticatedStatus: p.exposure?.api.unauthenticatedStatus ?? null },
      });
    }
  }
  const allow = on.get("outbound_allowlist");
  // The evidence is the ledger: every destination a socket really went to (by host or by resolved address).
  if (allow) {
    const recent = Date.now() - LEDGER_EVIDENCE_MAX_AGE_MS;
    for (const e of (ev.egress ?? []).filter((x) => leavesMachine(x) && x.lastSeenAt.getTime() >= recent)) {
      const dest = e.host.includes(":") ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
      const byAddress = e.address !== null && matchesAllowlist(e.address.includes(":") ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`, allow.allowlist);
      if (!matchesAllowlist(dest, allow.allowlist) && !byAddress) {
        out.push({
          policy: "outbound_allowlist",
          subject: dest,
          detail: `${e.purpose} connections to ${dest}${e.address && e.address !== e.host ? ` (${e.address})` : ""} are not in the allowlist`,
          evidence: { source: "ledger", purpose: e.purpose, host: e.host, port: e.port, address: e.address, bytesSent: e.bytesSent, bytesReceived: e.bytesReceived, connections: e.connections, lastSeenAt: e.lastSeenAt.toISOString() },
        });
      }
    }
  }
  if (p && allow) {
    for (const e of p.outbound) {
      const dest = destinationOf(e.url);
      if (!matchesAllowlist(dest, allow.allowlist)) {
        out.push({ policy: "outbound_allowlist", subject: dest, detail: `${e.purpose} endpoint ${dest} is not in the allowlist`, evidence: { url: e.url, purpose: e.purpose, carries: e.carries } });
      }
    }
  }
  const tel = on.get("telemetry_max");
  if (p && tel && TELEMETRY_RANK[p.telemetry] > TELEMETRY_RANK[tel.maxTelemetry]) {
    out.push({ policy: "telemetry_max", subject: "telemetry", detail: `telemetry is ${p.telemetry}, at most ${tel.maxTelemetry} is allowed`, evidence: { telemetry: p.telemetry, max: tel.maxTelemetry } });
  }
  if (on.has("approved_models")) {
    for (const m of ev.models) {
      if (!ev.approvedSha256s.has(m.sha256)) {
        out.push({ policy: "approved_models", subject: m.sha256, detail: `${m.fileName} is not an approved catalog model`, evidence: { sha256: m.sha256, fileName: m.fileName, path: m.path } });
      }
    }
  }
  if (p?.exposure && on.has("no_unauthenticated_llm_server")) {
    for (const s of p.exposure.localLlmServers) {
      if (s.found && s.answersWithoutAuth) {
        out.push({
          policy: "no_unauthenticated_llm_server",
          subject: `${s.name}:${s.port}`,
          detail: `${s.name} on port ${s.port} answers ${s.probePath ?? "requests"} without authentication`,
          evidence: { name: s.name, port: s.port, boundAddresses: s.boundAddresses, loopbackOnly: s.loopbackOnly, probePath: s.probePath, probeStatus: s.probeStatus },
        });
      }
    }
  }
  // One finding per subject and policy: the violation row is keyed on them.
  const seen = new Set<string>();
  return out.filter((f) => {
    const k = `${f.policy}\u0000${f.subject}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Policies that can only be judged with a posture (the others judge what the models report lists). */
export const POSTURE_POLICIES: CompliancePolicyId[] = ["api_loopback", "api_auth", "outbound_allowlist", "telemetry_max", "no_unauthenticated_llm_server"];
