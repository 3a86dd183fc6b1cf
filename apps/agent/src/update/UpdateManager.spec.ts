import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpdateFailure, type TAssignmentV1, type TDeviceEventV1, type TUpdateStatusV1 } from "@fleet/protocol";
import { createInferenceRuntime } from "../runtime/createInferenceRuntime.js";
import type { InferenceRuntime } from "../runtime/InferenceRuntime.js";
import { readKnownGood } from "../runtime/knownGood.js";
import { quietLogger, testRuntimeConfig, TINY_MODEL } from "../runtime/testing/runtimeFixtures.js";
import { makeTestIdentity } from "../testing/testState.js";
import { tempDir } from "../testing/tempDir.js";
import { ZUpdateConfig, type UpdateConfig } from "./config.js";
import { DeviceFetcher } from "./DeviceFetcher.js";
import { InstallLedger } from "./InstallLedger.js";
import { TufTestRepo, type TestTarget } from "./testing/TufTestRepo.js";
import { DOWNLOADS_DIR, UpdateManager } from "./UpdateManager.js";

const GiB = 1024 ** 3;

/**
 * The install pipeline against a TUF repository written and served by the test (device auth checked on every
 * request) and the real inference host serving the tiny model. Each threat must leave the previous model serving.
 */
describe("UpdateManager: safe install from the TUF catalog", () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let home: string;
  let modelsDir: string;
  let runtime: InferenceRuntime;
  let repo: TufTestRepo;
  let serverUrl: string;
  let identity: Awaited<ReturnType<typeof makeTestIdentity>>;
  let tiny: Buffer;
  let facts: Record<string, unknown>;
  const reports: TUpdateStatusV1[] = [];
  const events: TDeviceEventV1[] = [];
  let version = 0;

  async function manager(over: Partial<UpdateConfig> = {}): Promise<UpdateManager> {
    const ledger = InstallLedger.at(home);
    await ledger.load();
    return new UpdateManager({
      home,
      modelsDir,
      serverUrl,
      trustedRoot: repo.trustedRoot,
      config: ZUpdateConfig.parse({ diskMarginBytes: 0, stallTimeoutSec: 1, retrySec: 1, ...over }),
      runtime,
      fetcher: new DeviceFetcher(identity.state),
      ledger,
      report: (s) => reports.push(s),
      event: (level, kind, message) => events.push({ at: new Date().toISOString(), level, kind, message }),
      logger: quietLogger(),
    });
  }

  const target = (name: string, bytes: Buffer, custom = facts): TestTarget => ({ name, bytes, custom });
  const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
  const assignment = (name: string, bytes: Buffer): TAssignmentV1 => ({
    v: 1,
    deviceId: identity.state.deviceId,
    version: ++version,
    issuedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    rolloutId: "6f1c1f0e-3a5b-4c5d-8e9f-0a1b2c3d4e5f",
    ring: 0,
    action: "install",
    desired: { target: name, sha256: sha(bytes), length: bytes.length },
    revokedSha256: [],
  });
  const last = () => reports.at(-1)!;
  const serving = () => runtime.status().activeModel;
  const exists = (f: string) => fs.access(f).then(() => true, () => false);

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir());
    home = path.join(root, "home");
    modelsDir = path.join(root, "models");
    await fs.mkdir(modelsDir, { recursive: true });
    await fs.copyFile(TINY_MODEL, path.join(modelsDir, "tiny.gguf"));
    tiny = await fs.readFile(TINY_MODEL);
    identity = await makeTestIdentity();
    repo = new TufTestRepo(async (id) => (id === identity.state.deviceId ? identity.devicePublicKey : null));
    serverUrl = await repo.listen();
    runtime = await createInferenceRuntime({
      config: testRuntimeConfig({ memoryBudgetBytes: 2 * GiB, api: { enabled: false } }),
      modelsDir,
      apiToken: null,
      logger: quietLogger(),
      gpu: false,
      autoLoad: false,
      knownGoodFile: path.join(home, "known-good.json"),
    });
    expect(await runtime.loadConfigured()).toBe(true);
    // the facts the catalog server computes from the file's header on import
    const [h] = await runtime.inspect([{ id: "tiny", path: TINY_MODEL }]);
    const g = h!.gguf!;
    facts = {
      architecture: g.architecture,
      parameterCount: g.parameterCount,
      shape: { layers: g.blockCount, headCount: g.headCount, kvHeads: g.headCountKv ?? g.headCount, embeddingLength: g.embeddingLength, vocabSize: g.vocabSize },
    };
  });
  afterAll(async () => {
    await runtime?.stop();
    await repo?.close();
    await cleanup?.();
  });

  it("happy path: downloads, verifies, self-tests, switches and reports each step up to active", async () => {
    repo.publish([target("tiny-1.gguf", tiny)]);
    const m = await manager();
    expect(await m.apply(assignment("tiny-1.gguf", tiny))).toBe("done");
    const states = reports.map((r) => r.state);
    expect(states[0]).toBe("pending");
    expect(states).toEqual(expect.arrayContaining(["downloading", "verifying", "testing", "active"]));
    expect(states.indexOf("verifying")).toBeLessThan(states.indexOf("testing"));
    expect(last()).toMatchObject({ state: "active", target: "tiny-1.gguf", code: null, bytesDone: null, serving: { model: "tiny-1.gguf", sha256: sha(tiny) } });
    expect(last().selfTest).toMatchObject({ ok: true, error: null });
    expect(last().selfTest!.outputTokens).toBeGreaterThan(0);
    expect(last().selfTest!.tokensPerSecond).toBeGreaterThan(0);
    expect(reports.filter((r) => r.state === "downloading").at(-1)).toMatchObject({ bytesTotal: tiny.length });
    expect(serving()).toBe("tiny-1.gguf");
    expect(await readKnownGood(path.join(home, "known-good.json"))).toMatchObject({ model: "tiny-1.gguf" });
    expect(await fs.readdir(path.join(modelsDir, DOWNLOADS_DIR))).toEqual([]);
    expect(repo.refusedAuth).toEqual([]);
    expect(repo.artifactLog).toEqual([{ target: "tiny-1.gguf", range: null, status: 200 }]);
    const r = await runtime.generate({ kind: "completion", prompt: "hi" }, { maxTokens: 4 });
    expect(r.outputTokens).toBeGreaterThan(0);
  });

  it("threat 1: bytes that do not hash to the target are refused; the known-good keeps serving", async () => {
    reports.length = 0;
    repo.publish([target("tiny-1.gguf", tiny), target("tiny-2.gguf", tiny)]);
    const altered = Buffer.from(tiny);
    altered[altered.length - 10]! ^= 0xff;
    repo.artifactMode = { kind: "swap", bytes: altered };
    try {
      expect(await (await manager()).apply(assignment("tiny-2.gguf", tiny))).toBe("done");
    } finally {
      repo.artifactMode = { kind: "normal" };
    }
    expect(last()).toMatchObject({ state: "failed", code: UpdateFailure.HashMismatch, serving: { model: "tiny-1.gguf" } });
    expect(reports.map((r) => r.state)).not.toContain("testing");
    expect(serving()).toBe("tiny-1.gguf");
    expect(await exists(path.join(modelsDir, "tiny-2.gguf"))).toBe(false);
    expect(await fs.readdir(path.join(modelsDir, DOWNLOADS_DIR))).toEqual([]);
    expect(await readKnownGood(path.join(home, "known-good.json"))).toMatchObject({ model: "tiny-1.gguf" });
  });

  it("threat 7: a valid GGUF of another model under an approved name is refused", async () => {
    reports.length = 0;
    const shape = facts.shape as Record<string, number>;
    repo.publish([target("tiny-1.gguf", tiny), target("bigger-1.gguf", tiny, { ...facts, parameterCount: 8_030_261_248, shape: { ...shape, layers: 32 } })]);
    await (await manager()).apply(assignment("bigger-1.gguf", tiny));
    expect(last()).toMatchObject({ state: "failed", code: UpdateFailure.WrongModel });
    expect(last().reason).toMatch(/not the approved model: parameterCount \d+ \(catalog: 8030261248\), layers \d+ \(catalog: 32\)/);
    expect(serving()).toBe("tiny-1.gguf");
    expect(await exists(path.join(modelsDir, "bigger-1.gguf"))).toBe(false);
  });

  it("threat 9: a target that is not in the current targets metadata is refused before any download", async () => {
    reports.length = 0;
    const before = repo.artifactLog.length;
    await (await manager()).apply(assignment("ghost-1.gguf", tiny));
    expect(last()).toMatchObject({ state: "failed", code: UpdateFailure.NotInTargets });
    expect(repo.artifactLog.length).toBe(before);
    expect(serving()).toBe("tiny-1.gguf");
  });

  it("a truncated GGUF as the target fails its self-test and the previous model keeps serving", async () => {
    reports.length = 0;
    const cut = tiny.subarray(0, Math.floor(tiny.length * 0.6));
    repo.publish([target("tiny-1.gguf", tiny), target("cut-1.gguf", cut)]);
    await (await manager()).apply(assignment("cut-1.gguf", cut));
    expect(last()).toMatchObject({ state: "failed", code: UpdateFailure.SelfTestFailed, serving: { model: "tiny-1.gguf" } });
    expect(last().selfTest).toMatchObject({ ok: false });
    expect(reports.map((r) => r.state)).toContain("testing");
    expect(serving()).toBe("tiny-1.gguf");
    expect(await exists(path.join(modelsDir, "cut-1.gguf"))).toBe(false);
    expect((await runtime.servableModels()).map((m) => m.id)).not.toContain("cut-1.gguf");
  });

  it("threat 5: a server that sends endless data is cut off at the target length", async () => {
    reports.length = 0;
    repo.publish([target("tiny-1.gguf", tiny), target("endless-1.gguf", tiny)]);
    repo.artifactMode = { kind: "endless" };
    try {
      await (await manager()).apply(assignment("endless-1.gguf", tiny));
    } finally {
      repo.artifactMode = { kind: "normal" };
    }
    expect(last()).toMatchObject({ state: "failed", code: UpdateFailure.HashMismatch });
    expect(last().reason).toMatch(/more than the target's \d+ bytes/);
    expect(await fs.readdir(path.join(modelsDir, DOWNLOADS_DIR))).toEqual([]);
    expect(serving()).toBe("tiny-1.gguf");
  });

  it("threat 6: a stalled download times out, the agent keeps serving, and it resumes later without refetching", async () => {
    reports.length = 0;
    repo.publish([target("tiny-1.gguf", tiny), target("stall-1.gguf", tiny)]);
    const half = Math.floor(tiny.length / 2);
    repo.artifactMode = { kind: "stall-after", bytes: half };
    const m = await manager();
    const a = assignment("stall-1.gguf", tiny);
    const pending = m.apply(a);
    // responsive while the download hangs: the serving model answers
    const r = await runtime.generate({ kind: "completion", prompt: "still serving" }, { maxTokens: 4 });
    expect(r.outputTokens).toBeGreaterThan(0);
    expect(await pending).toBe("retry");
    expect(last()).toMatchObject({ state: "downloading", code: UpdateFailure.DownloadFailed, bytesTotal: tiny.length });
    expect(last().reason).toMatch(/stalled at \d+ of \d+ bytes/);
    repo.artifactMode = { kind: "normal" };
    expect(await m.apply(a)).toBe("done");
    expect(last()).toMatchObject({ state: "active", target: "stall-1.gguf" });
    const log = repo.artifactLog.filter((l) => l.target === "stall-1.gguf");
    expect(log).toEqual([
      { target: "stall-1.gguf", range: null, status: 200 },
      { target: "stall-1.gguf", range: `bytes=${half}-`, status: 206 },
    ]);
    expect(serving()).toBe("stall-1.gguf");
  });

  it("threat 3: an expired timestamp is refused (no clock skew is tolerated)", async () => {
    reports.length = 0;
    repo.publish([target("tiny-1.gguf", tiny), target("stall-1.gguf", tiny), target("late-1.gguf", tiny)], { timestampExpires: new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, "Z") });
    await (await manager()).apply(assignment("late-1.gguf", tiny));
    expect(last()).toMatchObject({ state: "failed", code: UpdateFailure.MetadataExpired });
    expect(serving()).toBe("stall-1.gguf");
  });

  it("threat 4: metadata mixed from two publications is refused", async () => {
    reports.length = 0;
    repo.publish([target("tiny-1.gguf", tiny), target("stall-1.gguf", tiny)]);
    const a = repo.saveMetadata();
    repo.publish([target("tiny-1.gguf", tiny), target("stall-1.gguf", tiny), target("mix-1.gguf", tiny)]);
    const current = repo.saveMetadata();
    repo.files.set("targets.json", a.get("targets.json")!);
    try {
      await (await manager()).apply(assignment("mix-1.gguf", tiny));
    } finally {
      repo.files = current;
    }
    expect(last()).toMatchObject({ state: "failed", code: UpdateFailure.MetadataInvalid });
    expect(serving()).toBe("stall-1.gguf");
  });

  it("threat 2: older timestamp/snapshot/targets (a replayed repository) are refused, also after an agent restart", async () => {
    reports.length = 0;
    repo.publish([target("tiny-1.gguf", tiny), target("stall-1.gguf", tiny), target("old-1.gguf", tiny)]);
    const old = repo.saveMetadata();
    repo.publish([target("tiny-1.gguf", tiny), target("stall-1.gguf", tiny)]);
    // the device learns the newer versions with a successful refresh (old-1 is not a target any more)
    await (await manager()).apply(assignment("old-1.gguf", tiny));
    expect(last()).toMatchObject({ state: "failed", code: UpdateFailure.NotInTargets });
    const current = repo.saveMetadata();
    repo.files = old;
    try {
      await (await manager()).apply(assignment("old-1.gguf", tiny));
      expect(last()).toMatchObject({ state: "failed", code: UpdateFailure.MetadataRollback });
      // a restarted agent (new manager, new ledger, same home): the trusted versions persisted in <home>/tuf
      await runtime.stop();
      runtime = await createInferenceRuntime({
        config: testRuntimeConfig({ memoryBudgetBytes: 2 * GiB, api: { enabled: false } }),
        modelsDir,
        apiToken: null,
        logger: quietLogger(),
        gpu: false,
        autoLoad: false,
        knownGoodFile: path.join(home, "known-good.json"),
      });
      expect(await runtime.loadConfigured()).toBe(true);
      expect(serving()).toBe("stall-1.gguf");
      await (await manager()).apply(assignment("old-1.gguf", tiny));
      expect(last()).toMatchObject({ state: "failed", code: UpdateFailure.MetadataRollback });
    } finally {
      repo.files = current;
    }
    expect(await exists(path.join(modelsDir, "old-1.gguf"))).toBe(false);
  });

  it("refuses to start a download that does not fit the disk", async () => {
    reports.length = 0;
    repo.publish([target("tiny-1.gguf", tiny), target("stall-1.gguf", tiny), target("huge-1.gguf", tiny)]);
    await (await manager({ diskMarginBytes: Number.MAX_SAFE_INTEGER - tiny.length })).apply(assignment("huge-1.gguf", tiny));
    expect(last()).toMatchObject({ state: "failed", code: UpdateFailure.DiskFull });
    expect(serving()).toBe("stall-1.gguf");
  });

  it("keeps the configured number of previous catalog versions and removes older ones, never the serving model", async () => {
    reports.length = 0;
    events.length = 0;
    await fs.writeFile(path.join(modelsDir, DOWNLOADS_DIR, "abandoned-1.gguf.0123456789abcdef.part"), "partial bytes of a target no longer assigned");
    repo.publish([target("stall-1.gguf", tiny), target("tiny-1.gguf", tiny), target("new-1.gguf", tiny)]);
    await (await manager({ keepPreviousVersions: 1 })).apply(assignment("new-1.gguf", tiny));
    expect(last()).toMatchObject({ state: "active", target: "new-1.gguf" });
    // installed: tiny-1 (oldest), stall-1, new-1 (serving): one previous version (stall-1) stays
    expect(await exists(path.join(modelsDir, "tiny-1.gguf"))).toBe(false);
    expect(await exists(path.join(modelsDir, "stall-1.gguf"))).toBe(true);
    expect(await exists(path.join(modelsDir, "tiny.gguf"))).toBe(true); // not a catalog install: never collected
    expect(events.filter((e) => e.kind === "update.collected").map((e) => e.message)).toEqual([expect.stringMatching(/^removed tiny-1\.gguf/)]);
    // a partial download of a target no longer assigned is collected too
    expect(await fs.readdir(path.join(modelsDir, DOWNLOADS_DIR))).toEqual([]);
  });

  it("a rollback to a version still on disk re-checks the catalog and switches without downloading", async () => {
    reports.length = 0;
    const before = repo.artifactLog.length;
    await (await manager()).apply({ ...assignment("stall-1.gguf", tiny), action: "rollback" });
    expect(last()).toMatchObject({ state: "rolled_back", target: "stall-1.gguf", serving: { model: "stall-1.gguf" } });
    expect(repo.artifactLog.length).toBe(before);
    expect(serving()).toBe("stall-1.gguf");
  });

  it("revoked hashes stop serving and are removed; another valid model takes over", async () => {
    reports.length = 0;
    events.length = 0;
    await (await manager()).apply({ ...assignment("stall-1.gguf", tiny), action: "clear", desired: null, revokedSha256: [sha(tiny)] });
    expect(serving()).toBe("tiny.gguf");
    expect(await exists(path.join(modelsDir, "stall-1.gguf"))).toBe(false);
    expect(await exists(path.join(modelsDir, "new-1.gguf"))).toBe(false);
    expect(events.filter((e) => e.kind === "update.revoked.removed")).toHaveLength(2);
    expect(last()).toMatchObject({ state: "active", target: null, serving: { model: "tiny.gguf" } });
  });

  it("a catalog install that the refreshed targets no longer list (revoked on the server) is removed at the next install", async () => {
    events.length = 0;
    repo.publish([target("tiny-1.gguf", tiny), target("again-1.gguf", tiny)]);
    expect(await exists(path.join(modelsDir, "new-1.gguf"))).toBe(false); // removed by the revocation above
    await (await manager()).apply(assignment("again-1.gguf", tiny));
    expect(last()).toMatchObject({ state: "active", target: "again-1.gguf" });
    await (await manager()).apply(assignment("tiny-1.gguf", tiny));
    expect(last()).toMatchObject({ state: "active", target: "tiny-1.gguf" });
    // the catalog drops again-1: at the next install the agent removes it (tiny-1 serves)
    repo.publish([target("tiny-1.gguf", tiny), target("next-1.gguf", tiny)]);
    await (await manager()).apply(assignment("next-1.gguf", tiny));
    expect(events.filter((e) => e.kind === "update.revoked.removed").map((e) => e.message)).toEqual([expect.stringMatching(/^again-1\.gguf was revoked/)]);
    expect(await exists(path.join(modelsDir, "again-1.gguf"))).toBe(false);
    expect(serving()).toBe("next-1.gguf");
  });
});
