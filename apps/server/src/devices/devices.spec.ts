import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZDeviceListV1, type TDeviceListV1, type TReportV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { PresenceService } from "./presence.service.js";
import type { SimDevice } from "../testing/device-sim.js";
import { heartbeatBody, inventoryBody, modelEntry, modelsBody } from "../testing/fixtures.js";

let t: TestServer;
let nv: SimDevice; // NVIDIA GPU, tiny model, online
let amd: SimDevice; // AMD GPU (an NVIDIA one only in an old snapshot), other model, offline
let quiet: SimDevice; // never reported
let gone: SimDevice; // revoked
const OTHER_SHA = "b".repeat(64);

async function publishAndWait(dev: SimDevice, report: TReportV1) {
  await dev.publish(report);
  await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: report.msgId } }), `report ${report.msgId}`);
}

const list = async (qs = ""): Promise<TDeviceListV1> => {
  const res = await t.admin(`/api/v1/devices${qs}`);
  expect(res.status).toBe(200);
  return ZDeviceListV1.parse(await res.json());
};
const hostnames = (l: TDeviceListV1) => l.items.map((d) => d.hostname);

beforeAll(async () => {
  t = await startTestServer({ OFFLINE_AFTER_SEC: "60" });
  nv = await t.enrollDevice("alpha-nv");
  amd = await t.enrollDevice("bravo-amd");
  quiet = await t.enrollDevice("charlie-quiet");
  gone = await t.enrollDevice("delta-gone");
  await publishAndWait(nv, nv.report("inventory", inventoryBody({ gpus: [inventoryBody().gpus[0]!] })));
  await publishAndWait(nv, nv.report("models", modelsBody([modelEntry("tiny.gguf")])));
  await publishAndWait(nv, nv.report("heartbeat", heartbeatBody()));
  await publishAndWait(amd, amd.report("inventory", inventoryBody({ gpus: [inventoryBody().gpus[0]!] })));
  await publishAndWait(amd, amd.report("inventory", inventoryBody({ gpus: [inventoryBody().gpus[1]!] })));
  await publishAndWait(amd, amd.report("models", modelsBody([modelEntry("other.gguf", OTHER_SHA)])));
  // amd was last seen two minutes ago: offline. Liveness is flushed from memory every second, so write the pending
  // lastSeenAt first; otherwise a later flush would put amd's real (recent) time back over the backdated one.
  await t.server.app.get(PresenceService).flush();
  await t.db.prisma.deviceLiveness.update({ where: { deviceId: amd.id }, data: { lastSeenAt: new Date(Date.now() - 120_000) } });
  await t.admin(`/api/v1/devices/${gone.id}/revoke`, { method: "POST" });
});
afterAll(async () => t?.close());

