import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZCatalogEntryV1, type TCatalogEntryV1 } from "@fleet/protocol";
import { startTestServer, type TestServer } from "../testing/test-server.js";

const TINY = "/work/shared/models/llama-2-tiny-random.gguf";
const SYNTH_TOOL = "/work/shared/tools/make-synthetic-gguf.mjs";
const TINY_SHA = createHash("sha256").update(fs.readFileSync(TINY)).digest("hex");

let t: TestServer;
let tmp: string;
let artifacts: string;

const importBody = (over: Record<string, unknown> = {}) => ({
  name: "tiny-llama",
  version: "1.0",
  source: { repository: "https://huggingface.co/test/tiny", revision: "abc123" },
  conversion: { method: "llama.cpp convert_hf_to_gguf.py b6000" },
  license: "MIT",
  path: TINY,
  ...over,
});

async function importPath(over: Record<string, unknown> = {}) {
  return t.admin("/api/v1/catalog/import", { method: "POST", body: JSON.stringify(importBody(over)) });
}

async function entry(res: Response): Promise<TCatalogEntryV1> {
  const body: unknown = await res.json();
  expect(res.status, JSON.stringify(body)).toBeLessThan(300);
  return ZCatalogEntryV1.parse(body);
}

const json = async (res: Response): Promise<any> => res.json();

const artifactFiles = () => (fs.existsSync(artifacts) ? fs.readdirSync(artifacts).sort() : []);

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "catalog-spec-"));
  t = await startTestServer({ FLEET_UPLOAD_MAX_BYTES: String(4 * 1024 * 1024) });
  artifacts = path.join(t.config.dataDir, "artifacts");
});

