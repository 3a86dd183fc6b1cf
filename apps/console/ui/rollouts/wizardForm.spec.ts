import { describe, expect, it } from "vitest";
import { DEFAULT_WIZARD_VALUES, fieldOfIssuePath, parseWizardForm } from "./wizardForm";

const form = (over: Record<string, string>) => {
  const f = new FormData();
  for (const [k, v] of Object.entries({ ...DEFAULT_WIZARD_VALUES, entryId: "e1", target: "all", ...over })) f.set(k, v);
  return f;
};

describe("parseWizardForm", () => {
  it("maps percentages to rates and minutes to seconds, drops unnamed rings, empty tokens/s ratio is not gated", () => {
    const { request, errors } = parseWizardForm(form({ "rings.1.gates.minTokensPerSecRatio": "" }), 3);
    expect(errors).toEqual({});
    expect(request).toEqual({
      entryId: "e1",
      group: null,
      rings: [
        { name: "canary", percent: 10, soakSec: 600, gates: { maxFailureRate: 0, minSuccesses: 1, minLoadSuccessRate: 1, maxErrorRate: 0.05, minTokensPerSecRatio: 0.8 } },
        { name: "broad", percent: 100, soakSec: 0, gates: { maxFailureRate: 0.05, minSuccesses: 1, minLoadSuccessRate: 1, maxErrorRate: 0.05, minTokensPerSecRatio: null } },
      ],
    });
  });

  it("says which field is wrong: missing entry, group, non-numbers, non-cumulative percent", () => {
    const { request, errors } = parseWizardForm(form({ entryId: "", target: "group", group: " ", "rings.0.soakMin": "ten", "rings.1.percent": "5" }), 3);
    expect(request).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(["entryId", "group", "rings.0.soakMin", "rings.1.percent"]);
  });

  it("points schema issues at the form slot (a dropped ring shifts the index) and at minutes for soak", () => {
    expect(fieldOfIssuePath(["rings", 1, "soakSec"], [0, 2])).toBe("rings.2.soakMin");
  });
});
