import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BaseFetcher, Updater } from "tuf-js";
import { DownloadHTTPError } from "tuf-js/dist/error.js";
import { deviceAuthorization, ZCatalogEntryV1, type TCatalogEntryV1 } from "@fleet/protocol";
import { runCli } from "../cli.js";
import { artifactFile } from "../catalog/artifact-store.js";
import { ADMIN_TOKEN, startTestServer, type TestServer } from "../testing/test-server.js";
import type { SimDevice } from "../testing/device-sim.js";
import { TufKeyStore } from "./tuf-keys.js";
import { buildSnapshot, buildTargets, buildTimestamp } from "./tuf-metadata.js";
import { TufRepositoryService } from "./tuf-repository.service.js";

const TINY = "/work/shared/models/llama-2-tiny-random.gguf";
const TINY_BYTES = fs.readFileSync(TINY);
const TINY_SHA = createHash("sha256").update(TINY_BYTES).digest("hex");

let t: TestServer;
let dev: SimDevice;
let tmp: string;
let approved: TCatalogEntryV1;
let draft: TCatalogEntryV1;

/** tuf-js fetcher that signs every request as the device (what the agent's fetcher does). */
class DeviceFetcher extends BaseFetcher {
  constructor(private readonly device: SimDevice) {
    super();
  }
  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    const authorization = await deviceAuthorization(this.device.id, "GET", new URL(url).pathname, this.device.privateKey);
    const res = await fetch(url, { headers: { authorization } });
    if (!res.ok || !res.body) throw new DownloadHTTPError(`GET ${url}: ${res.status}`, res.status);
    return res.body as ReadableStream<Uint8Array<ArrayBuffer>>;
  }
}

/** A device-side TUF client whose trust state lives in `dir` (root.json from enrollment on first use). */
function updater(dir: string, device = dev): Updater {
  const metadataDir = path.join(dir, "metadata");
  const targetDir = path.join(dir, "targets");
  fs.mkdirSync(metadataDir, { recursive: true });
  fs.mkdirSync(targetDir, { recursive: true });
  if (!fs.existsSync(path.join(metadataDir, "root.json"))) fs.writeFileSync(path.join(metadataDir, "root.json"), device.enrollment.catalogTrustedRoot!);
  return new Updater({ metadataDir, targetDir, metadataBaseUrl: `${t.url}/api/v1/tuf`, targetBaseUrl: `${t.url}/api/v1/artifacts/`, fetcher: new DeviceFetcher(device) });
}

const asDevice = async (p: string, init: { method?: "GET" | "HEAD"; headers?: Record<string, string> } = {}, device = dev) =>
  fetch(t.url + p, { method: init.method ?? "GET", headers: { authorization: await deviceAuthorization(device.id, init.method ?? "GET", p, device.privateKey), ...init.headers } });

async function importEntry(name: string, version: string): Promise<TCatalogEntryV1> {
  const res = await t.admin("/api/v1/catalog/import", {
    method: "POST",
    body: JSON.stringify({ name, version, source: { repository: "r", revision: "v" }, conversion: { method: "m" }, license: "MIT", path: TINY }),
  });
  expect(res.status).toBe(201);
  return ZCatalogEntryV1.parse(await res.json());
}

async function move(id: string, action: string): Promise<void> {
  const res = await t.admin(`/api/v1/catalog/${id}/${action}`, { method: "POST", body: JSON.stringify({ reason: "test" }) });
  expect(res.status).toBe(200);
}

const rootVersion = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, "metadata", "root.json"), "utf8")) as { signed: { version: number } }).signed.version;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "trust-spec-"));
  t = await startTestServer();
  dev = await t.enrollDevice("tuf-client");
  approved = await importEntry("tiny", "1");
  await move(approved.id, "approve");
  draft = await importEntry("tiny-draft", "1");
});

