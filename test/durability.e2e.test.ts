import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "./support/server.js";
import { startLocalAgent, TINY_MODEL, type LocalAgent } from "./support/localAgent.js";

// NATS goes away while the agent keeps producing reports, and the agent itself restarts during the outage.
// After NATS returns, every report the agent signed arrives in PostgreSQL exactly once, none lost, none doubled.
describe("durability across a NATS outage and an agent restart", () => {
  let srv: TestServer;
  let agent: LocalAgent;

  beforeAll(async () => {
    srv = await startTestServer();
    const r = await srv.admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 600 }) });
    agent = await startLocalAgent({ serverUrl: srv.url, token: ((await r.json()) as { token: string }).token, hostname: "e2e-durable" });
  });
  afterAll(async () => {
    await agent?.dispose();
    await srv?.close();
  });

  const processedSeqs = async () =>
    (await srv.db.prisma.processedMessage.findMany({ where: { deviceId: agent.state.deviceId }, select: { seq: true }, orderBy: { seq: "asc" } })).map((r) => Number(r.seq));

  it("delivers every report exactly once, in order, after NATS and the agent restart", async () => {
    const deviceId = agent.state.deviceId;
    await waitFor(() => srv.db.prisma.installedModel.count({ where: { deviceId } }), "the first models report");

    await srv.nats.stop();
    await waitFor(() => !agent.service.status().connected, "the agent to notice the outage");

    // Work during the outage: new model files (models reports via the directory watcher) and forced snapshots.
    for (const name of ["tiny-v2.gguf", "tiny-v3.gguf"]) {
      await fs.copyFile(TINY_MODEL, path.join(agent.modelsDir, name));
      await agent.service.reportSnapshots(true);
    }
    await waitFor(() => agent.service.status().queueDepth >= 6, "reports to pile up in the on-disk queue");

    // The agent restarts with its backlog on disk, and produces more before NATS is back.
    await agent.restart();
    await agent.service.reportSnapshots(true);
    const backlog = agent.service.status().queueDepth;
    expect(backlog).toBeGreaterThanOrEqual(6);

    await srv.nats.start();
    await waitFor(() => agent.service.status().connected && agent.service.status().queueDepth === 0, "the backlog to drain", 60_000);
    await agent.stop();

    const produced = Number(await fs.readFile(path.join(agent.home, "queue", "seq"), "utf8"));
    const seqs = await waitFor(async () => {
      const s = await processedSeqs();
      return s.length >= produced ? s : null;
    }, `all ${produced} reports in the database`, 60_000);
    // Exactly once: every seq the agent ever signed, each one time, no gaps.
    expect(seqs).toEqual(Array.from({ length: produced }, (_, i) => i));

    // And the content made it: all three models are installed on the server.
    const models = await srv.db.prisma.installedModel.findMany({ where: { deviceId, removedAt: null } });
    expect(models.map((m) => m.fileName).sort()).toEqual(["llama-2-tiny-random.gguf", "tiny-v2.gguf", "tiny-v3.gguf"]);
  });
});
