import type { TRuntimeInfoV1, TRuntimeRequirementsV1 } from "@fleet/protocol";
import { compareLlamaCppRelease, compareSemver, VersionFormatError } from "./compareVersions.js";

export type RuntimeCheck = { ok: true } | { ok: false; reason: string };

function check(label: string, need: string, have: string | null, compare: (a: string, b: string) => number): string | null {
  if (have === null) return `the device did not report its ${label}; the entry needs ${label} >= ${need}`;
  try {
    return compare(have, need) >= 0 ? null : `${label} ${have} is older than the ${need} the entry needs`;
  } catch (err) {
    if (err instanceof VersionFormatError) return `cannot compare ${label} ${have} with the required ${need}: ${err.message}`;
    throw err;
  }
}

/**
 * Whether a device's runtime can load an entry: node-llama-cpp compared semver-ish, llama.cpp by build
 * number. An entry without requirements runs on any runtime, even an unreported one; a requirement against
 * an unknown or unparsable version fails (never assume a device can load what it might not).
 */
export function runtimeSatisfies(req: TRuntimeRequirementsV1, rt: TRuntimeInfoV1 | null): RuntimeCheck {
  const reasons = [
    req.minNodeLlamaCpp === null ? null : check("node-llama-cpp", req.minNodeLlamaCpp, rt?.nodeLlamaCpp ?? null, compareSemver),
    req.minLlamaCppRelease === null ? null : check("llama.cpp release", req.minLlamaCppRelease, rt?.llamaCppRelease ?? null, compareLlamaCppRelease),
  ].filter((r): r is string => r !== null);
  return reasons.length === 0 ? { ok: true } : { ok: false, reason: `incompatible runtime: ${reasons.join("; ")}` };
}
