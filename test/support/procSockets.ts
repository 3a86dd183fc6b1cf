import fs from "node:fs/promises";

/** One TCP socket a process holds, from /proc/<pid>/net/tcp{,6} joined with its /proc/<pid>/fd socket inodes. */
export interface ProcSocket {
  pid: number;
  state: "established" | "listen" | "other";
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** The pid and every descendant (the agent and its inference host), read from /proc/<pid>/task/<tid>/children. */
export async function processTree(pid: number): Promise<number[]> {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const tasks = await fs.readdir(`/proc/${out[i]}/task`).catch(() => [] as string[]);
    for (const t of tasks) {
      const children = await fs.readFile(`/proc/${out[i]}/task/${t}/children`, "utf8").catch(() => "");
      for (const c of children.trim().split(/\s+/).filter(Boolean)) out.push(Number(c));
    }
  }
  return out;
}

/** The TCP sockets a process holds now (a process that exited meanwhile holds none). */
export async function socketsOf(pid: number): Promise<ProcSocket[]> {
  const inodes = new Set<string>();
  const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const link = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(m[1]!);
  }
  const out: ProcSocket[] = [];
  for (const file of ["tcp", "tcp6"]) {
    const text = await fs.readFile(`/proc/${pid}/net/${file}`, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9]!)) continue;
      const [la, lp] = f[1]!.split(":") as [string, string];
      const [ra, rp] = f[2]!.split(":") as [string, string];
      const st = f[3] === "01" ? "established" : f[3] === "0A" ? "listen" : "other";
      out.push({ pid, state: st, localAddress: hexAddress(la), localPort: parseInt(lp, 16), remoteAddress: hexAddress(ra), remotePort: parseInt(rp, 16) });
    }
  }
  return out;
}

/**
 * The established connections a process tree OPENED (outbound): sockets whose local port is not one the tree listens
 * on (those are connections others made to it). Keyed "address:port" of the remote end.
 */
export async function outboundOf(pids: number[]): Promise<Map<string, ProcSocket>> {
  const all = (await Promise.all(pids.map(socketsOf))).flat();
  const listening = new Set(all.filter((s) => s.state === "listen").map((s) => s.localPort));
  const out = new Map<string, ProcSocket>();
  for (const s of all) if (s.state === "established" && !listening.has(s.localPort)) out.set(`${s.remoteAddress}:${s.remotePort}`, s);
  return out;
}

/** /proc/net hex address (little-endian 32-bit words) to text; IPv4-mapped IPv6 becomes plain IPv4. */
function hexAddress(hex: string): string {
  const bytes = (word: string) => [6, 4, 2, 0].map((i) => parseInt(word.slice(i, i + 2), 16));
  if (hex.length === 8) return bytes(hex).join(".");
  const b = [0, 8, 16, 24].flatMap((i) => bytes(hex.slice(i, i + 8)));
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return b.slice(12).join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

/** "::ffff:1.2.3.4" -> "1.2.3.4": the form both sides compare in. */
export function plainAddress(a: string): string {
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}
