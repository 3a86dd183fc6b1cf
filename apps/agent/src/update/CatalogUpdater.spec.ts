import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type KV, type NatsConnection } from "nats";
import { DEFAULT_ASSIGNMENT_BUCKET, generateSigningKeyPair, importPrivateJwk, signAssignment, type TAssignmentV1, type TDeviceEventV1, type TUpdateStatusV1 } from "@fleet/protocol";
import { startNatsServer, waitFor, type TestNatsServer } from "@fleet/test-utils";
import { agentNatsIdentity, agentNatsOptions } from "../reporting/agentNatsOptions.js";
import { createInferenceRuntime } from "../runtime/createInferenceRuntime.js";
import type { InferenceRuntime } from "../runtime/InferenceRuntime.js";
import { quietLogger, testRuntimeConfig, TINY_MODEL } from "../runtime/testing/runtimeFixtures.js";
import { makeTestIdentity } from "../testing/testState.js";
import { tempDir } from "../testing/tempDir.js";
import { CatalogUpdater } from "./CatalogUpdater.js";
import { ZUpdateConfig } from "./config.js";
import { TufTestRepo } from "./testing/TufTestRepo.js";
import { UpdateEvent } from "./UpdateEvent.js";
import { DOWNLOADS_DIR } from "./UpdateManager.js";

const GiB = 1024 ** 3;

/**
 * Assignments through a real nats-server in operator mode: the device connects as its own NATS user, whose
 * permissions allow only the direct get of its KV key and the `$KV.<bucket>.<deviceId>` subscription.
 */
