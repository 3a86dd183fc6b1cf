import fs from "node:fs/promises";
import path from "node:path";
import { REPORT_KINDS, type ReportKind } from "@fleet/protocol";
import { z } from "zod";
import type { Logger } from "../logger.js";
import { silentLogger } from "../logger.js";
import { Mutex } from "../util/Mutex.js";
import { writeFileAtomic } from "../util/writeFileAtomic.js";
import { QueueError } from "../errors.js";
import { pickEvictions, type QueueIndexEntry } from "./pickEvictions.js";

export interface QueueLimits {
  maxMessages: number;
  maxBytes: number;
}

/** One signed report waiting for its PubAck. */
export interface QueuedMessage {
  seq: number;
  kind: ReportKind;
  msgId: string;
  /** the compact JWS, exactly as it goes on the wire */
  data: string;
}

const ZStored = z.object({ v: z.literal(1), seq: z.number().int().nonnegative(), kind: z.enum(REPORT_KINDS), msgId: z.string(), data: z.string() });
const FILE_RE = /^(\d{20})\.([a-z]+)\.json$/;
const SEQ_FILE = "seq";

/**
 * Durable FIFO of signed reports in one directory: one file per message named by zero-padded seq (so a sorted
 * listing is the delivery order), each written temp+fsync+rename. The next seq is persisted, so sequence numbers
 * never repeat across restarts even when the queue is empty. Bounded by count and bytes: over the cap, the
 * oldest heartbeats go first, then other expendable kinds and superseded snapshots; never the latest
 * inventory/models/posture.
 */
export class DiskQueue {
  private index: QueueIndexEntry[] = [];
  private nextSeq = 0;
  private bytes = 0;
  private readonly mutex = new Mutex();
  private readonly waiters = new Set<() => void>();
  private dropped = 0;
  private lost = 0;

  private constructor(
    readonly dir: string,
    private readonly limits: QueueLimits,
    private readonly log: Logger,
  ) {}

  /** Open (creating if needed) the queue in `dir` and index what an earlier run left there. */
  static async open(dir: string, limits: QueueLimits, logger: Logger = silentLogger()): Promise<DiskQueue> {
    const q = new DiskQueue(dir, limits, logger.child({ component: "DiskQueue" }));
    await q.load();
    return q;
  }

  /** Count what waits in `dir` without opening (or changing) it: safe while a running agent owns the queue. */
  static async inspect(dir: string): Promise<{ depth: number; bytes: number; kinds: Partial<Record<ReportKind, number>> }> {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    let depth = 0;
    let bytes = 0;
    const kinds: Partial<Record<ReportKind, number>> = {};
    for (const name of names) {
      const m = FILE_RE.exec(name);
      if (!m) continue;
      const st = await fs.stat(path.join(dir, name)).catch(() => null);
      if (!st) continue; // delivered while we looked
      depth++;
      bytes += st.size;
      const kind = m[2] as ReportKind;
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    }
    return { depth, bytes, kinds };
  }

  get depth(): number {
    return this.index.length;
  }
  get sizeBytes(): number {
    return this.bytes;
  }
  /** messages dropped by the cap since this instance opened */
  get droppedCount(): number {
    return this.dropped;
  }
  /**
   * records found broken (truncated mid-record, unparsable, wrong seq) at open or when read back, since this
   * instance opened: they cannot be delivered and are deleted so they cannot block the intact ones behind them
   */
  get lostCount(): number {
    return this.lost;
  }
  /** seqs and kinds in delivery order (for status and tests) */
  list(): { seq: number; kind: ReportKind }[] {
    return this.index.map(({ seq, kind }) => ({ seq, kind }));
  }

  /**
   * Allocate the next seq, let `build` make the signed message for it, and store it durably.
   * Serialized, so seq order on disk is creation order.
   */
  append(kind: ReportKind, build: (seq: number) => Promise<{ msgId: string; data: string }>): Promise<QueuedMessage> {
    return this.mutex.run(async () => {
      const seq = this.nextSeq;
      const built = await build(seq);
      await writeFileAtomic(path.join(this.dir, SEQ_FILE), String(seq + 1), { mode: 0o600 });
      const msg: QueuedMessage = { seq, kind, msgId: built.msgId, data: built.data };
      const text = JSON.stringify({ v: 1, ...msg });
      const file = fileName(seq, kind);
      await writeFileAtomic(path.join(this.dir, file), text, { mode: 0o600 });
      // Only now: a write that failed (disk full) must not use up a seq, or the server would see a gap.
      this.nextSeq = seq + 1;
      const size = Buffer.byteLength(text);
      this.index.push({ seq, kind, file, size });
      this.bytes += size;
      await this.enforceLimits();
      for (const wake of this.waiters) wake();
      this.waiters.clear();
      return msg;
    });
  }

