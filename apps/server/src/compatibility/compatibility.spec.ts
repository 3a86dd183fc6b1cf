import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZCatalogEntryV1, ZCompatibilitySummaryV1, type ReportBody, type TCatalogEntryV1, type TCompatibilityV1, type TRuntimeInfoV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import type { SimDevice } from "../testing/device-sim.js";
import { inventoryBody } from "../testing/fixtures.js";
import { CompatibilityService } from "./compatibility.service.js";

const TINY = "/work/shared/models/llama-2-tiny-random.gguf";
const GIB = 1024 ** 3;
const CUDA: TRuntimeInfoV1 = { nodeLlamaCpp: "3.22.1", llamaCppRelease: "b6000", backends: ["cpu", "cuda"] };
const CPU: TRuntimeInfoV1 = { nodeLlamaCpp: "3.22.1", llamaCppRelease: "b6000", backends: ["cpu"] };
const RTX = (vramGiB: number) => ({ vendor: "NVIDIA", model: "RTX", vramBytes: vramGiB * GIB, vramFreeBytes: vramGiB * GIB, driverVersion: "550", bus: "PCIe" });

let t: TestServer;
let gpu: SimDevice; // 64 GiB + 24 GiB NVIDIA, CUDA runtime
let cpu: SimDevice; // 16 GiB, no GPU
let tiny: SimDevice; // 512 MiB: nothing fits beside the 1 GiB headroom
let entryA: TCatalogEntryV1;

function inventory(ramGiB: number, gpus: ReportBody<"inventory">["gpus"], runtime: TRuntimeInfoV1 | null): ReportBody<"inventory"> {
  const base = inventoryBody({ gpus });
  return { ...base, memory: { ...base.memory, totalBytes: ramGiB * GIB, availableBytes: (ramGiB * GIB) / 2, freeBytes: (ramGiB * GIB) / 2 }, runtime };
}

async function publishInventory(dev: SimDevice, body: ReportBody<"inventory">): Promise<void> {
  const report = dev.report("inventory", body);
  await dev.publish(report);
  await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: report.msgId } }), `inventory ${report.msgId}`);
}

async function importAndApprove(name: string, runtime?: { minNodeLlamaCpp: string | null; minLlamaCppRelease: string | null }): Promise<TCatalogEntryV1> {
  const res = await t.admin("/api/v1/catalog/import", {
    method: "POST",
    body: JSON.stringify({ name, version: "1", source: { repository: "r", revision: "v" }, conversion: { method: "m" }, license: "MIT", path: TINY, runtime }),
  });
  expect(res.status).toBe(201);
  const e = ZCatalogEntryV1.parse(await res.json());
  expect((await t.admin(`/api/v1/catalog/${e.id}/approve`, { method: "POST", body: JSON.stringify({ reason: "ok" }) })).status).toBe(200);
  return e;
}

const get = async (p: string): Promise<any> => {
  const res = await t.admin(p);
  expect(res.status, p).toBe(200);
  return res.json();
};

const classOf = async (deviceId: string, entryId: string) =>
  (await t.db.prisma.deviceCompatibility.findUnique({ where: { deviceId_entryId: { deviceId, entryId } } }))?.class ?? null;

beforeAll(async () => {
  t = await startTestServer();
  [gpu, cpu, tiny] = await Promise.all([t.enrollDevice("gpu-box"), t.enrollDevice("cpu-box"), t.enrollDevice("tiny-box")]);
  await publishInventory(gpu, inventory(64, [RTX(24)], CUDA));
  await publishInventory(cpu, inventory(16, [], CPU));
  await publishInventory(tiny, inventory(0.5, [], CPU));
  await t.db.prisma.device.update({ where: { id: gpu.id }, data: { labels: { group: "lab" } } });
  entryA = await importAndApprove("tiny-a");
  await waitFor(async () => (await t.db.prisma.deviceCompatibility.count({ where: { entryId: entryA.id } })) === 3 || null, "rows after approval");
});

afterAll(async () => {
  await t?.close();
});

