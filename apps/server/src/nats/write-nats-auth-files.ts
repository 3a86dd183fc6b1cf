import fs from "node:fs/promises";
import path from "node:path";
import { NatsAuthority, renderNatsAuthConfig } from "./nats-authority.js";

export interface NatsAuthFiles {
  keysFile: string;
  /** nats-server config include to write */
  configFile: string;
  /** the server user's creds, written 0600 when given */
  credsFile?: string;
}

/** `fleet-server nats-config`: keys (created once), the nats-server config include and optionally the server's creds. */
export async function writeNatsAuthFiles(files: NatsAuthFiles): Promise<{ configFile: string; credsFile: string | null; accountPublicKey: string }> {
  const auth = await NatsAuthority.loadOrCreate(files.keysFile);
  // Revocations are not written here: the server pushes them to nats-server as soon as it connects.
  // The config holds only public keys and signed JWTs (no seeds): readable by a nats-server running as another user.
  await writeAtomic(files.configFile, await renderNatsAuthConfig(auth), 0o644);
  if (files.credsFile) await writeAtomic(files.credsFile, await auth.serverCreds(), 0o600);
  return { configFile: path.resolve(files.configFile), credsFile: files.credsFile ? path.resolve(files.credsFile) : null, accountPublicKey: auth.accountPublicKey };
}

async function writeAtomic(file: string, text: string, mode: number): Promise<void> {
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, text, { mode });
  await fs.chmod(tmp, mode); // despite the umask
  await fs.rename(tmp, file);
}
