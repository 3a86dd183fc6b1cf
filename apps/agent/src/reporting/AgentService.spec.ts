import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AckPolicy, connect, type NatsConnection } from "nats";
import type { CryptoKey } from "jose";
import { COMMAND_TTL_MS, generateSigningKeyPair, importPrivateJwk, signCommand, subjects, type TCommandBodyV1, type TReportV1 } from "@fleet/protocol";
import { startNatsServer, waitFor, type TestNatsServer } from "@fleet/test-utils";
import { loadAgentConfig } from "../config/loadAgentConfig.js";
import type { AgentConfig } from "../config/ZAgentConfig.js";
import { DiskQueue } from "../queue/DiskQueue.js";
import type { AgentState } from "../state/ZAgentState.js";
import { ReportsReader } from "../testing/ReportsReader.js";
import { makeTestIdentity } from "../testing/testState.js";
import { tempDir, TINY_MODEL, TINY_MODEL_SHA256 } from "../testing/tempDir.js";
import type { BenchmarkCommand, RuntimeHooks } from "../runtime/RuntimeHooks.js";
import type { TBenchmarkResultV1, TRuntimeMetricsV1 } from "@fleet/protocol";
import { AgentService } from "./AgentService.js";

/**
 * Stands in for the inference runtime (built and tested in src/runtime) so this file tests only the reporting
 * side of the seam: what the runtime hands over must arrive signed, and a benchmark must not block reporting.
 */
class SeamRuntime implements RuntimeHooks {
  benchmarks: string[] = [];
  maxConcurrent = 0;
  private running = 0;
  stopped = false;
  private metricsTaken = 0;
  status() {
    return { state: "ready" as const, activeModel: "tiny.gguf" };
  }
  takeMetrics(): TRuntimeMetricsV1 | null {
    if (this.metricsTaken++ > 0) return null; // nothing happened since
    const now = new Date().toISOString();
    return { windowStart: now, windowEnd: now, models: [{ modelId: "tiny.gguf", sha256: TINY_MODEL_SHA256, requests: 3, errors: 0, promptTokens: 30, outputTokens: 12, ttftMs: { p50: 2, p95: 4 }, tpotMs: { p50: 0.7, p95: 0.9 } }], loads: [] };
  }
  async runBenchmark(command: BenchmarkCommand, commandId: string): Promise<TBenchmarkResultV1> {
    this.benchmarks.push(commandId);
    this.maxConcurrent = Math.max(this.maxConcurrent, ++this.running);
    await new Promise((r) => setTimeout(r, 300)).finally(() => this.running--);
    return {
      commandId, at: new Date().toISOString(), ok: true, error: null,
      model: { id: "tiny.gguf", sha256: TINY_MODEL_SHA256, architecture: "llama", type: null, sizeBytes: 1750560, parameterCount: 513048, quantization: "F16" },
      build: { nodeLlamaCpp: "3.22.1", llamaCpp: "b0000" },
      hardware: { cpu: "test", cpuCores: 2, gpus: [], backends: ["cpu"], ramTotalBytes: 1, vramTotalBytes: 0, powerMode: "unknown" },
      settings: { nPrompt: command.nPrompt, nGen: command.nGen, repetitions: command.repetitions, batchSize: 512, threads: 1, kvType: "f16", gpuLayers: 0, mmap: true, contextSize: 512 },
      promptProcessing: { mean: 1000, stddev: 10, samples: [1000] }, generation: { mean: 900, stddev: 5, samples: [900] },
      memory: { peakRssBytes: 1, peakVramBytes: 0 },
    };
  }
  localApiExposure() {
    return { enabled: true, bindAddress: "127.0.0.1", port: 11435, loopbackOnly: true, authRequired: true, corsAllowedOrigins: [] };
  }
  async stop() {
    this.stopped = true;
  }
}