describe("compatibility", () => {
  it("classifies every device x approved entry from the latest inventory", async () => {
    expect(await classOf(gpu.id, entryA.id)).toBe("gpu-full");
    expect(await classOf(cpu.id, entryA.id)).toBe("cpu-only");
    expect(await classOf(tiny.id, entryA.id)).toBe("does-not-fit");
    const row = await t.db.prisma.deviceCompatibility.findUniqueOrThrow({ where: { deviceId_entryId: { deviceId: tiny.id, entryId: entryA.id } } });
    expect(row.reason).toMatch(/does not fit/);
    expect(row.hardwareClass).toMatch(/gpu-none/);
  });

  it("serves the matrix with filters and pagination", async () => {
    const all = await get(`/api/v1/compatibility?entryId=${entryA.id}`);
    expect(all.total).toBe(3);
    const cpuOnly = await get(`/api/v1/compatibility?entryId=${entryA.id}&class=cpu-only`);
    expect(cpuOnly.items.map((r: TCompatibilityV1) => r.hostname)).toEqual(["cpu-box"]);
    expect(cpuOnly.items[0].targetPath).toBe("tiny-a-1.gguf");
    expect(cpuOnly.items[0].plan.placement).toBe("cpu");
    const lab = await get(`/api/v1/compatibility?group=lab`);
    expect(lab.items.map((r: TCompatibilityV1) => r.deviceId)).toEqual([gpu.id]);
    const hw = all.items.find((r: TCompatibilityV1) => r.deviceId === gpu.id).hardwareClass as string;
    expect((await get(`/api/v1/compatibility?hardwareClass=${encodeURIComponent(hw)}`)).total).toBe(1);
    expect((await get(`/api/v1/compatibility?deviceId=${cpu.id}`)).total).toBe(1);
    const page = await get(`/api/v1/compatibility?entryId=${entryA.id}&pageSize=2&page=2`);
    expect(page).toMatchObject({ total: 3, page: 2, pageSize: 2 });
    expect(page.items).toHaveLength(1);
    expect((await t.admin("/api/v1/compatibility?class=bogus")).status).toBe(400);
    expect((await fetch(`${t.url}/api/v1/compatibility`)).status).toBe(401);
  });

  it("summarises an entry per class and per hardware class", async () => {
    const s = ZCompatibilitySummaryV1.parse(await get(`/api/v1/catalog/${entryA.id}/compatibility`));
    expect(s.totals).toEqual({ "gpu-full": 1, "gpu-partial": 0, "cpu-only": 1, "does-not-fit": 1, "incompatible-runtime": 0 });
    expect(s.byHardwareClass).toHaveLength(3);
    expect(s.byHardwareClass.reduce((n, h) => n + Object.values(h.counts).reduce((a, b) => a + b, 0), 0)).toBe(3);
    expect((await t.admin("/api/v1/catalog/00000000-0000-4000-8000-000000000000/compatibility")).status).toBe(404);
    expect((await t.admin("/api/v1/catalog/not-a-uuid/compatibility")).status).toBe(400);
  });

  it("recomputes a device after its next inventory report (debounced, off the ingestion path)", async () => {
    await publishInventory(cpu, inventory(16, [RTX(12)], CUDA));
    await waitFor(async () => ((await classOf(cpu.id, entryA.id)) === "gpu-full" ? true : null), "cpu-box reclassified");
    const late = await t.enrollDevice("late-box");
    await publishInventory(late, inventory(32, [], CPU));
    await waitFor(async () => ((await classOf(late.id, entryA.id)) === "cpu-only" ? true : null), "late device classified");
  });

  it("marks runtimes below an entry's requirement, and learned incompatibilities, as incompatible-runtime", async () => {
    const needsNew = await importAndApprove("tiny-new-runtime", { minNodeLlamaCpp: "99.0.0", minLlamaCppRelease: null });
    await waitFor(async () => ((await t.db.prisma.deviceCompatibility.count({ where: { entryId: needsNew.id, class: "incompatible-runtime" } })) === 4 ? true : null), "runtime rows");
    const compat = t.server.app.get(CompatibilityService);
    await compat.learnIncompatibility(entryA.id, CUDA, "self-test: unknown model architecture", gpu.id);
    // gpu-box and (now CUDA) cpu-box share the runtime key; CPU-only runtimes are unaffected
    expect(await classOf(gpu.id, entryA.id)).toBe("incompatible-runtime");
    expect(await classOf(cpu.id, entryA.id)).toBe("incompatible-runtime");
    expect(await classOf(tiny.id, entryA.id)).toBe("does-not-fit");
    const row = await t.db.prisma.deviceCompatibility.findUniqueOrThrow({ where: { deviceId_entryId: { deviceId: gpu.id, entryId: entryA.id } } });
    expect(row.reason).toMatch(/unknown model architecture/);
    expect(await t.db.prisma.runtimeIncompatibility.count({ where: { entryId: entryA.id } })).toBe(1);
    expect(await t.db.prisma.auditLog.count({ where: { action: "catalog.runtime_incompatible", targetId: entryA.id } })).toBe(1);
  });
});
