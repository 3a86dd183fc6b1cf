import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ZInventoryV1 } from "@fleet/protocol";
import { collectInventory, InventoryCollector } from "./collectInventory.js";

describe("collectInventory", () => {
  it("describes this machine in a valid ZInventoryV1", async () => {
    const inv = await collectInventory(os.tmpdir());
    expect(ZInventoryV1.safeParse(inv).success).toBe(true);
    expect(inv.cpu.cores).toBe(os.cpus().length);
    expect(inv.memory.totalBytes).toBe(os.totalmem());
    expect(inv.os.hostname).toBe(os.hostname());
    expect(inv.os.arch).toBe(process.arch === "x64" ? "x64" : inv.os.arch);
    expect(inv.modelsDir.path).toBe(os.tmpdir());
    expect(inv.modelsDir.sizeBytes).toBeGreaterThan(0);
    expect(inv.disks.length).toBeGreaterThan(0);
    for (const g of inv.gpus) if (g.vramBytes !== null) expect(g.vramBytes % (1024 * 1024)).toBe(0);
  });

  it("measures a models dir that does not exist yet on its nearest existing parent", async () => {
    const inv = await new InventoryCollector(path.join(os.tmpdir(), "no", "such", "models")).collect();
    expect(inv.modelsDir.freeBytes).toBeGreaterThan(0);
  });

  it("reuses the static part but re-reads memory", async () => {
    const c = new InventoryCollector(os.tmpdir());
    const a = await c.collect();
    const b = await c.collect();
    expect(b.cpu).toEqual(a.cpu);
    expect(b.collectedAt >= a.collectedAt).toBe(true);
  });
});
