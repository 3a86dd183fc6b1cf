import { CompliancePolicyIds, type CompliancePolicyId, type TCompliancePolicyV1 } from "@fleet/protocol";

/**
 * Built-in policies, used until an admin edits one. The outbound allowlist starts disabled: an empty list would flag
 * every device's own control plane before anyone said which destinations are fine.
 */
export function defaultPolicy(id: CompliancePolicyId): TCompliancePolicyV1 {
  return { id, enabled: id !== "outbound_allowlist", allowlist: [], maxTelemetry: "metrics-only", updatedAt: null, updatedBy: null };
}

export function withDefaults(stored: TCompliancePolicyV1[]): TCompliancePolicyV1[] {
  const byId = new Map(stored.map((p) => [p.id, p]));
  return CompliancePolicyIds.map((id) => byId.get(id) ?? defaultPolicy(id));
}
