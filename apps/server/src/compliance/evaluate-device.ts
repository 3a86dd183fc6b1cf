import type { CompliancePolicyId, TCompliancePolicyV1, TPostureV1 } from "@fleet/protocol";
import { matchesAllowlist, destinationOf } from "./destination.js";

/** What a device is judged on: its latest posture (null = never sent one) and the models it has installed now. */
export interface DeviceEvidence {
  posture: TPostureV1 | null;
  postureAt: Date | null;
  models: { path: string; fileName: string; sha256: string }[];
  /** sha256 of every approved or deprecated catalog entry */
  approvedSha256s: Set<string>;
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