describe("GET /api/v1/devices", () => {
  it("lists all devices by hostname with derived status and summary fields", async () => {
    const l = await list();
    expect(l.total).toBe(4);
    expect(l.page).toBe(1);
    expect(l.pageSize).toBe(50);
    expect(hostnames(l)).toEqual(["alpha-nv", "bravo-amd", "charlie-quiet", "delta-gone"]);
    expect(l.items.map((d) => d.status)).toEqual(["online", "offline", "never_seen", "revoked"]);
    const alpha = l.items[0]!;
    expect(alpha.gpus).toEqual([{ vendor: "NVIDIA", model: "RTX 4070 Laptop", vramBytes: 8 * 2 ** 30 }]);
    expect(alpha.models).toEqual([{ fileName: "tiny.gguf", sha256: expect.any(String), architecture: "llama", quantization: "F16" }]);
    expect(alpha.cpuCores).toBe(16);
    expect(l.items[2]!.cpu).toBeNull();
  });

  it("filters by status", async () => {
    expect(hostnames(await list("?status=online"))).toEqual(["alpha-nv"]);
    expect(hostnames(await list("?status=offline"))).toEqual(["bravo-amd"]);
    expect(hostnames(await list("?status=never_seen"))).toEqual(["charlie-quiet"]);
    expect(hostnames(await list("?status=revoked"))).toEqual(["delta-gone"]);
  });

  it("filters by q on a hostname substring (any case) or an exact device id", async () => {
    expect(hostnames(await list("?q=BRAVO"))).toEqual(["bravo-amd"]);
    expect(hostnames(await list(`?q=${quiet.id}`))).toEqual(["charlie-quiet"]);
    expect((await list(`?q=${quiet.id.slice(0, -1)}`)).total).toBe(0);
    expect((await list("?q=zzz")).total).toBe(0);
  });

  it("filters by GPU vendor of the latest inventory only", async () => {
    expect(hostnames(await list("?gpuVendor=nvidia"))).toEqual(["alpha-nv"]);
    expect(hostnames(await list("?gpuVendor=amd"))).toEqual(["bravo-amd"]);
    expect((await list("?gpuVendor=intel")).total).toBe(0);
    expect((await list("?gpuVendor=%25")).total).toBe(0);
  });

  it("filters by installed model sha256", async () => {
    expect(hostnames(await list(`?modelSha256=${OTHER_SHA}`))).toEqual(["bravo-amd"]);
    const bad = await t.admin("/api/v1/devices?modelSha256=xyz");
    expect(bad.status).toBe(400);
  });

  it("paginates with a stable order and the full total", async () => {
    const p1 = await list("?pageSize=3&page=1");
    const p2 = await list("?pageSize=3&page=2");
    expect(p1.total).toBe(4);
    expect(p2.total).toBe(4);
    expect(hostnames(p1)).toEqual(["alpha-nv", "bravo-amd", "charlie-quiet"]);
    expect(hostnames(p2)).toEqual(["delta-gone"]);
    expect((await list("?pageSize=3&page=3")).items).toEqual([]);
  });

  it("sorts by lastSeenAt with never-seen devices last in both directions, the same across page boundaries", async () => {
    const unseen = [quiet, gone].sort((a, b) => (a.id < b.id ? -1 : 1)).map((d) => (d === quiet ? "charlie-quiet" : "delta-gone"));
    expect(hostnames(await list("?sort=-lastSeenAt"))).toEqual(["alpha-nv", "bravo-amd", ...unseen]);
    expect(hostnames(await list("?sort=lastSeenAt"))).toEqual(["bravo-amd", "alpha-nv", ...unseen]);
    // pages that straddle the seen / never-seen boundary, and one after it
    expect(hostnames(await list("?sort=-lastSeenAt&pageSize=3&page=1"))).toEqual(["alpha-nv", "bravo-amd", unseen[0]]);
    expect(hostnames(await list("?sort=-lastSeenAt&pageSize=3&page=2"))).toEqual([unseen[1]]);
    expect(hostnames(await list("?sort=-lastSeenAt&pageSize=1&page=4"))).toEqual([unseen[1]]);
    expect((await list("?sort=-lastSeenAt&pageSize=1&page=4")).total).toBe(4);
    expect(hostnames(await list("?sort=lastSeenAt&pageSize=3&page=1"))).toEqual(["bravo-amd", "alpha-nv", unseen[0]]);
    expect(hostnames(await list("?sort=lastSeenAt&pageSize=1&page=2"))).toEqual(["alpha-nv"]);
    expect(hostnames(await list("?sort=lastSeenAt&pageSize=3&page=2"))).toEqual([unseen[1]]);
    // a filter on the device row (status) with the seen part read from the liveness index
    expect(hostnames(await list("?status=offline&sort=lastSeenAt"))).toEqual(["bravo-amd"]);
    expect(hostnames(await list("?q=v&sort=-lastSeenAt"))).toEqual(["alpha-nv", "bravo-amd"]);
    expect(hostnames(await list("?sort=-enrolledAt"))).toEqual(["delta-gone", "charlie-quiet", "bravo-amd", "alpha-nv"]);
  });

  it("takes q literally (no LIKE wildcards)", async () => {
    expect((await list("?q=%25")).total).toBe(0);
    expect((await list("?q=lph_")).total).toBe(0); // "_" as a wildcard would match "alpha"
    expect(hostnames(await list("?q=-NV"))).toEqual(["alpha-nv"]);
  });

  it("combines filters", async () => {
    expect(hostnames(await list("?status=online&gpuVendor=nvidia&q=alpha"))).toEqual(["alpha-nv"]);
    expect((await list("?status=offline&gpuVendor=nvidia")).total).toBe(0);
  });
});

describe("list totals", () => {
  it("are counted again at once when a device enrolls (they are otherwise reused per filter for a few seconds)", async () => {
    expect((await list()).total).toBe(4);
    await t.enrollDevice("echo-late");
    expect((await list("?pageSize=2&page=3")).total).toBe(5);
  });
});

describe("GET /api/v1/devices/:id", () => {
  it("returns the detail of a never-seen device with empty sections", async () => {
    const res = await t.admin(`/api/v1/devices/${quiet.id}`);
    const d = (await res.json()) as Record<string, unknown>;
    expect(d).toMatchObject({ inventory: null, inventoryHistory: [], models: [], posture: null, heartbeat: null });
  });

  it("keeps at most 20 snapshots in the detail history, newest first", async () => {
    for (let i = 0; i < 21; i++) await nv.publish(nv.report("inventory", inventoryBody({ ramFreeBytes: 1000 + i })));
    await waitFor(async () => (await t.db.prisma.inventorySnapshot.count({ where: { deviceId: nv.id } })) === 22, "22 snapshots");
    const d = (await (await t.admin(`/api/v1/devices/${nv.id}`)).json()) as { inventoryHistory: { ramFreeBytes: number }[] };
    expect(d.inventoryHistory).toHaveLength(20);
    expect(d.inventoryHistory[0]!.ramFreeBytes).toBe(1020);
  });
});
