import type { TRuntimeInfoV1 } from "@fleet/protocol";

/**
 * One string per runtime build, the key learned incompatibilities are stored under:
 * "3.22.1/b6000/cpu", "3.22.1/b6000/cpu+cuda" (backends sorted), "3.22.1/unknown/none".
 */
export function runtimeKey(rt: TRuntimeInfoV1): string {
  const backends = [...new Set(rt.backends)].sort();
  return `${rt.nodeLlamaCpp}/${rt.llamaCppRelease ?? "unknown"}/${backends.length > 0 ? backends.join("+") : "none"}`;
}
