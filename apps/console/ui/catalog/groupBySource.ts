import type { TCatalogEntryV1 } from "@fleet/protocol";

export interface SourceGroup {
  /** source repository @ revision: quantizations of the same weights */
  key: string;
  entries: TCatalogEntryV1[];
}

/** Entries grouped by the source model they were converted from, so quantizations are compared only within a
 * group (never across different source models); groups and entries keep a stable order (name, then bits desc). */
export function groupBySource(entries: readonly TCatalogEntryV1[]): SourceGroup[] {
  const groups = new Map<string, TCatalogEntryV1[]>();
  for (const e of entries) {
    const key = `${e.facts.source.repository}@${e.facts.source.revision}`;
    const list = groups.get(key) ?? [];
    list.push(e);
    groups.set(key, list);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, list]) => ({
      key,
      entries: [...list].sort((a, b) => a.facts.name.localeCompare(b.facts.name) || b.facts.quantization.bits - a.facts.quantization.bits),
    }));
}