const PREFIX = `t${Date.now() % 100000}.fleet.v1`;
const TUNING = { natsRetryMs: 100, commandRetryMs: 200, watchDebounceMs: 100, stopDrainMs: 3000 };

describe("AgentService against a private nats-server", () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let root: string;
  let cleanup: () => Promise<void>;
  let identity: Awaited<ReturnType<typeof makeTestIdentity>>;
  let state: AgentState;
  let config: AgentConfig;
  let reader: ReportsReader;
  let service: AgentService | null = null;

  const signedCommand = async (body: TCommandBodyV1, opts: { deviceId?: string; key?: CryptoKey; issuedAt?: Date } = {}) => {
    const issuedAt = opts.issuedAt ?? new Date();
    const cmd = {
      v: 1 as const, commandId: randomUUID(), deviceId: opts.deviceId ?? state.deviceId, issuedAt: issuedAt.toISOString(),
      expiresAt: new Date(issuedAt.getTime() + COMMAND_TTL_MS).toISOString(), body,
    };
    return { commandId: cmd.commandId, jws: await signCommand(cmd, opts.key ?? identity.serverPrivateKey) };
  };
  const serverCommand = async (body: TCommandBodyV1, opts: { deviceId?: string; key?: CryptoKey; issuedAt?: Date } = {}) => {
    const { commandId, jws } = await signedCommand(body, opts);
    await nc.jetstream().publish(subjects(PREFIX).command(state.deviceId), jws);
    return commandId;
  };
  const eventsOf = (all: TReportV1[]) => all.flatMap((e) => (e.kind === "events" ? e.body.events : []));
  const reportsOf = (all: TReportV1[], kind: TReportV1["kind"]) => all.filter((r) => r.kind === kind);

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect(nats.connectOptions());
    ({ dir: root, cleanup } = await tempDir());
    identity = await makeTestIdentity({ natsUrl: nats.url, subjectPrefix: PREFIX }, nats);
    state = identity.state;
    config = await loadAgentConfig({ env: { FLEET_AGENT_HOME: path.join(root, "home") }, flags: { heartbeatIntervalSec: 0.3 } });
    await fs.mkdir(config.modelsDir, { recursive: true });
    await fs.copyFile(TINY_MODEL, path.join(config.modelsDir, "tiny.gguf"));
    reader = new ReportsReader(nc, PREFIX, identity.devicePublicKey);
    await reader.createStream();
  });
  afterAll(async () => {
    await service?.stop();
    await nc?.close().catch(() => {});
    await nats?.dispose();
    await cleanup?.();
  });

  it("sends signed inventory, models, posture and heartbeats", async () => {
    service = new AgentService({ config, state, tuning: TUNING });
    await service.start();
    const all = await waitFor(async () => {
      const r = await reader.readAll();
      return reportsOf(r, "heartbeat").length >= 2 && reportsOf(r, "posture").length ? r : null;
    }, "first reports");
    expect(all.every((r) => r.deviceId === state.deviceId)).toBe(true);
    const [inv] = reportsOf(all, "inventory");
    expect(inv?.kind === "inventory" && inv.body.modelsDir.path).toBe(config.modelsDir);
    const [models] = reportsOf(all, "models");
    expect(models?.kind === "models" && models.body.models.map((m) => [m.fileName, m.sha256, m.gguf?.architecture])).toEqual([
      ["tiny.gguf", TINY_MODEL_SHA256, "llama"],
    ]);
    const [posture] = reportsOf(all, "posture");
    expect(posture?.kind === "posture" && posture.body).toMatchObject({
      telemetry: "metrics-only",
      promptsLeaveDevice: false,
      remoteFallback: { enabled: false },
      localApi: { enabled: false },
      outbound: [{ purpose: "control-plane" }, { purpose: "messaging", url: expect.stringContaining(`127.0.0.1:${nats.port}`) }],
    });
    const hb = reportsOf(all, "heartbeat")[0];
    expect(hb?.kind === "heartbeat" && hb.body).toMatchObject({ runtime: { state: "disabled", activeModel: null } });
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i));
  });

  it("acts on signed commands and refuses unsigned or misaddressed ones", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "FLEET_COMMANDS", subjects: [subjects(PREFIX).allCommands()] });
    // as the server does at enrollment: the device may only read its consumer, never create it
    await jsm.consumers.add("FLEET_COMMANDS", { durable_name: `agent-${state.deviceId}`, filter_subject: subjects(PREFIX).command(state.deviceId), ack_policy: AckPolicy.Explicit });
    const before = (await reader.readAll()).length;

    await serverCommand({ type: "report-now" });
    const rogue = await generateSigningKeyPair();
    await serverCommand({ type: "report-now" }, { key: await importPrivateJwk(rogue.privateJwk) });
    await serverCommand({ type: "report-now" }, { deviceId: "someone-else" });
    await nc.jetstream().publish(subjects(PREFIX).command(state.deviceId), JSON.stringify({ type: "report-now" }));
    const benchId = await serverCommand({ type: "benchmark", modelId: null, nPrompt: 8, nGen: 4, repetitions: 1 });

    const after = await waitFor(async () => {
      const r = (await reader.readAll()).slice(before);
      const events = reportsOf(r, "events").flatMap((e) => (e.kind === "events" ? e.body.events : []));
      return events.length >= 4 ? { r, events } : null;
    }, "command outcomes");
    // report-now forces fresh snapshots even though nothing changed
    expect(reportsOf(after.r, "inventory")).toHaveLength(1);
    expect(reportsOf(after.r, "models")).toHaveLength(1);
    const refused = after.events.filter((e) => e.kind === "command.refused").map((e) => e.data?.reason);
    expect(refused.sort()).toEqual(["bad_signature", "bad_signature", "device_mismatch"]);
    const unavailable = after.events.find((e) => e.kind === "command.benchmark.unavailable");
    expect(unavailable?.data).toEqual({ commandId: benchId });
  });

  it("runs a command once and refuses an expired one (a replay of a captured command does nothing)", async () => {
    const before = (await reader.readAll()).length;
    const { commandId, jws } = await signedCommand({ type: "report-now" });
    await nc.jetstream().publish(subjects(PREFIX).command(state.deviceId), jws);
    await nc.jetstream().publish(subjects(PREFIX).command(state.deviceId), jws); // replayed
    await serverCommand({ type: "report-now" }, { issuedAt: new Date("2001-09-09T01:46:40Z") });
    const after = await waitFor(async () => {
      const r = (await reader.readAll()).slice(before);
      return eventsOf(r).filter((e) => e.kind === "command.refused").length >= 2 ? r : null;
    }, "replay and expiry refused");
    const refused = eventsOf(after).filter((e) => e.kind === "command.refused");
    expect(refused.map((e) => e.data?.reason).sort()).toEqual(["expired", "replayed"]);
    expect(refused.find((e) => e.data?.reason === "replayed")?.data?.detail).toContain(commandId);
    // the first delivery did run: one forced models snapshot
    expect(reportsOf(after, "models")).toHaveLength(1);
    // remembered in the agent home, for the next run
    expect(await fs.readFile(path.join(config.home, "seen-commands.json"), "utf8")).toContain(commandId);
  });

  it("a report the queue cannot take is counted, reported once the queue accepts again, and the snapshots re-sent", async () => {
    await waitFor(() => service!.status().queueDepth === 0, "queue drained");
    const before = (await reader.readAll()).length;
    const queueDir = path.join(config.home, "queue");
    // the queue's directory is gone (as unwritable as a full disk for the atomic writes) while snapshots are taken
    await fs.rename(queueDir, `${queueDir}.away`);
    await service!.reportSnapshots(true);
    const down = service!.status();
    expect(down.notQueued).toBeGreaterThanOrEqual(3); // inventory, models, posture
    expect(down.lastQueueError).toMatch(/ENOENT/);
    await fs.rename(`${queueDir}.away`, queueDir); // space is back; the next heartbeat gets through
    const after = await waitFor(async () => {
      const r = (await reader.readAll()).slice(before);
      return eventsOf(r).some((e) => e.kind === "reports.not-queued") && reportsOf(r, "posture").length && reportsOf(r, "inventory").length ? r : null;
    }, "the loss reported and the snapshots re-sent");
    const lost = eventsOf(after).find((e) => e.kind === "reports.not-queued")!;
    expect(lost.level).toBe("error");
    expect(lost.data?.lost).toMatchObject({ inventory: 1, models: 1, posture: 1 });
    expect(reportsOf(after, "models").length).toBeGreaterThanOrEqual(1);
    expect(service!.status().notQueued).toBe(0);
  });

  it("reports the events the runtime raises", async () => {
    const before = (await reader.readAll()).length;
    service!.reportEvent({ at: new Date().toISOString(), level: "warn", kind: "model.load.failed", message: "truncated GGUF", data: { model: "x.gguf" } });
    const event = await waitFor(async () => {
      const r = (await reader.readAll()).slice(before);
      return reportsOf(r, "events").flatMap((e) => (e.kind === "events" ? e.body.events : [])).find((e) => e.kind === "model.load.failed") ?? null;
    }, "the runtime's event");
    expect(event).toMatchObject({ level: "warn", message: "truncated GGUF", data: { model: "x.gguf" } });
  });

  it("keeps reports on disk through a NATS outage and delivers each exactly once, in seq order", async () => {
    await nats.stop();
    await waitFor(() => !service!.status().connected, "agent sees the outage");
    await service!.reportSnapshots(true);
    await fs.copyFile(TINY_MODEL, path.join(config.modelsDir, "second.gguf")); // the watcher reports it
    await waitFor(() => service!.status().queueDepth >= 4, "reports queued during the outage");
    const queuedKinds = (await DiskQueue.inspect(path.join(config.home, "queue"))).kinds;
    expect(queuedKinds.heartbeat ?? 0).toBeLessThanOrEqual(1); // heartbeats are not queued while disconnected (one may race the drop)
    await new Promise((r) => setTimeout(r, 1500)); // five heartbeat intervals pass while down
    // Still at most the one that began before the drop (on a loaded machine it may reach the disk only now); queued
    // heartbeats would be about five by now.
    expect((await DiskQueue.inspect(path.join(config.home, "queue"))).kinds.heartbeat ?? 0).toBeLessThanOrEqual(1);

    await nats.start();
    await waitFor(() => service!.status().connected && service!.status().queueDepth === 0, "queue drained after reconnect", 30_000);
    // The watcher's models report hashes second.gguf first: on a loaded machine it is queued after the snapshots, and
    // may reach the stream only after the queue above had drained. The test's own connection may still be
    // reconnecting, and JetStream recovering, right after a restart (readAll throws meanwhile).
    const all = await waitFor(async () => {
      const reports = await reader.readAll();
      const lastModels = reportsOf(reports, "models").at(-1);
      return lastModels?.kind === "models" && lastModels.body.models.some((m) => m.fileName === "second.gguf") ? reports : null;
    }, "the models report with second.gguf delivered", 30_000);
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i)); // every seq once, in order, none missing
    expect(new Set(all.map((r) => r.msgId)).size).toBe(all.length);
    const lastModels = reportsOf(all, "models").at(-1);
    expect(lastModels?.kind === "models" && lastModels.body.models.map((m) => m.fileName).sort()).toEqual(["second.gguf", "tiny.gguf"]);
  });

  it("delivers reports left on disk by a previous run", async () => {
    await nats.stop();
    await waitFor(() => !service!.status().connected, "agent sees the outage");
    await service!.reportSnapshots(true);
    const left = service!.status().queueDepth;
    expect(left).toBeGreaterThanOrEqual(3);
    await service!.stop();
    service = null;
    // every report queued before the stop is still on disk, and maybe one more: stop() waits for reports still being
    // collected (a heartbeat begun before the drop, late on a loaded machine) and they are queued, not dropped
    const onDisk = await DiskQueue.inspect(path.join(config.home, "queue"));
    expect(onDisk.depth).toBeGreaterThanOrEqual(left);
    const leftSeqs = (await fs.readdir(path.join(config.home, "queue"))).filter((n) => n.endsWith(".json")).map((n) => Number(n.split(".")[0]));

    await nats.start();
    service = new AgentService({ config, state, tuning: TUNING });
    await service.start();
    await waitFor(async () => service!.status().queueDepth === 0 && (await reader.readAll()).length > 0, "old queue delivered", 30_000);
    // the test's own connection may still be reconnecting, and JetStream recovering, right after a restart
    const all = await waitFor(() => reader.readAll(), "stream readable after the restart");
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i));
    const delivered = new Set(all.map((r) => r.seq));
    expect(leftSeqs.every((s) => delivered.has(s))).toBe(true);
    // the new run continues the sequence after the old run's last report
    expect(Math.max(...all.map((r) => r.seq))).toBeGreaterThan(Math.max(...leftSeqs));
  });

  it("reports what the runtime hands over: posture, status, metrics and benchmark results", async () => {
    await service?.stop();
    const runtime = new SeamRuntime();
    const rtConfig = { ...config, runtime: { ...config.runtime, metricsIntervalSec: 1 } };
    service = new AgentService({ config: rtConfig, state, runtime, tuning: TUNING });
    // the previous test restarted nats-server: the reader's connection may still be reconnecting (as there, 30 s)
    const before = (await waitFor(() => reader.readAll(), "stream readable", 30_000)).length;
    await service.start();
    const benchId = await serverCommand({ type: "benchmark", modelId: null, nPrompt: 8, nGen: 4, repetitions: 1 });
    const r = await waitFor(async () => {
      const all = (await reader.readAll()).slice(before);
      return reportsOf(all, "benchmark").length && reportsOf(all, "metrics").length && reportsOf(all, "heartbeat").length ? all : null;
    }, "runtime reports");
    const posture = reportsOf(r, "posture")[0];
    expect(posture?.kind === "posture" && posture.body.localApi).toMatchObject({ enabled: true, loopbackOnly: true, authRequired: true });
    const hb = reportsOf(r, "heartbeat")[0];
    expect(hb?.kind === "heartbeat" && hb.body.runtime).toEqual({ state: "ready", activeModel: "tiny.gguf" });
    const bench = reportsOf(r, "benchmark")[0];
    expect(bench?.kind === "benchmark" && bench.body.commandId).toBe(benchId);
    expect(runtime.benchmarks).toEqual([benchId]);
    const metrics = reportsOf(r, "metrics")[0];
    expect(metrics?.kind === "metrics" && metrics.body.models[0]?.requests).toBe(3);

    // at most one benchmark at a time: a second one while the first runs is refused with the reason
    const first = await serverCommand({ type: "benchmark", modelId: null, nPrompt: 8, nGen: 4, repetitions: 1 });
    const second = await serverCommand({ type: "benchmark", modelId: null, nPrompt: 8, nGen: 4, repetitions: 1 });
    const busy = await waitFor(async () => {
      const all = (await reader.readAll()).slice(before);
      const done = reportsOf(all, "benchmark").some((b) => b.kind === "benchmark" && b.body.commandId === first);
      return done ? eventsOf(all).find((e) => e.kind === "command.benchmark.busy") ?? null : null;
    }, "second benchmark refused");
    expect(busy.data).toEqual({ commandId: second, running: first });
    expect(runtime.benchmarks).toEqual([benchId, first]);
    expect(runtime.maxConcurrent).toBe(1);
    await service.stop();
    service = null;
    expect(runtime.stopped).toBe(true);
  });
});
