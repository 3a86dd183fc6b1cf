import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZCatalogEntryV1, UpdateFailure, type TAssignmentV1, type TCatalogEntryV1, type TUpdateStatusV1 } from "@fleet/protocol";
import { createInferenceRuntime, DeviceFetcher, enroll, InstallLedger, readKnownGood, knownGoodPath, silentLogger, UpdateManager, ZRuntimeConfig, ZUpdateConfig, type AgentState, type InferenceRuntime } from "@fleet/agent";
import { startTestServer, type TestServer } from "./support/server.js";

const TINY = fileURLToPath(new URL("../../shared/models/llama-2-tiny-random.gguf", import.meta.url));

// The agent's install pipeline against the real server: the trusted root from enrollment, TUF metadata and the
// artifact served by the server's catalog (device-authenticated), facts computed by the server's import.
describe("agent installs an approved catalog entry from the real server", () => {
  let srv: TestServer;
  let home: string;
  let modelsDir: string;
  let state: AgentState;
  let runtime: InferenceRuntime;
  let entry: TCatalogEntryV1;
  const reports: TUpdateStatusV1[] = [];
  let version = 0;

  const manager = async () => {
    const ledger = InstallLedger.at(home);
    await ledger.load();
    return new UpdateManager({
      home,
      modelsDir,
      serverUrl: srv.url,
      trustedRoot: state.catalogTrustedRoot,
      config: ZUpdateConfig.parse({ diskMarginBytes: 0 }),
      runtime,
      fetcher: new DeviceFetcher(state),
      ledger,
      report: (s) => reports.push(s),
      event: () => {},
      logger: silentLogger(),
    });
  };
  const assignment = (): TAssignmentV1 => ({
    v: 1,
    deviceId: state.deviceId,
    version: ++version,
    issuedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    rolloutId: null,
    ring: null,
    action: "install",
    desired: { target: entry.targetPath, sha256: entry.facts.sha256, length: entry.facts.fileSizeBytes },
    revokedSha256: [],
  });

  beforeAll(async () => {
    srv = await startTestServer();
    home = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-e2e-update-"));
    modelsDir = path.join(home, "models");
    await fs.mkdir(modelsDir);
    await fs.copyFile(TINY, path.join(modelsDir, "llama-2-tiny-random.gguf"));
    const tok = await srv.admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 600, note: "update e2e" }) });
    state = await enroll({ serverUrl: srv.url, token: ((await tok.json()) as { token: string }).token, home });
    expect(state.catalogTrustedRoot).toMatch(/"_type":\s*"root"/);
    const imported = await srv.admin("/api/v1/catalog/import", {
      method: "POST",
      body: JSON.stringify({ name: "tiny", version: "1", source: { repository: "test/tiny", revision: "main" }, conversion: { method: "as is" }, license: "MIT", path: TINY }),
    });
    expect(imported.status).toBe(201);
    const draft = ZCatalogEntryV1.parse(await imported.json());
    const approved = await srv.admin(`/api/v1/catalog/${draft.id}/approve`, { method: "POST", body: JSON.stringify({ reason: "e2e" }) });
    expect(approved.status).toBe(200);
    entry = ZCatalogEntryV1.parse(await approved.json());
    runtime = await createInferenceRuntime({
      config: ZRuntimeConfig.parse({ threads: 1, contextSize: 512, headroomBytes: 0, memoryBudgetBytes: 2 * 1024 ** 3, api: { enabled: false } }),
      modelsDir,
      apiToken: null,
      logger: silentLogger(),
      gpu: false,
      autoLoad: false,
      knownGoodFile: knownGoodPath(home),
    });
    expect(await runtime.loadConfigured()).toBe(true);
  });
  afterAll(async () => {
    await runtime?.stop();
    await srv?.close();
    await fs.rm(home, { recursive: true, force: true });
  });

  it("downloads with device auth, checks TUF, hash and GGUF facts, self-tests and serves it", async () => {
    expect(await (await manager()).apply(assignment())).toBe("done");
    expect(reports.at(-1)).toMatchObject({ state: "active", target: "tiny-1.gguf", serving: { model: "tiny-1.gguf", sha256: entry.facts.sha256 } });
    expect(reports.at(-1)!.selfTest).toMatchObject({ ok: true });
    expect(runtime.status().activeModel).toBe("tiny-1.gguf");
    expect(await readKnownGood(knownGoodPath(home))).toMatchObject({ model: "tiny-1.gguf" });
  });

  it("once the entry is revoked on the server, the agent stops serving it, removes it, and refuses to install it again", async () => {
    const revoked = await srv.admin(`/api/v1/catalog/${entry.id}/revoke`, { method: "POST", body: JSON.stringify({ reason: "e2e" }) });
    expect(revoked.status).toBe(200);
    await (await manager()).apply(assignment());
    expect(reports.at(-1)).toMatchObject({ state: "failed", code: UpdateFailure.NotInTargets, serving: { model: "llama-2-tiny-random.gguf" } });
    expect(runtime.status().activeModel).toBe("llama-2-tiny-random.gguf");
    await expect(fs.access(path.join(modelsDir, "tiny-1.gguf"))).rejects.toThrow();
  });
});
