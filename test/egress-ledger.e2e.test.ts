import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZCatalogEntryV1, ZEgressLedgerV1, ZRolloutV1, type TEgressLedgerV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "./support/server.js";
import { TINY } from "./support/realAgent.js";
import { outboundOf, plainAddress, processTree, type ProcSocket } from "./support/procSockets.js";

const agentCli = fileURLToPath(new URL("../apps/agent/dist/cli/main.js", import.meta.url));
const resources = { maxInferenceThreads: null, maxCpuSharePct: null, backgroundOnlyOnAcPower: false, backgroundOnlyWhenIdle: false, idleCpuPctBelow: 50, backgroundNice: 10, backgroundIoniceClass: "none" };

/**
 * A real agent PROCESS (fleet-agent enroll, then fleet-agent run with its inference host child) against the real
 * server and NATS: it enrolls, reports, and installs a catalog model through a rollout (TUF metadata + artifact
 * download). Throughout, the sockets its processes hold are read from /proc; every established outbound connection
 * must be in the agent's outbound ledger, and the ledger must list exactly the endpoints used, with real bytes.
 * The fleet's policy says telemetry off: no runtime metrics may reach the server.
 */
/**
 * A TCP proxy in front of the server that holds each connection's first answer back 300 ms: the agent's short HTTP
 * connections (TUF metadata, the artifact) then stay open long enough for the /proc sampler to see every one.
 */
async function slowProxy(target: URL): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    let first = true;
    upstream.on("data", (chunk: Buffer) => {
      if (!first) return void client.write(chunk);
      first = false;
      upstream.pause();
      setTimeout(() => {
        client.write(chunk);
        upstream.resume();
      }, 300);
    });
    upstream.on("end", () => setTimeout(() => client.end(), 300));
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

