import fs from "node:fs/promises";
import path from "node:path";
import { generateSigningKeyPair, importPrivateJwk, ZEd25519PublicJwk, type TEd25519PublicJwk } from "@fleet/protocol";
import type { CryptoKey, JWK } from "jose";
import { z } from "zod";

const ZPrivateJwk = z.object({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), x: z.string(), d: z.string() });

export interface ServerKey {
  privateKey: CryptoKey;
  publicJwk: TEd25519PublicJwk;
}

export class ServerKeyError extends Error {
  override name = "ServerKeyError";
}

/** Load the server's Ed25519 signing key, creating the file (mode 0600) on first start. */
export async function loadOrCreateServerKey(file: string): Promise<ServerKey> {
  let jwk: JWK;
  try {
    const raw = await fs.readFile(file, "utf8");
    const parsed = ZPrivateJwk.safeParse(JSON.parse(raw));
    if (!parsed.success) throw new ServerKeyError(`${file} is not an Ed25519 private JWK`);
    jwk = parsed.data;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      if (err instanceof ServerKeyError) throw err;
      throw new ServerKeyError(`cannot read server key ${file}: ${(err as Error).message}`, { cause: err });
    }
    const { privateJwk } = await generateSigningKeyPair();
    jwk = privateJwk;
    await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
    // "wx": never overwrite a key another process wrote meanwhile
    await fs.writeFile(file, JSON.stringify(privateJwk) + "\n", { mode: 0o600, flag: "wx" }).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== "EEXIST") throw e;
      jwk = JSON.parse(await fs.readFile(file, "utf8")) as JWK;
    });
  }
  const publicJwk = ZEd25519PublicJwk.parse({ kty: "OKP", crv: "Ed25519", x: jwk.x, alg: "EdDSA", use: "sig" });
  return { privateKey: await importPrivateJwk(jwk), publicJwk };
}
