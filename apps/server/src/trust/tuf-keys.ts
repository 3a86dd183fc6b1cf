import { createHash, createPrivateKey, generateKeyPairSync, sign as edSign, type KeyObject } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { canonicalize } from "@tufjs/canonical-json";
import { Key, Signature } from "@tufjs/models";
import { z } from "zod";

export const TUF_ROLES = ["root", "targets", "snapshot", "timestamp"] as const;
export type TufRole = (typeof TUF_ROLES)[number];

/** One role's Ed25519 signing key as TUF sees it. */
export interface TufSigningKey {
  role: TufRole;
  keyId: string;
  /** raw 32-byte public key, hex (TUF ed25519 keyval) */
  publicHex: string;
  privateKey: KeyObject;
}

const ZKeyFile = z.object({
  role: z.enum(TUF_ROLES),
  keyId: z.string().regex(/^[0-9a-f]{64}$/),
  publicHex: z.string().regex(/^[0-9a-f]{64}$/),
  privatePkcs8: z.string().min(1),
});

export class TufKeyError extends Error {
  override name = "TufKeyError";
}

/** TUF key id: sha256 of the canonical JSON of the public key (spec section 4.2). */
export function tufKeyId(publicHex: string): string {
  const json = canonicalize({ keytype: "ed25519", scheme: "ed25519", keyval: { public: publicHex } });
  return createHash("sha256").update(json).digest("hex");
}

export function tufKey(k: TufSigningKey): Key {
  return new Key({ keyID: k.keyId, keyType: "ed25519", scheme: "ed25519", keyVal: { public: k.publicHex } });
}

/** The signer @tufjs/models' Metadata.sign() expects: a hex signature over the canonical signed bytes. */
export function tufSigner(k: TufSigningKey): (data: Buffer) => Signature {
  return (data) => new Signature({ keyID: k.keyId, sig: edSign(null, data, k.privateKey).toString("hex") });
}

export function generateTufKey(role: TufRole): TufSigningKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  // The raw key is the last 32 bytes of the SPKI DER.
  const publicHex = publicKey.export({ format: "der", type: "spki" }).subarray(-32).toString("hex");
  return { role, keyId: tufKeyId(publicHex), publicHex, privateKey };
}

/** `<dataDir>/tuf-keys/<role>.json`, mode 0600; the directory 0700. */
export class TufKeyStore {
  constructor(private readonly dir: string) {}

  private file(role: TufRole): string {
    return path.join(this.dir, `${role}.json`);
  }

  async load(role: TufRole): Promise<TufSigningKey | null> {
    let text: string;
    try {
      text = await fs.readFile(this.file(role), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
    const parsed = ZKeyFile.safeParse(JSON.parse(text));
    if (!parsed.success || parsed.data.role !== role) throw new TufKeyError(`TUF key file ${this.file(role)} is malformed`);
    const privateKey = createPrivateKey({ key: Buffer.from(parsed.data.privatePkcs8, "base64"), format: "der", type: "pkcs8" });
    return { role, keyId: parsed.data.keyId, publicHex: parsed.data.publicHex, privateKey };
  }

  async loadAll(): Promise<Record<TufRole, TufSigningKey>> {
    const out = {} as Record<TufRole, TufSigningKey>;
    for (const role of TUF_ROLES) {
      const k = await this.load(role);
      if (!k) throw new TufKeyError(`TUF ${role} key is missing from ${this.dir}`);
      out[role] = k;
    }
    return out;
  }

  /** Write (or replace) a role's key atomically: temp file 0600, then rename. */
  async save(k: TufSigningKey): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const body = JSON.stringify({
      role: k.role,
      keyId: k.keyId,
      publicHex: k.publicHex,
      privatePkcs8: k.privateKey.export({ format: "der", type: "pkcs8" }).toString("base64"),
    });
    const tmp = `${this.file(k.role)}.${process.pid}.${Date.now()}.tmp`;
    await fs.writeFile(tmp, body, { mode: 0o600, flag: "wx" });
    await fs.rename(tmp, this.file(k.role));
  }
}
