import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "nats";
import { DEFAULT_ASSIGNMENT_BUCKET, signAssignment, type TReportV1 } from "@fleet/protocol";
import { startNatsServer, waitFor, type TestNatsServer } from "@fleet/test-utils";
import { loadAgentConfig } from "../config/loadAgentConfig.js";
import { AgentService } from "../reporting/AgentService.js";
import { createInferenceRuntime } from "../runtime/createInferenceRuntime.js";
import { knownGoodPath } from "../runtime/knownGood.js";
import type { InferenceRuntime } from "../runtime/InferenceRuntime.js";
import { quietLogger, TINY_MODEL } from "../runtime/testing/runtimeFixtures.js";
import { ReportsReader } from "../testing/ReportsReader.js";
import { makeTestIdentity } from "../testing/testState.js";
import { tempDir } from "../testing/tempDir.js";
import { CatalogUpdater } from "./CatalogUpdater.js";
import { TufTestRepo } from "./testing/TufTestRepo.js";

const PREFIX = `upd${Date.now() % 100000}.fleet.v1`;

/** The whole agent in process: an assignment put in the KV bucket ends as signed "update" reports up to active. */
describe("agent service with catalog updates", () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let cleanup: () => Promise<void>;
  let service: AgentService;
  let repo: TufTestRepo;

  afterAll(async () => {
    await service?.stop();
    await nc?.close().catch(() => {});
    await nats?.dispose();
    await repo?.close();
    await cleanup?.();
  });

  let reader: ReportsReader;
  let identity: Awaited<ReturnType<typeof makeTestIdentity>>;
  let tiny: Buffer;
  let runtimeRef: InferenceRuntime;
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect(nats.connectOptions());
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    identity = await makeTestIdentity({ natsUrl: nats.url, subjectPrefix: PREFIX }, nats);
    repo = new TufTestRepo(async (id) => (id === identity.state.deviceId ? identity.devicePublicKey : null));
    const serverUrl = await repo.listen();
    const state = { ...identity.state, serverUrl, catalogTrustedRoot: repo.trustedRoot, assignmentBucket: DEFAULT_ASSIGNMENT_BUCKET };
    const config = await loadAgentConfig({
      env: { FLEET_AGENT_HOME: path.join(tmp.dir, "home") },
      flags: { heartbeatIntervalSec: 0.2, runtime: { threads: 1, contextSize: 512, headroomBytes: 0, memoryBudgetBytes: 2 * 1024 ** 3, api: { enabled: false } }, update: { diskMarginBytes: 0 } },
    });
    await fs.mkdir(config.modelsDir, { recursive: true });
    await fs.copyFile(TINY_MODEL, path.join(config.modelsDir, "tiny.gguf"));
    tiny = await fs.readFile(TINY_MODEL);
    reader = new ReportsReader(nc, PREFIX, identity.devicePublicKey);
    await reader.createStream();
    await nc.jetstream().views.kv(DEFAULT_ASSIGNMENT_BUCKET, { history: 1 });
    const runtime = await createInferenceRuntime({
      config: config.runtime,
      modelsDir: config.modelsDir,
      apiToken: null,
      logger: quietLogger(),
      gpu: false,
      autoLoad: false,
      knownGoodFile: knownGoodPath(config.home),
    });
    expect(await runtime.loadConfigured()).toBe(true);
    runtimeRef = runtime;
    const g = (await runtime.inspect([{ id: "t", path: TINY_MODEL }]))[0]!.gguf!;
    repo.publish([
      {
        name: "tiny-7.gguf",
        bytes: tiny,
        custom: {
          architecture: g.architecture,
          parameterCount: g.parameterCount,
          shape: { layers: g.blockCount, headCount: g.headCount, kvHeads: g.headCountKv ?? g.headCount, embeddingLength: g.embeddingLength, vocabSize: g.vocabSize },
        },
      },
    ]);
    const updater = new CatalogUpdater({ home: config.home, modelsDir: config.modelsDir, serverUrl, state, config: config.update, runtime, logger: quietLogger() });
    service = new AgentService({ config, state, runtime, updater, tuning: { natsRetryMs: 100, stopDrainMs: 2000 } });
    await service.start();
  });

  it("reports inventory.runtime from the inference host, and every update step as a signed report", async () => {
    const inventory = await waitFor(async () => (await reader.readAll()).find((r) => r.kind === "inventory"), "inventory report");
    expect(inventory.kind === "inventory" && inventory.body.runtime).toMatchObject({ nodeLlamaCpp: expect.stringMatching(/^\d+\.\d+\.\d+/), backends: ["cpu"] });
    // the binding's own release string: a build tag ("b6000") is passed on, anything else (this machine's prebuilt
    // binary says "v0.5.0") is an unknown release
    const release = /@(\S+) \(/.exec((await runtimeRef.hostInfo()).llamaCpp)![1]!;
    expect(inventory.kind === "inventory" && inventory.body.runtime?.llamaCppRelease).toBe(/^b\d+$/.test(release) ? release : null);

    const sha256 = createHash("sha256").update(tiny).digest("hex");
    const jws = await signAssignment(
      {
        v: 1,
        deviceId: identity.state.deviceId,
        version: 1,
        issuedAt: new Date().toISOString(),
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        rolloutId: "6f1c1f0e-3a5b-4c5d-8e9f-0a1b2c3d4e5f",
        ring: 0,
        action: "install",
        desired: { target: "tiny-7.gguf", sha256, length: tiny.length },
        revokedSha256: [],
      },
      identity.serverPrivateKey,
    );
    await (await nc.jetstream().views.kv(DEFAULT_ASSIGNMENT_BUCKET)).put(identity.state.deviceId, jws);
    const updates = (all: TReportV1[]) => all.flatMap((r) => (r.kind === "update" ? [r.body] : []));
    const done = await waitFor(async () => updates(await reader.readAll()).find((u) => u.state === "active"), "active update report", 30_000);
    expect(done).toMatchObject({ assignmentVersion: 1, target: "tiny-7.gguf", sha256, serving: { model: "tiny-7.gguf", sha256 } });
    const states = updates(await reader.readAll()).map((u) => u.state);
    expect(states).toEqual(expect.arrayContaining(["pending", "downloading", "verifying", "testing", "active"]));
    const heartbeat = await waitFor(async () => (await reader.readAll()).find((r) => r.kind === "heartbeat" && r.body.runtime.activeModel === "tiny-7.gguf"), "heartbeat with the new model");
    expect(heartbeat).toBeTruthy();
  });
});
