import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";

/**
 * The HS256 key of session tokens: FLEET_SESSION_SECRET when set (several replicas share it), else
 * `<dataDir>/session-secret`, created with mode 0600 on first start ("wx": never overwrite one written meanwhile).
 */
export async function loadOrCreateSessionSecret(fromEnv: string | null, dataDir: string): Promise<Uint8Array> {
  if (fromEnv) return new TextEncoder().encode(fromEnv);
  const file = path.join(dataDir, "session-secret");
  try {
    return Buffer.from((await fs.readFile(file, "utf8")).trim(), "base64url");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString("base64url");
  try {
    await fs.writeFile(file, secret + "\n", { mode: 0o600, flag: "wx" });
    return Buffer.from(secret, "base64url");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return Buffer.from((await fs.readFile(file, "utf8")).trim(), "base64url");
  }
}
