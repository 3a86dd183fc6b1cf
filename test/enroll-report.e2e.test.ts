import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZDeviceDetailV1, ZDeviceListV1, type TDeviceDetailV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, ADMIN_TOKEN, type TestServer } from "./support/server.js";
import { startLocalAgent, TINY_SHA256, type LocalAgent } from "./support/localAgent.js";
import { startConsole } from "./support/console.js";

// The foundation path end to end: token -> enroll -> the real agent inventories and hashes the real GGUF ->
// signed reports over NATS JetStream -> server stores them in PostgreSQL -> REST API and console show them.
describe("enroll, report, store, show", () => {
  let srv: TestServer;
  let agent: LocalAgent;
  let token: string;
  let detail: TDeviceDetailV1;

  beforeAll(async () => {
    srv = await startTestServer();
    const res = await srv.admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 600, note: "e2e" }) });
    expect(res.status).toBe(201);
    token = ((await res.json()) as { token: string }).token;
    agent = await startLocalAgent({ serverUrl: srv.url, token, hostname: "e2e-ws-1" });
  });
  afterAll(async () => {
    await agent?.dispose();
    await srv?.close();
  });

  it("stores the agent's inventory, the model's sha256 and its GGUF architecture", async () => {
    detail = await waitFor(async () => {
      const r = await srv.admin(`/api/v1/devices/${agent.state.deviceId}`);
      if (r.status !== 200) return null;
      const d = ZDeviceDetailV1.parse(await r.json());
      return d.inventory && d.models.length > 0 && d.heartbeat ? d : null;
    }, "inventory, models and a heartbeat in the device detail", 30_000);

    expect(detail.device.hostname).toBe("e2e-ws-1");
    expect(detail.device.status).toBe("online");
    const model = detail.models.find((m) => m.fileName === "llama-2-tiny-random.gguf");
    expect(model?.sha256).toBe(TINY_SHA256);
    expect(model?.sizeBytes).toBe(1_750_560);
    expect(model?.gguf?.architecture).toBe("llama");
    expect(model?.gguf?.tokenizer).toBe("llama");
    // The inventory is this machine's, as systeminformation saw it.
    expect(detail.inventory?.inventory.cpu.cores).toBe(os.cpus().length);
    expect(detail.inventory?.inventory.memory.totalBytes).toBe(os.totalmem());
    expect(detail.inventory?.inventory.modelsDir.path).toBe(agent.modelsDir);
  });

  it("keeps the data in PostgreSQL, where the REST API read it from", async () => {
    const rows = await srv.db.prisma.installedModel.findMany({ where: { deviceId: agent.state.deviceId, removedAt: null } });
    expect(rows.map((r) => [r.sha256, r.architecture])).toEqual([[TINY_SHA256, "llama"]]);
    expect(await srv.db.prisma.inventorySnapshot.count({ where: { deviceId: agent.state.deviceId } })).toBeGreaterThanOrEqual(1);
    const seen = await srv.db.prisma.deviceLiveness.findUniqueOrThrow({ where: { deviceId: agent.state.deviceId } });
    expect(seen.lastSeenAt.getTime()).toBeGreaterThan(0);
  });

  it("lists the device with its CPU, RAM and short model hash, and filters by model", async () => {
    const list = ZDeviceListV1.parse(await (await srv.admin(`/api/v1/devices?modelSha256=${TINY_SHA256}`)).json());
    expect(list.total).toBe(1);
    expect(list.items[0]).toMatchObject({ id: agent.state.deviceId, status: "online", cpuCores: os.cpus().length });
    expect(list.items[0]!.models[0]!.sha256).toBe(TINY_SHA256);
    const none = ZDeviceListV1.parse(await (await srv.admin(`/api/v1/devices?modelSha256=${"0".repeat(64)}`)).json());
    expect(none.total).toBe(0);
  });

  it("refuses the same enrollment token a second time", async () => {
    const res = await fetch(`${srv.url}/api/v1/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, hostname: "thief", agentVersion: "0.1.0", publicKeyJwk: agent.state.publicJwk }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("enrollment_token_used");
  });

  it("shows the device and its model in the console pages", async () => {
    const web = await startConsole(srv.url, ADMIN_TOKEN);
    try {
      const fleet = await (await fetch(`${web.url}/devices`, { headers: { cookie: web.cookie } })).text();
      expect(fleet).toContain("e2e-ws-1");
      expect(fleet).toContain(TINY_SHA256.slice(0, 8));
      const page = await fetch(`${web.url}/devices/${agent.state.deviceId}`, { headers: { cookie: web.cookie } });
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain(TINY_SHA256);
      expect(html).toContain("llama");
      expect(html).not.toContain(ADMIN_TOKEN);
    } finally {
      await web.stop();
    }
  });
});
