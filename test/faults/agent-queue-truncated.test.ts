import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "../support/server.js";
import { startLocalAgent, type LocalAgent } from "../support/localAgent.js";

// A crash (or a damaged disk) cuts one queued record off mid-write while NATS is away. On restart the agent
// keeps every intact record, says it lost exactly one, and the server stores each intact one exactly once.
describe("fault: agent disk queue truncated mid-record", () => {
  let srv: TestServer;
  let agent: LocalAgent;

  beforeAll(async () => {
    srv = await startTestServer();
    const r = await srv.admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 600 }) });
    agent = await startLocalAgent({ serverUrl: srv.url, token: ((await r.json()) as { token: string }).token, hostname: "fault-truncated-queue" });
  });
  afterAll(async () => {
    await agent?.dispose();
    await srv?.close();
  });

  it("recovers the intact records, counts the broken one, and nothing is duplicated", async () => {
    const deviceId = agent.state.deviceId;
    await waitFor(() => srv.db.prisma.installedModel.count({ where: { deviceId } }), "the first models report");
    await srv.nats.stop();
    await waitFor(() => !agent.service.status().connected, "the agent to notice the outage");
    await agent.service.reportSnapshots(true);
    await agent.service.reportSnapshots(true);
    await waitFor(() => agent.service.status().queueDepth >= 4, "reports to pile up in the on-disk queue");
    await agent.stop();

    const queueDir = path.join(agent.home, "queue");
    const files = (await fs.readdir(queueDir)).filter((n) => n.endsWith(".json")).sort();
    const victim = files[Math.floor(files.length / 2)]!;
    const victimSeq = Number(victim.slice(0, 20));
    const full = await fs.readFile(path.join(queueDir, victim));
    await fs.truncate(path.join(queueDir, victim), Math.floor(full.length / 2)); // cut mid-record

    await agent.restart();
    expect(agent.service.status().queueLost).toBe(1);
    expect(agent.service.status().queueDepth).toBeGreaterThanOrEqual(files.length - 1);

    await srv.nats.start();
    await waitFor(() => agent.service.status().connected && agent.service.status().queueDepth === 0, "the backlog to drain", 30_000);
    await agent.stop();

    const produced = Number(await fs.readFile(path.join(queueDir, "seq"), "utf8"));
    const expected = Array.from({ length: produced }, (_, i) => i).filter((s) => s !== victimSeq);
    const seqs = await waitFor(async () => {
      const rows = await srv.db.prisma.processedMessage.findMany({ where: { deviceId }, select: { seq: true }, orderBy: { seq: "asc" } });
      return rows.length >= expected.length ? rows.map((r) => Number(r.seq)) : null;
    }, `the ${expected.length} intact reports in the database`, 30_000);
    // Exactly once: every intact seq one time; only the truncated one is missing.
    expect(seqs).toEqual(expected);
  });
});