describe("CatalogUpdater: signed assignments from the KV bucket", () => {
  let nats: TestNatsServer;
  let serverNc: NatsConnection;
  let deviceNc: NatsConnection;
  let kv: KV;
  let root: string;
  let cleanup: () => Promise<void>;
  let runtime: InferenceRuntime;
  let repo: TufTestRepo;
  let serverUrl: string;
  let identity: Awaited<ReturnType<typeof makeTestIdentity>>;
  let tiny: Buffer;
  const reports: TUpdateStatusV1[] = [];
  const events: TDeviceEventV1[] = [];
  let updater: CatalogUpdater;

  const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
  const assignment = (version: number, target: string): TAssignmentV1 => ({
    v: 1,
    deviceId: identity.state.deviceId,
    version,
    issuedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    rolloutId: null,
    ring: null,
    action: "install",
    desired: { target, sha256: sha(tiny), length: tiny.length },
    revokedSha256: [],
  });
  const newUpdater = (over: Record<string, unknown> = {}) =>
    new CatalogUpdater({
      home: path.join(root, "home"),
      modelsDir: path.join(root, "models"),
      serverUrl,
      state: { ...identity.state, catalogTrustedRoot: repo.trustedRoot, assignmentBucket: DEFAULT_ASSIGNMENT_BUCKET },
      config: ZUpdateConfig.parse({ diskMarginBytes: 0, ...over }),
      runtime,
      logger: quietLogger(),
    });
  const sink = { update: (s: TUpdateStatusV1) => reports.push(s), event: (e: TDeviceEventV1) => events.push(e) };

  beforeAll(async () => {
    nats = await startNatsServer({ auth: "jwt" });
    serverNc = await connect(nats.connectOptions());
    kv = await serverNc.jetstream().views.kv(DEFAULT_ASSIGNMENT_BUCKET, { history: 1 });
    ({ dir: root, cleanup } = await tempDir());
    await fs.mkdir(path.join(root, "models"), { recursive: true });
    await fs.copyFile(TINY_MODEL, path.join(root, "models", "tiny.gguf"));
    tiny = await fs.readFile(TINY_MODEL);
    identity = await makeTestIdentity({ natsUrl: nats.url }, nats);
    expect(identity.state.natsCreds).toBeTruthy();
    deviceNc = await connect(agentNatsOptions(nats.url, agentNatsIdentity(identity.state)));
    repo = new TufTestRepo(async (id) => (id === identity.state.deviceId ? identity.devicePublicKey : null));
    serverUrl = await repo.listen();
    runtime = await createInferenceRuntime({
      config: testRuntimeConfig({ memoryBudgetBytes: 2 * GiB, api: { enabled: false } }),
      modelsDir: path.join(root, "models"),
      apiToken: null,
      logger: quietLogger(),
      gpu: false,
      autoLoad: false,
    });
    expect(await runtime.loadConfigured()).toBe(true);
    // the catalog facts of the tiny model, as the server computes them on import
    const g = (await runtime.inspect([{ id: "t", path: TINY_MODEL }]))[0]!.gguf!;
    const custom = {
      architecture: g.architecture,
      parameterCount: g.parameterCount,
      shape: { layers: g.blockCount, headCount: g.headCount, kvHeads: g.headCountKv ?? g.headCount, embeddingLength: g.embeddingLength, vocabSize: g.vocabSize },
    };
    repo.publish([
      { name: "tiny-1.gguf", bytes: tiny, custom },
      { name: "tiny-2.gguf", bytes: tiny, custom },
      { name: "tiny-3.gguf", bytes: tiny, custom },
    ]);
  });
  afterAll(async () => {
    await updater?.stop();
    await runtime?.stop();
    await deviceNc?.close().catch(() => {});
    await serverNc?.close().catch(() => {});
    await nats?.dispose();
    await repo?.close();
    await cleanup?.();
  });

  it("acts on a live put to its key, and the device needs no JetStream management API", async () => {
    updater = newUpdater();
    await updater.start(sink);
    await updater.attach(deviceNc); // nothing assigned yet: the direct get finds no value
    await kv.put(identity.state.deviceId, await signAssignment(assignment(1, "tiny-1.gguf"), identity.serverPrivateKey));
    await waitFor(() => reports.find((r) => r.assignmentVersion === 1 && r.state === "active"), "v1 active", 30_000);
    expect(runtime.status().activeModel).toBe("tiny-1.gguf");
    await updater.idle();
    expect(updater.store.value).toMatchObject({ version: 1, done: true });
    // the device's NATS user really is limited: the stream management API is refused to it
    await expect(deviceNc.request(`$JS.API.STREAM.INFO.KV_${DEFAULT_ASSIGNMENT_BUCKET}`, undefined, { timeout: 1000 })).rejects.toThrow();
  });

  it("after a restart, reads its key with a direct get, refuses an older assignment replayed, and a forged one", async () => {
    await updater.stop();
    await kv.put(identity.state.deviceId, await signAssignment(assignment(2, "tiny-2.gguf"), identity.serverPrivateKey));
    updater = newUpdater();
    await updater.start(sink);
    await updater.attach(deviceNc); // the value was put while the agent was down: only the direct get sees it
    await waitFor(() => reports.find((r) => r.assignmentVersion === 2 && r.state === "active"), "v2 active", 30_000);
    expect(runtime.status().activeModel).toBe("tiny-2.gguf");
    await updater.idle();

    // restart again, then an attacker (or a stale server) puts the old, validly signed v1
    await updater.stop();
    updater = newUpdater();
    await updater.start(sink);
    await updater.attach(deviceNc);
    await kv.put(identity.state.deviceId, await signAssignment(assignment(1, "tiny-1.gguf"), identity.serverPrivateKey));
    const replay = await waitFor(() => events.find((e) => e.kind === UpdateEvent.AssignmentRefused && e.data?.reason === "replayed"), "replay refused");
    expect(replay).toMatchObject({ level: "warn", data: { version: 1, accepted: 2 } });
    const forger = await importPrivateJwk((await generateSigningKeyPair()).privateJwk);
    await kv.put(identity.state.deviceId, await signAssignment(assignment(9, "tiny-1.gguf"), forger));
    await waitFor(() => events.find((e) => e.kind === UpdateEvent.AssignmentRefused && e.data?.reason === "bad_signature"), "forgery refused");
    await updater.idle();
    expect(runtime.status().activeModel).toBe("tiny-2.gguf");
    expect(updater.store.value).toMatchObject({ version: 2, done: true });
    expect(reports.filter((r) => r.assignmentVersion === 1 && r.state === "active")).toHaveLength(1);
  });

  it("a download hanging when the agent stops ends at once, and resumes after the restart from the bytes on disk", async () => {
    await updater.stop();
    const half = Math.floor(tiny.length / 2);
    repo.artifactMode = { kind: "stall-after", bytes: half };
    // the server hangs mid-file and the stall timeout is long: only stopping the agent ends this attempt
    updater = newUpdater({ stallTimeoutSec: 600, retrySec: 3600 });
    await updater.start(sink);
    await updater.attach(deviceNc);
    await kv.put(identity.state.deviceId, await signAssignment(assignment(3, "tiny-3.gguf"), identity.serverPrivateKey));
    const part = path.join(root, "models", DOWNLOADS_DIR, `tiny-3.gguf.${sha(tiny).slice(0, 16)}.part`);
    await waitFor(async () => (await fs.stat(part).catch(() => null))?.size === half, "half the file on disk", 30_000);
    const t0 = Date.now();
    await updater.stop();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(updater.store.value).toMatchObject({ version: 3, done: false });

    repo.artifactMode = { kind: "normal" };
    updater = newUpdater();
    await updater.start(sink); // resumes the unfinished assignment before any NATS message
    await waitFor(() => reports.find((r) => r.assignmentVersion === 3 && r.state === "active"), "v3 active after the restart", 30_000);
    expect(repo.artifactLog.filter((l) => l.target === "tiny-3.gguf")).toEqual([
      { target: "tiny-3.gguf", range: null, status: 200 },
      { target: "tiny-3.gguf", range: `bytes=${half}-`, status: 206 },
    ]);
    expect(runtime.status().activeModel).toBe("tiny-3.gguf");
  });
});
