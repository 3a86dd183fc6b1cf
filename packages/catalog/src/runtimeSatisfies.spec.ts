import { describe, expect, it } from "vitest";
import type { TRuntimeInfoV1, TRuntimeRequirementsV1 } from "@fleet/protocol";
import { runtimeSatisfies } from "./runtimeSatisfies.js";
import { runtimeKey } from "./runtimeKey.js";
import { compareLlamaCppRelease, compareSemver, VersionFormatError } from "./compareVersions.js";

const rt = (nodeLlamaCpp: string, llamaCppRelease: string | null, backends: TRuntimeInfoV1["backends"] = ["cpu"]): TRuntimeInfoV1 => ({ nodeLlamaCpp, llamaCppRelease, backends });
const req = (minNodeLlamaCpp: string | null, minLlamaCppRelease: string | null): TRuntimeRequirementsV1 => ({ minNodeLlamaCpp, minLlamaCppRelease });

describe("compareSemver / compareLlamaCppRelease", () => {
  it.each([
    ["3.22.1", "3.22.1", 0],
    ["3.22.10", "3.22.9", 1],
    ["3.9.0", "3.22.0", -1],
    ["4.0.0", "3.99.99", 1],
    ["v3.22.1", "3.22.1", 0],
    ["3.22", "3.22.0", 0],
    ["3.22.1-beta.1", "3.22.1", -1],
    ["3.22.1-beta.2", "3.22.1-beta.10", -1],
    ["3.22.1-beta.1", "3.22.1-alpha.5", 1],
    ["3.22.1+build.5", "3.22.1", 0],
  ])("%s vs %s -> %i", (a, b, want) => {
    expect(compareSemver(a, b)).toBe(want);
    expect(compareSemver(b, a)).toBe(-want || 0);
  });

  it.each([
    ["b999", "b6000", -1],
    ["b6000", "b6000", 0],
    ["b10000", "b9999", 1],
    ["6000", "b5999", 1],
  ])("%s vs %s -> %i", (a, b, want) => {
    expect(compareLlamaCppRelease(a, b)).toBe(want);
  });

  it.each([["latest", "3.0.0"], ["3.x", "3.0.0"]])("refuses %s", (a, b) => expect(() => compareSemver(a, b)).toThrow(VersionFormatError));
  it("refuses a release tag that is not b<number>", () => expect(() => compareLlamaCppRelease("master", "b1")).toThrow(VersionFormatError));
});

describe("runtimeSatisfies", () => {
  it.each([
    ["no requirements, known runtime", req(null, null), rt("3.22.1", "b6000"), null],
    ["no requirements, unknown runtime", req(null, null), null, null],
    ["both met exactly", req("3.22.1", "b6000"), rt("3.22.1", "b6000"), null],
    ["both exceeded", req("3.20.0", "b5000"), rt("3.22.1", "b6000"), null],
    ["b999 < b6000 numerically, not as text", req(null, "b6000"), rt("3.22.1", "b999"), /llama\.cpp release b999 is older than the b6000/],
    ["node-llama-cpp 3.9 < 3.22", req("3.22.0", null), rt("3.9.5", "b6000"), /node-llama-cpp 3\.9\.5 is older than the 3\.22\.0/],
    ["a pre-release is older than its release", req("3.22.1", null), rt("3.22.1-beta.3", "b6000"), /node-llama-cpp 3\.22\.1-beta\.3 is older/],
    ["both too old: both reasons", req("4.0.0", "b7000"), rt("3.22.1", "b6000"), /node-llama-cpp 3\.22\.1 is older than the 4\.0\.0.*; llama\.cpp release b6000 is older than the b7000/],
    ["runtime not reported", req("3.0.0", null), null, /did not report its node-llama-cpp/],
    ["release unknown", req(null, "b6000"), rt("3.22.1", null), /did not report its llama\.cpp release/],
    ["unparsable device version", req("3.0.0", null), rt("nightly", "b6000"), /cannot compare node-llama-cpp nightly with the required 3\.0\.0/],
  ])("%s", (_name, requirement, runtime, reason) => {
    const r = runtimeSatisfies(requirement, runtime);
    if (reason === null) expect(r).toEqual({ ok: true });
    else {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(reason);
    }
  });
});

describe("runtimeKey", () => {
  it.each([
    [rt("3.22.1", "b6000", ["cpu"]), "3.22.1/b6000/cpu"],
    [rt("3.22.1", "b6000", ["cuda", "cpu"]), "3.22.1/b6000/cpu+cuda"],
    [rt("3.22.1", null, []), "3.22.1/unknown/none"],
  ])("%o -> %s", (input, want) => {
    expect(runtimeKey(input)).toBe(want);
  });
});
