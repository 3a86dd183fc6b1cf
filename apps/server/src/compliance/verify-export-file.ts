import fs from "node:fs/promises";
import { importPublicJwk, verifyComplianceExport, type ComplianceExportCheck } from "@fleet/protocol";
import type { CryptoKey } from "jose";
import { z } from "zod";

/** Public half of the server's Ed25519 key; the server's key file (private JWK) holds it too. */
const ZEd25519Jwk = z.object({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), x: z.string().min(1) });

export class ExportKeyError extends Error {
  override name = "ExportKeyError";
}

/** A JWK given inline (`{...}`) or as a file; a private JWK is reduced to its public part, never used to sign. */
export async function readVerifyKey(source: { keyFile?: string; jwk?: string }): Promise<CryptoKey> {
  let text: string;
  let from: string;
  if (source.jwk !== undefined) {
    from = source.jwk.trim().startsWith("{") ? "--jwk" : source.jwk;
    text = from === "--jwk" ? source.jwk : await readText(source.jwk);
  } else {
    from = source.keyFile ?? "";
    text = await readText(from);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ExportKeyError(`${from} is not JSON`);
  }
  const parsed = ZEd25519Jwk.safeParse(json);
  if (!parsed.success) throw new ExportKeyError(`${from} is not an Ed25519 JWK`);
  return importPublicJwk({ kty: "OKP", crv: "Ed25519", x: parsed.data.x });
}

async function readText(file: string): Promise<string> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (err) {
    throw new ExportKeyError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Read an export file and check it against the server's public key. */
export async function verifyExportFile(file: string, key: CryptoKey): Promise<ComplianceExportCheck> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    return { ok: false, reason: "malformed", detail: `cannot read ${file}: ${(err as Error).message}` };
  }
  return verifyComplianceExport(text, key);
}