describe("outbound ledger vs /proc", () => {
  let srv: TestServer;
  let proxy: Awaited<ReturnType<typeof slowProxy>>;
  let home: string;
  let agent: ChildProcess | null = null;
  let stderr = "";

  beforeAll(async () => {
    srv = await startTestServer();
    proxy = await slowProxy(new URL(srv.url));
    const off = await srv.admin("/api/v1/policies/device", { method: "PUT", body: JSON.stringify({ privacy: { telemetry: "off", remoteFallback: "off" }, resources }) });
    expect(off.status, await off.clone().text()).toBe(200);
    home = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-e2e-egress-"));
    await fs.mkdir(path.join(home, "models"));
    await fs.copyFile(TINY, path.join(home, "models", "llama-2-tiny-random.gguf"));
    await fs.writeFile(
      path.join(home, "config.json"),
      JSON.stringify({
        modelsDir: path.join(home, "models"),
        heartbeatIntervalSec: 1,
        postureIntervalSec: 1,
        logLevel: "warn",
        runtime: { threads: 1, contextSize: 512, headroomBytes: 0, memoryBudgetBytes: 2 * 1024 ** 3, metricsIntervalSec: 1, api: { enabled: false } },
        update: { diskMarginBytes: 0, assignmentPollSec: 1, retrySec: 1 },
      }),
    );
  });
  afterAll(async () => {
    if (agent && agent.exitCode === null) agent.kill("SIGKILL");
    await proxy?.close();
    await srv?.close();
    await fs.rm(home, { recursive: true, force: true });
  });

  it("every outbound connection of the agent's processes is in its ledger, which lists exactly the endpoints used", async () => {
    const tok = await srv.admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 600 }) });
    const token = ((await tok.json()) as { token: string }).token;
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, [agentCli, "enroll", "--server", proxy.url, "--token", token, "--home", home], { timeout: 30_000 }, (err, _o, e) => (err ? reject(new Error(`${err.message}: ${e}`)) : resolve())),
    );
    const state = JSON.parse(await fs.readFile(path.join(home, "state.json"), "utf8")) as { deviceId: string };
    expect((await srv.admin(`/api/v1/devices/${state.deviceId}/labels`, { method: "PUT", body: JSON.stringify({ group: "egress" }) })).status).toBe(200);

    agent = spawn(process.execPath, [agentCli, "run", "--home", home], { stdio: ["ignore", "ignore", "pipe"] });
    agent.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const pid = agent.pid!;

    // /proc, sampled every 20 ms for the whole run: every outbound connection any of its processes held
    const seen = new Map<string, ProcSocket & { pids: Set<number> }>();
    const treeSizes = new Set<number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const tree = await processTree(pid);
        treeSizes.add(tree.length);
        for (const [k, s] of await outboundOf(tree)) {
          const prev = seen.get(k);
          if (prev) prev.pids.add(s.pid);
          else seen.set(k, { ...s, pids: new Set([s.pid]) });
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    try {
      // a catalog model installed through a rollout: TUF metadata and the artifact, downloaded by the agent
      const imported = await srv.admin("/api/v1/catalog/import", {
        method: "POST",
        body: JSON.stringify({ name: "tiny", version: "2", source: { repository: "test/tiny", revision: "main" }, conversion: { method: "as is" }, license: "MIT", memoryContextSize: 512, path: TINY }),
      });
      expect(imported.status).toBe(201);
      const draft = ZCatalogEntryV1.parse(await imported.json());
      const entry = ZCatalogEntryV1.parse(await (await srv.admin(`/api/v1/catalog/${draft.id}/approve`, { method: "POST", body: JSON.stringify({ reason: "e2e" }) })).json());
      await waitFor(async () => {
        const r = await srv.admin(`/api/v1/catalog/${entry.id}/compatibility`);
        if (r.status !== 200) return null;
        const totals = ((await r.json()) as { totals: Record<string, number> }).totals;
        return (totals["cpu-only"] ?? 0) + (totals["gpu-full"] ?? 0) + (totals["gpu-partial"] ?? 0) === 1 ? totals : null;
      }, `the device is compatible (agent stderr: ${stderr})`, 30_000);
      const gates = { maxFailureRate: 0, minSuccesses: 1, minLoadSuccessRate: 0, maxErrorRate: 1, minTokensPerSecRatio: null };
      const res = await srv.admin("/api/v1/rollouts", { method: "POST", body: JSON.stringify({ entryId: entry.id, group: "egress", rings: [{ name: "all", percent: 100, soakSec: 0, gates }] }) });
      expect(res.status, await res.clone().text()).toBe(201);
      const created = ZRolloutV1.parse(await res.json());
      await waitFor(async () => ZRolloutV1.parse(await (await srv.admin(`/api/v1/rollouts/${created.id}`)).json()).state === "completed", "rollout completed", 40_000);
      // the ledger reached the server too, with the downloads in it
      await waitFor(async () => {
        const rows = await srv.db.prisma.egressDestination.findMany({ where: { deviceId: state.deviceId } });
        return rows.some((r) => r.purpose === "model-download" && r.bytesReceived > 0n) ? rows : null;
      }, "a ledger with the artifact download stored", 20_000);
    } finally {
      sampling = false;
      await sampler;
      agent.kill("SIGTERM");
      await new Promise((r) => (agent!.exitCode !== null ? r(null) : agent!.once("exit", r)));
    }

    // the inference host was part of the tree that was watched
    expect(Math.max(...treeSizes)).toBeGreaterThanOrEqual(2);
    const ledger: TEgressLedgerV1 = ZEgressLedgerV1.parse(JSON.parse(await fs.readFile(path.join(home, "egress-ledger.json"), "utf8")));
    const inLedger = new Set(ledger.entries.filter((e) => e.address).map((e) => `${plainAddress(e.address!)}:${e.port}`));
    const missing = [...seen.entries()].filter(([k]) => !inLedger.has(`${plainAddress(k.slice(0, k.lastIndexOf(":")))}:${k.slice(k.lastIndexOf(":") + 1)}`));
    expect(missing.map(([k, s]) => `${k} (pids ${[...s.pids].join(",")})`), "connections in /proc but not in the ledger").toEqual([]);
    // /proc showed both kinds: the NATS connection and the (held open) HTTP connections to the control plane
    const seenPorts = new Set([...seen.values()].map((s) => s.remotePort));
    expect(seenPorts.has(Number(new URL(srv.nats.url).port)), "NATS seen in /proc").toBe(true);
    expect(seenPorts.has(Number(new URL(proxy.url).port)), "control-plane HTTP seen in /proc").toBe(true);
    console.info(`/proc showed ${seen.size} outbound connection(s): ${[...seen.keys()].join(", ")}`);

    const server = new URL(proxy.url);
    const nats = new URL(srv.nats.url);
    const used = ledger.entries.filter((e) => e.purpose !== "local-probe");
    expect(used.map((e) => `${e.purpose} ${e.host}:${e.port}`).sort()).toEqual(
      [...new Set([`catalog-metadata ${server.hostname}:${server.port}`, `enrollment ${server.hostname}:${server.port}`, `messaging ${nats.hostname}:${nats.port}`, `model-download ${server.hostname}:${server.port}`])].sort(),
    );
    for (const e of used) {
      expect(e.bytesSent, `${e.purpose} bytes sent`).toBeGreaterThan(0);
      expect(e.bytesReceived, `${e.purpose} bytes received`).toBeGreaterThan(0);
      expect(e.connections).toBeGreaterThan(0);
    }
    // the artifact is the biggest download: its bytes are the wire's, not an estimate
    expect(used.find((e) => e.purpose === "model-download")!.bytesReceived).toBeGreaterThan((await fs.stat(TINY)).size);

    // telemetry off (signed fleet policy): heartbeats and posture went out, runtime metrics never did
    const posture = await srv.db.prisma.postureReport.findFirstOrThrow({ where: { deviceId: state.deviceId }, orderBy: { receivedAt: "desc" } });
    expect(posture.telemetry).toBe("off");
    expect(await srv.db.prisma.heartbeat.count({ where: { deviceId: state.deviceId } })).toBeGreaterThan(0);
    expect(await srv.db.prisma.runtimeMetric.count({ where: { deviceId: state.deviceId } })).toBe(0);
  });
});