afterAll(async () => {
  await t?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("catalog import", () => {
  it("imports a GGUF from a server path: hash, size and GGUF facts computed by the server, stored content-addressed", async () => {
    const e = await entry(await importPath());
    expect(e.state).toBe("draft");
    expect(e.targetPath).toBe("tiny-llama-1.0.gguf");
    expect(e.facts.sha256).toBe(TINY_SHA);
    expect(e.facts.fileSizeBytes).toBe(fs.statSync(TINY).size);
    expect(e.facts.architecture).toBe("llama");
    expect(e.facts.quantization).toEqual({ type: "F16", bits: 16, groupSize: null });
    expect(e.facts.tokenizer).toBe("llama");
    expect(e.facts.contextLength).toBe(4096);
    expect(e.facts.shape).toMatchObject({ layers: 1, headCount: 2, kvHeads: 2, embeddingLength: 8, vocabSize: 32000 });
    expect(e.facts.memory.contextSize).toBe(4096);
    expect(e.facts.memory.ramBytes).toBe(e.facts.fileSizeBytes + e.facts.memory.kvCacheBytes + e.facts.memory.computeBytes);
    const stored = path.join(artifacts, TINY_SHA);
    expect(createHash("sha256").update(fs.readFileSync(stored)).digest("hex")).toBe(TINY_SHA);
    expect(fs.statSync(stored).mode & 0o777).toBe(0o600);
    expect(artifactFiles().filter((f) => f.startsWith(".incoming"))).toEqual([]);
    const audit = await t.db.prisma.auditLog.findMany({ where: { action: "catalog.imported", targetId: e.id } });
    expect(audit).toHaveLength(1);
  });

  it("reads a synthetic 1B Q8_0 header: quantization, shape and memory from the file", async () => {
    const file = path.join(tmp, "llama3.2-1b-q8_0.gguf");
    execFileSync(process.execPath, [SYNTH_TOOL, "llama3.2-1b-q8_0", file, "--vocab=none"]);
    const big = await startTestServer();
    try {
      const res = await big.admin("/api/v1/catalog/import", {
        method: "POST",
        body: JSON.stringify(importBody({ name: "llama3.2-1b", version: "q8_0", path: file, memoryContextSize: 8192 })),
      });
      const e = await entry(res);
      expect(e.facts.fileSizeBytes).toBe(fs.statSync(file).size);
      expect(e.facts.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(e.facts.quantization).toEqual({ type: "Q8_0", bits: 8, groupSize: 32 });
      expect(e.facts.shape).toMatchObject({ layers: 16, headCount: 32, kvHeads: 8, headDim: 64, embeddingLength: 2048 });
      expect(e.facts.parameterCount).toBeGreaterThan(1_000_000_000);
      // KV at ctx 8192 (f16): 16 layers x 8192 x 8 kv heads x 64 x 2 (K, V) x 2 bytes = 256 MiB
      expect(e.facts.memory).toMatchObject({ contextSize: 8192, kvCacheBytes: 16 * 8192 * 8 * 64 * 2 * 2 });
    } finally {
      await big.close();
    }
  }, 120_000);

  it("refuses a file that is not GGUF (400) and keeps nothing", async () => {
    const junk = path.join(tmp, "junk.gguf");
    fs.writeFileSync(junk, "this is not a model".repeat(100));
    const before = artifactFiles();
    const res = await importPath({ name: "junk", path: junk });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toMatch(/GGUF/);
    expect(artifactFiles()).toEqual(before);
    expect(await t.db.prisma.catalogEntry.count({ where: { name: "junk" } })).toBe(0);
  });

  it("refuses a duplicate name + version with 409", async () => {
    const res = await importPath();
    expect(res.status).toBe(409);
  });

  it("refuses a relative path, a directory, and a GGUF without a license", async () => {
    expect((await importPath({ name: "rel", path: "models/x.gguf" })).status).toBe(400);
    expect((await importPath({ name: "dir", path: tmp })).status).toBe(400);
    const res = await importPath({ name: "nolicense", license: undefined });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toMatch(/license/);
  });

  it("streams an upload (octet-stream) into the store; over the size limit is 413 with nothing kept", async () => {
    const res = await fetch(`${t.url}/api/v1/catalog/upload?name=tiny-upload&version=2&sourceRepository=r&sourceRevision=v&conversionMethod=m&license=MIT`, {
      method: "PUT",
      headers: { authorization: `Bearer ${(await import("../testing/test-server.js")).ADMIN_TOKEN}`, "content-type": "application/octet-stream" },
      body: Readable.toWeb(fs.createReadStream(TINY)) as ReadableStream,
      duplex: "half",
    } as RequestInit);
    const e = await entry(res);
    expect(e.facts.sha256).toBe(TINY_SHA);
    expect(e.targetPath).toBe("tiny-upload-2.gguf");

    const before = artifactFiles();
    const big = Buffer.alloc(5 * 1024 * 1024, 1);
    const tooBig = await fetch(`${t.url}/api/v1/catalog/upload?name=too-big&version=1&sourceRepository=r&sourceRevision=v&conversionMethod=m&license=MIT`, {
      method: "PUT",
      headers: { authorization: `Bearer ${(await import("../testing/test-server.js")).ADMIN_TOKEN}`, "content-type": "application/octet-stream" },
      body: big,
    });
    expect(tooBig.status).toBe(413);
    // no declared length: the limit is enforced while streaming
    const chunked = await fetch(`${t.url}/api/v1/catalog/upload?name=too-big&version=2&sourceRepository=r&sourceRevision=v&conversionMethod=m&license=MIT`, {
      method: "PUT",
      headers: { authorization: `Bearer ${(await import("../testing/test-server.js")).ADMIN_TOKEN}`, "content-type": "application/octet-stream" },
      body: Readable.toWeb(Readable.from([big.subarray(0, 3 << 20), big.subarray(3 << 20)])) as ReadableStream,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(artifactFiles()).toEqual(before);
    const asJson = await t.admin("/api/v1/catalog/upload?name=x&version=1&sourceRepository=r&sourceRevision=v&conversionMethod=m", { method: "PUT", body: "{}" });
    expect(asJson.status).toBe(400);
    const viaPost = await fetch(`${t.url}/api/v1/catalog/upload?name=tiny-upload&version=3&sourceRepository=r&sourceRevision=v&conversionMethod=m&license=MIT`, {
      method: "POST",
      headers: { authorization: `Bearer ${(await import("../testing/test-server.js")).ADMIN_TOKEN}`, "content-type": "application/octet-stream" },
      body: fs.readFileSync(TINY),
    });
    expect((await entry(viaPost)).facts.sha256).toBe(TINY_SHA);
  });

  it("needs the admin token", async () => {
    expect((await fetch(`${t.url}/api/v1/catalog`)).status).toBe(401);
    expect((await fetch(`${t.url}/api/v1/catalog/import`, { method: "POST" })).status).toBe(401);
  });
});

describe("catalog states", () => {
  it("draft -> approved -> deprecated -> revoked, each audited with who, when and why; bad moves are 409", async () => {
    const e = await entry(await importPath({ name: "lifecycle", version: "1" }));
    const move = (action: string, reason = `because ${action}`) => t.admin(`/api/v1/catalog/${e.id}/${action}`, { method: "POST", body: JSON.stringify({ reason }) });
    expect((await move("deprecate")).status).toBe(409);
    const approved = await entry(await move("approve", "passed review"));
    expect(approved).toMatchObject({ state: "approved", stateChangedBy: "admin", stateReason: "passed review" });
    expect((await move("approve")).status).toBe(409);
    expect((await entry(await move("deprecate"))).state).toBe("deprecated");
    expect((await entry(await move("revoke", "CVE in tokenizer"))).state).toBe("revoked");
    const again = await move("revoke");
    expect(again.status).toBe(409);
    expect((await json(again)).error.message).toMatch(/revoked/);
    expect((await move("approve")).status).toBe(409);
    const audit = await t.db.prisma.auditLog.findMany({ where: { targetId: e.id, action: { startsWith: "catalog." } }, orderBy: { at: "asc" } });
    expect(audit.map((a) => a.action)).toEqual(["catalog.imported", "catalog.approved", "catalog.deprecated", "catalog.revoked"]);
    expect(audit[3]).toMatchObject({ actor: "admin", details: { reason: "CVE in tokenizer", from: "deprecated", to: "revoked" } });
    expect((await t.admin(`/api/v1/catalog/${e.id}/approve`, { method: "POST", body: "{}" })).status).toBe(400);
  });

  it("lists with filters and pagination, gets one, 404 for an unknown id, 400 for a malformed one", async () => {
    const all = await json(await t.admin("/api/v1/catalog?pageSize=2"));
    expect(all.items).toHaveLength(2);
    expect(all.total).toBeGreaterThanOrEqual(3);
    const revoked = await json(await t.admin("/api/v1/catalog?state=revoked"));
    expect(revoked.items.map((x: TCatalogEntryV1) => x.facts.name)).toEqual(["lifecycle"]);
    const byName = await json(await t.admin("/api/v1/catalog?name=tiny-llama"));
    expect(byName.total).toBe(1);
    const one = await entry(await t.admin(`/api/v1/catalog/${byName.items[0].id}`));
    expect(one.facts.name).toBe("tiny-llama");
    expect((await t.admin("/api/v1/catalog/00000000-0000-4000-8000-000000000000")).status).toBe(404);
    expect((await t.admin("/api/v1/catalog/..%2F..%2Fetc%2Fpasswd")).status).toBe(400);
  });

  it("is in the OpenAPI document", async () => {
    const doc = await json(await fetch(`${t.url}/api/openapi.json`));
    for (const p of ["/api/v1/catalog", "/api/v1/catalog/{id}", "/api/v1/catalog/import", "/api/v1/catalog/upload", "/api/v1/catalog/{id}/approve", "/api/v1/catalog/{id}/deprecate", "/api/v1/catalog/{id}/revoke", "/api/v1/catalog/{id}/compatibility", "/api/v1/compatibility", "/api/v1/tuf/{file}", "/api/v1/artifacts/{target}"]) {
      expect(doc.paths[p], p).toBeDefined();
    }
  });
});