afterAll(async () => {
  await t?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("TUF repository", () => {
  it("enrollment hands out the current root, as served at /tuf/1.root.json", async () => {
    const root = dev.enrollment.catalogTrustedRoot;
    expect(root).toBeTruthy();
    const served = await asDevice("/api/v1/tuf/1.root.json");
    expect(served.status).toBe(200);
    expect(await served.text()).toBe(root);
    const parsed = JSON.parse(root!) as { signed: { consistent_snapshot: boolean; roles: Record<string, unknown> } };
    expect(parsed.signed.consistent_snapshot).toBe(false);
    expect(Object.keys(parsed.signed.roles).sort()).toEqual(["root", "snapshot", "targets", "timestamp"]);
    for (const f of fs.readdirSync(path.join(t.config.dataDir, "tuf-keys"))) expect(fs.statSync(path.join(t.config.dataDir, "tuf-keys", f)).mode & 0o777).toBe(0o600);
  });

  it("a device verifies the metadata with tuf-js and downloads an approved target through the artifact endpoint", async () => {
    const dir = path.join(tmp, "client-a");
    const u = updater(dir);
    await u.refresh();
    const info = await u.getTargetInfo("tiny-1.gguf");
    expect(info?.length).toBe(TINY_BYTES.length);
    expect(info?.hashes.sha256).toBe(TINY_SHA);
    expect((info?.custom as { sha256: string; name: string }).name).toBe("tiny");
    expect(await u.getTargetInfo("tiny-draft-1.gguf")).toBeUndefined();
    const file = await u.downloadTarget(info!, path.join(dir, "tiny-1.gguf"));
    expect(createHash("sha256").update(fs.readFileSync(file)).digest("hex")).toBe(TINY_SHA);
  });

  it("serves byte ranges (206, exact Content-Length), 416 past the end, and only current targets", async () => {
    const r = await asDevice("/api/v1/artifacts/tiny-1.gguf", { headers: { range: "bytes=100-1099" } });
    expect(r.status).toBe(206);
    expect(r.headers.get("content-range")).toBe(`bytes 100-1099/${TINY_BYTES.length}`);
    expect(r.headers.get("content-length")).toBe("1000");
    expect(r.headers.get("accept-ranges")).toBe("bytes");
    expect(Buffer.from(await r.arrayBuffer()).equals(TINY_BYTES.subarray(100, 1100))).toBe(true);
    const tail = await asDevice("/api/v1/artifacts/tiny-1.gguf", { headers: { range: `bytes=${TINY_BYTES.length - 10}-` } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(TINY_BYTES.subarray(-10))).toBe(true);
    const past = await asDevice("/api/v1/artifacts/tiny-1.gguf", { headers: { range: `bytes=${TINY_BYTES.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${TINY_BYTES.length}`);
    const whole = await asDevice("/api/v1/artifacts/tiny-1.gguf");
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-length")).toBe(String(TINY_BYTES.length));
    await whole.arrayBuffer();
    const head = await asDevice("/api/v1/artifacts/tiny-1.gguf", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(TINY_BYTES.length));
    // a draft's bytes are in the store (same digest) but it is not a target
    expect((await asDevice("/api/v1/artifacts/tiny-draft-1.gguf")).status).toBe(404);
  });

  it("refuses unauthenticated, admin, mis-bound and revoked callers on artifacts (401); admin may read metadata", async () => {
    expect((await fetch(`${t.url}/api/v1/tuf/timestamp.json`)).status).toBe(401);
    expect((await fetch(`${t.url}/api/v1/artifacts/tiny-1.gguf`)).status).toBe(401);
    expect((await fetch(`${t.url}/api/v1/tuf/timestamp.json`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${t.url}/api/v1/tuf/timestamp.json`, { headers: { authorization: "Bearer wrong-token-wrong-token-wrong" } })).status).toBe(401);
    expect((await fetch(`${t.url}/api/v1/artifacts/tiny-1.gguf`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(401);
    // signed for another path
    const other = await deviceAuthorization(dev.id, "GET", "/api/v1/tuf/timestamp.json", dev.privateKey);
    expect((await fetch(`${t.url}/api/v1/artifacts/tiny-1.gguf`, { headers: { authorization: other } })).status).toBe(401);
    const victim = await t.enrollDevice("to-revoke");
    expect((await asDevice("/api/v1/tuf/timestamp.json", {}, victim)).status).toBe(200);
    expect((await t.admin(`/api/v1/devices/${victim.id}/revoke`, { method: "POST" })).status).toBeLessThan(300);
    const refused = await asDevice("/api/v1/artifacts/tiny-1.gguf", {}, victim);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/revoked/);
  });

  it("refuses traversal in target names and metadata names with 400 before touching a file (threat 8)", async () => {
    for (const p of ["/api/v1/artifacts/..%2F..%2Fetc%2Fpasswd", "/api/v1/artifacts/tiny-1.gguf%00.txt", `/api/v1/artifacts/${TINY_SHA}`, "/api/v1/artifacts/a..b-1.gguf", "/api/v1/artifacts/x-1.gguf%2F..%2F..%2Fsecret"]) {
      const res = await asDevice(p);
      expect(res.status, p).toBe(400);
    }
    for (const p of ["/api/v1/tuf/..%2Froot.json", "/api/v1/tuf/0.root.json", "/api/v1/tuf/root.json", "/api/v1/tuf/targets.json.bak"]) {
      expect((await asDevice(p)).status, p).toBe(400);
    }
    expect(() => artifactFile(t.config.dataDir, "../../etc/passwd")).toThrow();
    expect(() => artifactFile(t.config.dataDir, TINY_SHA.toUpperCase())).toThrow();
  });

  it("a deprecated entry stays a target; revoking it removes it from the targets and stops serving its bytes", async () => {
    const e = await importEntry("short-lived", "1");
    await move(e.id, "approve");
    expect((await asDevice("/api/v1/artifacts/short-lived-1.gguf", { headers: { range: "bytes=0-3" } })).status).toBe(206);
    await move(e.id, "deprecate");
    expect((await asDevice("/api/v1/artifacts/short-lived-1.gguf", { headers: { range: "bytes=0-3" } })).status).toBe(206);
    await move(e.id, "revoke");
    expect((await asDevice("/api/v1/artifacts/short-lived-1.gguf")).status).toBe(404);
    const u = updater(path.join(tmp, "client-revoke"));
    await u.refresh();
    expect(await u.getTargetInfo("short-lived-1.gguf")).toBeUndefined();
    expect(await u.getTargetInfo("tiny-1.gguf")).toBeDefined();
  });

  it("serialises concurrent publishes (advisory lock): consecutive versions, a chain the client accepts", async () => {
    const tuf = t.server.app.get(TufRepositoryService);
    const before = await t.db.prisma.tufMetadata.count({ where: { role: "targets" } });
    const published = await Promise.all([tuf.publishTargets(), tuf.publishTargets(), tuf.publishTargets()]);
    expect(new Set(published.map((p) => p.targetsVersion)).size).toBe(3);
    expect(await t.db.prisma.tufMetadata.count({ where: { role: "targets" } })).toBe(before + 3);
    await updater(path.join(tmp, "client-concurrent")).refresh();
  });

  it("re-signs the timestamp before it expires (one writer, advisory lock)", async () => {
    const tuf = t.server.app.get(TufRepositoryService);
    const before = await t.db.prisma.tufMetadata.findFirstOrThrow({ where: { role: "timestamp" }, orderBy: { version: "desc" } });
    expect(await tuf.refreshIfDue()).toBe("fresh");
    const almost = new Date(before.expiresAt.getTime() - 3_600_000);
    expect(await tuf.refreshIfDue(almost)).toBe("timestamp");
    const after = await t.db.prisma.tufMetadata.findFirstOrThrow({ where: { role: "timestamp" }, orderBy: { version: "desc" } });
    expect(after.version).toBe(before.version + 1);
    expect(after.expiresAt.getTime()).toBeGreaterThan(before.expiresAt.getTime());
    const u = updater(path.join(tmp, "client-fresh"));
    await u.refresh();
    // near the targets/snapshot expiry the whole chain is re-signed
    const targets = await t.db.prisma.tufMetadata.findFirstOrThrow({ where: { role: "targets" }, orderBy: { version: "desc" } });
    expect(await tuf.refreshIfDue(new Date(targets.expiresAt.getTime() - 86_400_000))).toBe("chain");
    expect((await t.db.prisma.tufMetadata.findFirstOrThrow({ where: { role: "targets" }, orderBy: { version: "desc" } })).version).toBe(targets.version + 1);
  });
});

describe("key rotation", () => {
  it("clients that trusted the old root follow the new one; targets signed by the retired key are refused (threat 10)", async () => {
    const dir = path.join(tmp, "client-rotation");
    await updater(dir).refresh();
    const startVersion = rootVersion(dir);
    const keys = new TufKeyStore(path.join(t.config.dataDir, "tuf-keys"));
    const oldTargetsKey = (await keys.load("targets"))!;
    const env = { DATABASE_URL: t.db.url, FLEET_DATA_DIR: t.config.dataDir };
    const out: string[] = [];
    expect(await runCli(["tuf", "rotate", "--role", "targets"], { env, out: (s) => out.push(s), err: (s) => out.push(s) })).toBe(0);
    expect(out.join("")).toMatch(/rotated targets key/);
    expect((await keys.load("targets"))!.keyId).not.toBe(oldTargetsKey.keyId);

    const u = updater(dir);
    await u.refresh();
    expect(rootVersion(dir)).toBe(startVersion + 1);
    expect(await u.getTargetInfo("tiny-1.gguf")).toBeDefined();

    // Root rotation: the new root is signed by the old and the new root key; the client chains through it.
    expect(await runCli(["tuf", "rotate", "--role", "root"], { env, out: () => undefined, err: (s) => out.push(s) })).toBe(0);
    await updater(dir).refresh();
    expect(rootVersion(dir)).toBe(startVersion + 2);

    // An attacker holding the retired targets key publishes targets (with a valid snapshot/timestamp chain).
    const current = await keys.loadAll();
    const latest = async (role: string) => (await t.db.prisma.tufMetadata.findFirstOrThrow({ where: { role }, orderBy: { version: "desc" } })).version;
    const now = new Date();
    const forged = buildTargets((await latest("targets")) + 1, [{ targetPath: "evil-1.gguf", sha256: "e".repeat(64), length: 10, custom: { name: "evil" } }], oldTargetsKey, now);
    const snap = buildSnapshot((await latest("snapshot")) + 1, forged, current.snapshot, now);
    const ts = buildTimestamp((await latest("timestamp")) + 1, snap, current.timestamp, now);
    await t.db.prisma.tufMetadata.createMany({ data: [forged, snap, ts].map((m) => ({ role: m.role, version: m.version, body: m.body, expiresAt: m.expiresAt })) });
    await expect(updater(dir).refresh()).rejects.toThrow(/targets/i);
    // nothing from the forged targets was persisted on the client
    expect(fs.readFileSync(path.join(dir, "metadata", "targets.json"), "utf8")).not.toContain("evil-1.gguf");
    // the next legitimate publish supersedes the forgery
    await t.server.app.get(TufRepositoryService).publishTargets();
    await updater(dir).refresh();
  });
});
