import type { TCreateRolloutRequestV1, TRingSpecV1 } from "@fleet/protocol";

// The rollout wizard's form <-> request mapping (pure, so it is unit-tested). Rates are typed as percentages,
// soak in minutes; rows with an empty ring name are left out.

export const RING_SLOTS = 3;

export type WizardValues = Record<string, string>;
export type WizardState =
  | { status: "idle" }
  | { status: "invalid"; values: WizardValues; errors: Record<string, string>; message: string | null };

export const DEFAULT_WIZARD_VALUES: WizardValues = {
  target: "all",
  group: "",
  ...ringValues(0, { name: "canary", percent: "10", soakMin: "10", maxFailureRate: "0", minSuccesses: "1" }),
  ...ringValues(1, { name: "broad", percent: "100", soakMin: "0", maxFailureRate: "5", minSuccesses: "1" }),
  ...ringValues(2, { name: "", percent: "", soakMin: "", maxFailureRate: "", minSuccesses: "" }),
};

function ringValues(i: number, v: { name: string; percent: string; soakMin: string; maxFailureRate: string; minSuccesses: string }): WizardValues {
  const blank = v.name === "";
  return {
    [`rings.${i}.name`]: v.name,
    [`rings.${i}.percent`]: v.percent,
    [`rings.${i}.soakMin`]: v.soakMin,
    [`rings.${i}.gates.maxFailureRate`]: v.maxFailureRate,
    [`rings.${i}.gates.minSuccesses`]: v.minSuccesses,
    [`rings.${i}.gates.minLoadSuccessRate`]: blank ? "" : "100",
    [`rings.${i}.gates.maxErrorRate`]: blank ? "" : "5",
    [`rings.${i}.gates.minTokensPerSecRatio`]: blank ? "" : "0.8",
  };
}

const num = (s: string | undefined): number => (s === undefined || s.trim() === "" ? Number.NaN : Number(s));

/** Read the wizard's fields; `errors` holds what is not a number at all (the schema checks the ranges). */
export function parseWizardForm(form: FormData, slots: number): { values: WizardValues; request: unknown; errors: Record<string, string>; slotOf: number[] } {
  const values: WizardValues = {};
  for (const [k, v] of form.entries()) if (typeof v === "string") values[k] = v;
  const errors: Record<string, string> = {};
  const need = (key: string, scale = 1): number => {
    const n = num(values[key]);
    if (Number.isNaN(n)) errors[key] = "enter a number";
    return n / scale;
  };
  const entryId = values.entryId ?? "";
  if (!entryId) errors.entryId = "choose an approved entry";
  const group = values.target === "group" ? (values.group ?? "").trim() : null;
  if (values.target === "group" && !group) errors.group = "enter the device group (label `group`)";

  const rings: TRingSpecV1[] = [];
  const slotOf: number[] = [];
  for (let i = 0; i < slots; i++) {
    const p = `rings.${i}`;
    const name = (values[`${p}.name`] ?? "").trim();
    if (!name) continue;
    const tps = (values[`${p}.gates.minTokensPerSecRatio`] ?? "").trim();
    slotOf.push(i);
    rings.push({
      name,
      percent: need(`${p}.percent`),
      soakSec: Math.round(need(`${p}.soakMin`) * 60),
      gates: {
        maxFailureRate: need(`${p}.gates.maxFailureRate`, 100),
        minSuccesses: need(`${p}.gates.minSuccesses`),
        minLoadSuccessRate: need(`${p}.gates.minLoadSuccessRate`, 100),
        maxErrorRate: need(`${p}.gates.maxErrorRate`, 100),
        minTokensPerSecRatio: tps === "" ? null : need(`${p}.gates.minTokensPerSecRatio`),
      },
    });
  }
  if (rings.length === 0) errors["rings.0.name"] = "add at least one ring";
  for (let i = 1; i < rings.length; i++) {
    if (rings[i]!.percent <= rings[i - 1]!.percent) errors[`rings.${slotOf[i]}.percent`] = "rings are cumulative: each must reach more devices than the one before";
  }
  const note = (values.note ?? "").trim();
  const request: TCreateRolloutRequestV1 = { entryId, group, rings, ...(note ? { note } : {}) };
  return { values, request: Object.keys(errors).length > 0 ? null : request, errors, slotOf };
}

/** The form field a schema issue path points at (rings are numbered by form slot; soak is typed in minutes). */
export function fieldOfIssuePath(path: ReadonlyArray<PropertyKey>, slotOf: number[]): string {
  const parts = path.map(String);
  if (parts[0] === "rings" && parts[1] !== undefined) parts[1] = String(slotOf[Number(parts[1])] ?? parts[1]);
  if (parts[0] === "rings" && parts[2] === "soakSec") parts[2] = "soakMin";
  return parts.join(".");
}
