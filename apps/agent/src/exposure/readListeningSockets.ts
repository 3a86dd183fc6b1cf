import fs from "node:fs/promises";

export interface ListeningSocket {
  address: string;
  port: number;
}

/** TCP_LISTEN in the `st` column of /proc/net/tcp{,6}. */
const LISTEN = "0A";

/**
 * Every listening TCP socket of this machine (all users' processes), from /proc/net/tcp and tcp6. Returns null
 * where /proc is not there (not Linux, or hidden): the caller then falls back to connecting.
 */
export async function readListeningSockets(procNet = "/proc/net"): Promise<ListeningSocket[] | null> {
  const out: ListeningSocket[] = [];
  let readAny = false;
  for (const [file, v6] of [["tcp", false], ["tcp6", true]] as const) {
    let text: string;
    try {
      text = await fs.readFile(`${procNet}/${file}`, "utf8");
      readAny = true;
    } catch (err) {
      // tcp6 is absent when IPv6 is disabled; that is not an error
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw err;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== LISTEN) continue;
      const [hexAddr, hexPort] = (cols[1] ?? "").split(":");
      if (!hexAddr || !hexPort) continue;
      out.push({ address: v6 ? decodeV6(hexAddr) : decodeV4(hexAddr), port: parseInt(hexPort, 16) });
    }
  }
  return readAny ? out : null;
}

/** /proc prints the address as a little-endian 32-bit word. */
function decodeV4(hex: string): string {
  const n = parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join(".");
}

/** Four little-endian 32-bit words; printed in the compressed form, with IPv4-mapped addresses as ::ffff:a.b.c.d. */
function decodeV6(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join(".")}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  // WHATWG URL serialises IPv6 in its canonical compressed form ("::", "::1", "fe80::1")
  return new URL(`http://[${groups.join(":")}]`).hostname.slice(1, -1);
}

/** Whether only this machine can reach a socket bound to `address`. */
export function isLoopbackAddress(address: string): boolean {
  return address.startsWith("127.") || address === "::1" || address.startsWith("::ffff:127.");
}
