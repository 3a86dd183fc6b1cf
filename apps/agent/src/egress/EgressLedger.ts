import fs from "node:fs/promises";
import type net from "node:net";
import path from "node:path";
import { egressKey, ZEgressLedgerV1, type EgressPurpose, type TEgressEntryV1, type TEgressLedgerV1 } from "@fleet/protocol";
import { writeFileAtomic } from "../util/writeFileAtomic.js";

export const EGRESS_LEDGER_FILE = "egress-ledger.json";

/** Where a tracked socket goes and why; the address is filled in from the socket once it connected. */
export interface EgressDestination {
  host: string;
  port: number;
  purpose: EgressPurpose;
}

interface Live {
  socket: net.Socket;
  dest: EgressDestination;
  address: string | null;
  /** bytes already added to the entry (sockets are read again on each sweep) */
  sent: number;
  received: number;
}

/**
 * The outbound ledger: one entry per destination (host, port, resolved address, purpose) with the bytes the sockets
 * really moved (net.Socket bytesWritten/bytesRead: TLS and protocol framing included), connection count, first and
 * last seen. Sockets are read when swept, never through their listeners: nats.js removes every listener of its
 * socket, so a 'close' handler of ours would be dropped. Persisted so the totals survive restarts.
 */
export class EgressLedger {
  private readonly entries = new Map<string, TEgressEntryV1>();
  private readonly live = new Set<Live>();
  private since = new Date().toISOString();

  constructor(private readonly file: string | null = null) {}

  static forHome(home: string): EgressLedger {
    return new EgressLedger(path.join(home, EGRESS_LEDGER_FILE));
  }

  /** Load totals from an earlier run; an unreadable file is replaced (the reason is returned for the log). */
  async load(): Promise<string | null> {
    if (!this.file) return null;
    let text: string;
    try {
      text = await fs.readFile(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return `ignored an unreadable ${EGRESS_LEDGER_FILE} (not JSON)`;
    }
    const parsed = ZEgressLedgerV1.safeParse(json);
    if (!parsed.success) return `ignored an invalid ${EGRESS_LEDGER_FILE}`;
    this.since = parsed.data.since;
    for (const e of parsed.data.entries) this.entries.set(egressKey(e), { ...e, open: 0 });
    return null;
  }

  /** Account for a socket from its creation on (call before or right after connect()). */
  track(socket: net.Socket, dest: EgressDestination): void {
    const l: Live = { socket, dest, address: null, sent: 0, received: 0 };
    this.live.add(l);
    const onConnect = () => {
      l.address = socket.remoteAddress ?? null;
      // port 0: the destination is whatever this socket connected to (probes of many ports, unattributed sockets)
      if (dest.port === 0) l.dest = { purpose: dest.purpose, host: l.address ?? "unknown", port: socket.remotePort ?? 0 };
      const e = this.entryFor(l);
      e.connections += 1;
      this.sweep();
    };
    if (!socket.connecting && socket.remoteAddress) onConnect();
    else socket.once("connect", onConnect);
  }

  /** Move byte counts from the sockets into their entries; forget closed sockets. */
  sweep(): void {
    const now = new Date().toISOString();
    for (const l of this.live) {
      const written = l.socket.bytesWritten ?? 0;
      const read = l.socket.bytesRead ?? 0;
      const closed = l.socket.destroyed;
      if (l.address === null && !closed) continue; // not connected yet
      if (l.address === null && closed) {
        // never connected: nothing left the machine, but the attempt is on the record
        if (written === 0 && read === 0) {
          this.live.delete(l);
          continue;
        }
      }
      const e = this.entryFor(l);
      if (written !== l.sent || read !== l.received) {
        e.bytesSent += written - l.sent;
        e.bytesReceived += read - l.received;
        e.lastSeenAt = now;
        l.sent = written;
        l.received = read;
      }
      if (closed) this.live.delete(l);
    }
  }

  snapshot(): TEgressLedgerV1 {
    this.sweep();
    const open = new Map<string, number>();
    for (const l of this.live) if (l.address !== null && !l.socket.destroyed) open.set(this.keyOf(l), (open.get(this.keyOf(l)) ?? 0) + 1);
    const entries = [...this.entries.entries()].map(([k, e]) => ({ ...e, open: open.get(k) ?? 0 }));
    entries.sort((a, b) => a.firstSeenAt.localeCompare(b.firstSeenAt));
    return { since: this.since, collectedAt: new Date().toISOString(), entries: entries.slice(-1000) };
  }

  async persist(): Promise<void> {
    if (this.file) await writeFileAtomic(this.file, JSON.stringify(this.snapshot()));
  }

  private keyOf(l: Live): string {
    return egressKey({ ...l.dest, address: l.address });
  }

  private entryFor(l: Live): TEgressEntryV1 {
    const k = this.keyOf(l);
    let e = this.entries.get(k);
    if (!e) {
      const now = new Date().toISOString();
      e = { host: l.dest.host, port: l.dest.port, address: l.address, purpose: l.dest.purpose, bytesSent: 0, bytesReceived: 0, connections: 0, open: 0, firstSeenAt: now, lastSeenAt: now };
      this.entries.set(k, e);
    }
    return e;
  }
}
