import { describe, expect, it } from "vitest";
import { buildMatrix } from "./buildMatrix";

const A = "00000000-0000-4000-8000-000000000001";
const B = "00000000-0000-4000-8000-000000000002";

describe("buildMatrix", () => {
  it("counts runnable devices per entry and hardware class, columns the union of classes", () => {
    const m = buildMatrix([
      { entryId: A, targetPath: "a.gguf", totals: {} as never, byHardwareClass: [{ hardwareClass: "ram-8g", counts: { "cpu-only": 2, "does-not-fit": 1 } as never }] },
      { entryId: B, targetPath: "b.gguf", totals: {} as never, byHardwareClass: [{ hardwareClass: "ram-32g/gpu-nvidia-12g", counts: { "gpu-full": 3 } as never }] },
    ]);
    expect(m.hardwareClasses).toEqual(["ram-32g/gpu-nvidia-12g", "ram-8g"]);
    expect(m.rows[0]!.cells["ram-8g"]).toEqual({ runnable: 2, total: 3 });
    expect(m.rows[0]!.cells["ram-32g/gpu-nvidia-12g"]).toBeUndefined();
    expect(m.rows[1]!.cells["ram-32g/gpu-nvidia-12g"]).toEqual({ runnable: 3, total: 3 });
  });
});