  /** The oldest message, or null when empty. A file that cannot be read back is dropped (and logged) so it cannot block the queue. */
  async peek(): Promise<QueuedMessage | null> {
    for (;;) {
      const head = this.index[0];
      if (!head) return null;
      try {
        const parsed = ZStored.safeParse(JSON.parse(await fs.readFile(path.join(this.dir, head.file), "utf8")));
        if (parsed.success && parsed.data.seq === head.seq) return { seq: head.seq, kind: parsed.data.kind, msgId: parsed.data.msgId, data: parsed.data.data };
        this.log.error({ seq: head.seq, file: head.file }, "dropping unreadable queued report");
        this.lost++;
      } catch (err) {
        // The head may have been evicted by the cap while we read it: look again.
        if (this.index[0] !== head) continue;
        this.log.error({ seq: head.seq, file: head.file, err: (err as Error).message }, "dropping unreadable queued report");
        this.lost++;
      }
      await this.mutex.run(() => this.remove(head.seq));
    }
  }

  /** Delete a delivered message (after its PubAck). */
  ack(seq: number): Promise<void> {
    return this.mutex.run(() => this.remove(seq));
  }

  /** Resolves when something is appended (or at once if the queue is not empty). */
  whenNotEmpty(signal?: AbortSignal): Promise<void> {
    if (this.index.length) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  private async remove(seq: number): Promise<void> {
    const i = this.index.findIndex((e) => e.seq === seq);
    if (i < 0) return;
    const [entry] = this.index.splice(i, 1);
    this.bytes -= entry!.size;
    await fs.rm(path.join(this.dir, entry!.file), { force: true });
  }

  private async enforceLimits(): Promise<void> {
    const victims = pickEvictions(this.index, this.limits);
    if (!victims.length) return;
    const counts: Record<string, number> = {};
    for (const v of victims) {
      counts[v.kind] = (counts[v.kind] ?? 0) + 1;
      await this.remove(v.seq);
    }
    this.dropped += victims.length;
    this.log.warn({ dropped: counts, depth: this.index.length, bytes: this.bytes, limits: this.limits }, "report queue over its cap: dropped the oldest expendable reports");
  }

  private async load(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const names = await fs.readdir(this.dir);
    let maxSeq = -1;
    const broken: string[] = [];
    for (const name of names) {
      if (name.startsWith(".") && name.endsWith(".tmp")) {
        await fs.rm(path.join(this.dir, name), { force: true }); // a write interrupted by a crash
        continue;
      }
      const m = FILE_RE.exec(name);
      if (!m) continue;
      const kind = m[2] as ReportKind;
      if (!(REPORT_KINDS as readonly string[]).includes(kind)) continue;
      const seq = Number(m[1]);
      // A crash or a damaged disk can leave a record cut off mid-write: check each one now (the queue is capped,
      // so this reads at most maxBytes) so the agent reports at start how many it lost, then keeps the intact ones.
      const text = await fs.readFile(path.join(this.dir, name), "utf8");
      maxSeq = Math.max(maxSeq, seq); // a broken record still used its seq: never hand it out again
      if (!isIntactRecord(text, seq, kind)) {
        broken.push(name);
        await fs.rm(path.join(this.dir, name), { force: true });
        continue;
      }
      const size = Buffer.byteLength(text);
      this.index.push({ seq, kind, file: name, size });
      this.bytes += size;
    }
    this.index.sort((a, b) => a.seq - b.seq);
    if (broken.length) {
      this.lost += broken.length;
      this.log.error({ lost: broken.length, recovered: this.index.length, files: broken.slice(0, 20) }, "report queue held broken records (truncated or corrupt): recovered the intact ones, the broken ones are lost");
    }
    const stored = await fs.readFile(path.join(this.dir, SEQ_FILE), "utf8").catch(() => null);
    const storedSeq = stored === null ? 0 : Number(stored.trim());
    if (stored !== null && !Number.isSafeInteger(storedSeq)) throw new QueueError(`corrupt seq file in ${this.dir}: ${JSON.stringify(stored)}`);
    // The counter is written before the message file, so it is normally ahead; the max keeps it safe if not.
    this.nextSeq = Math.max(storedSeq, maxSeq + 1);
  }
}

function isIntactRecord(text: string, seq: number, kind: ReportKind): boolean {
  try {
    const parsed = ZStored.safeParse(JSON.parse(text));
    return parsed.success && parsed.data.seq === seq && parsed.data.kind === kind;
  } catch {
    return false; // not JSON: cut off mid-record
  }
}

function fileName(seq: number, kind: ReportKind): string {
  return `${String(seq).padStart(20, "0")}.${kind}.json`;
}
