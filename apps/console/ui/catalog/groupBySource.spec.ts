import { describe, expect, it } from "vitest";
import type { TCatalogEntryV1 } from "@fleet/protocol";
import { groupBySource } from "./groupBySource";

function entry(id: string, repository: string, bits: number): TCatalogEntryV1 {
  return { id, facts: { name: "m", source: { repository, revision: "r1" }, quantization: { type: `Q${bits}`, bits, groupSize: 32 } } } as unknown as TCatalogEntryV1;
}

describe("groupBySource", () => {
  it("puts quantizations of the same source together and keeps other sources apart", () => {
    const groups = groupBySource([entry("a", "org/x", 4), entry("b", "org/y", 8), entry("c", "org/x", 8)]);
    expect(groups.map((g) => g.key)).toEqual(["org/x@r1", "org/y@r1"]);
    expect(groups[0]!.entries.map((e) => e.id)).toEqual(["c", "a"]);
  });
});
