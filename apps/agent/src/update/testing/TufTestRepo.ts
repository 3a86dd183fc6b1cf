import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Key, MetaFile, Metadata, Root, Signature, Snapshot, TargetFile, Targets, Timestamp } from "@tufjs/models";
import type { CryptoKey } from "jose";
import { verifyDeviceAuthorization } from "@fleet/protocol";

const SPEC = "1.0.31";
const ROLES = ["root", "targets", "snapshot", "timestamp"] as const;
type Role = (typeof ROLES)[number];

interface RoleKey {
  keyId: string;
  key: Key;
  privateKey: KeyObject;
}

function newRoleKey(): RoleKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pub = publicKey.export({ format: "der", type: "spki" }).subarray(-32).toString("hex");
  const keyVal = { public: pub };
  // canonical JSON of {keytype, scheme, keyval} (keys sorted, no spaces): what the spec hashes for a key id
  const keyId = createHash("sha256").update(`{"keytype":"ed25519","keyval":{"public":"${pub}"},"scheme":"ed25519"}`).digest("hex");
  return { keyId, privateKey, key: new Key({ keyID: keyId, keyType: "ed25519", scheme: "ed25519", keyVal }) };
}

const signer = (k: RoleKey) => (data: Buffer) => new Signature({ keyID: k.keyId, sig: sign(null, data, k.privateKey).toString("hex") });
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");

export interface TestTarget {
  name: string;
  bytes: Buffer;
  /** what targets metadata says (defaults: the bytes' own length and hash) */
  length?: number;
  sha256?: string;
  custom: Record<string, unknown>;
}

export type ArtifactMode = { kind: "normal" } | { kind: "endless" } | { kind: "stall-after"; bytes: number } | { kind: "swap"; bytes: Buffer };

/**
 * A TUF repository written with @tufjs/models (consistentSnapshot false: fixed file names) and served over HTTP the
 * way the server does: `/api/v1/tuf/<file>` and `/api/v1/artifacts/<target>` with Range, every request checked for
 * the device's Authorization header. Tests publish, replay old metadata files and misbehave on purpose.
 */
export class TufTestRepo {
  private readonly keys = Object.fromEntries(ROLES.map((r) => [r, newRoleKey()])) as Record<Role, RoleKey>;
  private readonly rootBytes: Buffer;
  /** metadata files currently served, by file name */
  files = new Map<string, Buffer>();
  artifacts = new Map<string, Buffer>();
  artifactMode: ArtifactMode = { kind: "normal" };
  /** every artifact request: target and the Range header it carried */
  readonly artifactLog: { target: string; range: string | null; status: number }[] = [];
  readonly refusedAuth: string[] = [];
  private version = 0;
  private server: http.Server | null = null;
  private readonly openSockets = new Set<import("node:net").Socket>();

  constructor(private readonly deviceKey: (deviceId: string) => Promise<CryptoKey | null>) {
    const root = new Root({ version: 1, specVersion: SPEC, expires: inDays(365), consistentSnapshot: false });
    for (const r of ROLES) root.addKey(this.keys[r].key, r);
    const md = new Metadata(root);
    md.sign(signer(this.keys.root));
    this.rootBytes = Buffer.from(JSON.stringify(md.toJSON()));
    this.files.set("1.root.json", this.rootBytes);
  }

  /** root.json as enrollment hands it out */
  get trustedRoot(): string {
    return this.rootBytes.toString("utf8");
  }

  /** Sign and serve new targets, snapshot and timestamp (all one version higher) listing exactly these targets. */
  publish(targets: TestTarget[], opts: { timestampExpires?: string } = {}): number {
    const v = ++this.version;
    const t = new Targets({ version: v, specVersion: SPEC, expires: inDays(30) });
    for (const x of targets) {
      t.addTarget(
        new TargetFile({
          path: x.name,
          length: x.length ?? x.bytes.length,
          hashes: { sha256: x.sha256 ?? createHash("sha256").update(x.bytes).digest("hex") },
          unrecognizedFields: { custom: x.custom as never },
        }),
      );
      this.artifacts.set(x.name, x.bytes);
    }
    const targetsBytes = this.signed(t, "targets");
    const snap = new Snapshot({ version: v, specVersion: SPEC, expires: inDays(7), meta: { "targets.json": this.metaFile(v, targetsBytes) } });
    const snapshotBytes = this.signed(snap, "snapshot");
    const ts = new Timestamp({ version: v, specVersion: SPEC, expires: opts.timestampExpires ?? inDays(1), snapshotMeta: this.metaFile(v, snapshotBytes) });
    const timestampBytes = this.signed(ts, "timestamp");
    this.files.set("targets.json", targetsBytes);
    this.files.set("snapshot.json", snapshotBytes);
    this.files.set("timestamp.json", timestampBytes);
    return v;
  }

  /** The metadata files served now, to replay later (rollback, mix-and-match). */
  saveMetadata(): Map<string, Buffer> {
    return new Map(this.files);
  }

  private metaFile(version: number, bytes: Buffer): MetaFile {
    return new MetaFile({ version, length: bytes.length, hashes: { sha256: createHash("sha256").update(bytes).digest("hex") } });
  }

  private signed(signed: Targets | Snapshot | Timestamp, role: Role): Buffer {
    const md = new Metadata(signed);
    md.sign(signer(this.keys[role]));
    return Buffer.from(JSON.stringify(md.toJSON()));
  }

  async listen(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (s) => {
      this.openSockets.add(s);
      s.on("close", () => this.openSockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.openSockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const auth = await verifyDeviceAuthorization(req.headers.authorization, { method: req.method ?? "GET", path: url.pathname }, this.deviceKey);
    if (!auth.ok) {
      this.refusedAuth.push(`${url.pathname}: ${auth.reason}`);
      res.writeHead(401).end();
      return;
    }
    const meta = /^\/api\/v1\/tuf\/([A-Za-z0-9._-]+)$/.exec(url.pathname);
    if (meta) {
      const body = this.files.get(meta[1]!);
      if (!body) return void res.writeHead(404).end();
      return void res.writeHead(200, { "content-type": "application/json", "content-length": body.length }).end(body);
    }
    const art = /^\/api\/v1\/artifacts\/([A-Za-z0-9._+-]+)$/.exec(url.pathname);
    const bytes = art ? this.artifacts.get(art[1]!) : undefined;
    if (!art || !bytes) return void res.writeHead(404).end();
    const range = req.headers.range ?? null;
    const start = range ? Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? NaN) : 0;
    if (!Number.isInteger(start) || start > bytes.length) {
      this.artifactLog.push({ target: art[1]!, range, status: 416 });
      return void res.writeHead(416).end();
    }
    const status = range ? 206 : 200;
    this.artifactLog.push({ target: art[1]!, range, status });
    const mode = this.artifactMode;
    if (mode.kind === "endless") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      res.on("close", () => res.removeAllListeners("drain"));
      return pump();
    }
    const body = (mode.kind === "swap" ? mode.bytes : bytes).subarray(start);
    const headers: Record<string, string | number> = { "content-type": "application/octet-stream", "content-length": body.length, "accept-ranges": "bytes" };
    if (range) headers["content-range"] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    res.writeHead(status, headers);
    if (mode.kind === "stall-after") {
      // send the first part, then nothing: the connection stays open until the client gives up
      res.write(body.subarray(0, Math.max(0, mode.bytes - start)));
      return;
    }
    res.end(body);
  }
}
