import os from "node:os";
import path from "node:path";

/** /var/lib/fleet-agent for a system service (root), ~/.fleet-agent for a user install. */
export function defaultHome(): string {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  return isRoot ? "/var/lib/fleet-agent" : path.join(os.homedir(), ".fleet-agent");
}
