import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { COMMAND_CLOCK_SKEW_MS, type TCommandV1 } from "@fleet/protocol";
import type { Logger } from "../logger.js";
import { describeError } from "../util/describeError.js";
import { Mutex } from "../util/Mutex.js";
import { writeFileAtomic } from "../util/writeFileAtomic.js";

/** Where the ids of commands already acted on are kept, in the agent home. */
export const SEEN_COMMANDS_FILE = "seen-commands.json";
/** Ids kept at most. Entries leave once their command expired (it would be refused anyway), so this is a backstop. */
export const MAX_SEEN_COMMANDS = 1000;

export type CommandRefusal = "expired" | "not_yet_valid" | "replayed" | "not_recorded";
export type GateVerdict = { ok: true } | { ok: false; reason: CommandRefusal; detail: string };

const ZSeenFile = z.object({ v: z.literal(1), seen: z.array(z.object({ id: z.string().max(100), expiresAt: z.number() })).max(MAX_SEEN_COMMANDS) });

export interface CommandGateOptions {
  home: string;
  logger: Logger;
  skewMs?: number;
  maxIds?: number;
  now?: () => number;
}

/**
 * Decides whether a verified (signed, addressed to us) command may run: it must be inside its validity
 * window by this device's clock, give or take COMMAND_CLOCK_SKEW_MS, and must not have run before. Ids are
 * persisted (atomic writes) before the command acts, so a restart or a redelivery does not run it twice.
 */
export class CommandGate {
  private readonly seen = new Map<string, number>(); // id -> expiresAt (ms); insertion order = age
  private readonly mutex = new Mutex();
  private readonly file: string;
  private readonly skewMs: number;
  private readonly maxIds: number;
  private readonly now: () => number;

  private constructor(private readonly opts: CommandGateOptions) {
    this.file = path.join(opts.home, SEEN_COMMANDS_FILE);
    this.skewMs = opts.skewMs ?? COMMAND_CLOCK_SKEW_MS;
    this.maxIds = opts.maxIds ?? MAX_SEEN_COMMANDS;
    this.now = opts.now ?? Date.now;
  }

  /** Load the remembered ids. A missing file is a fresh start; an unreadable one is logged and replaced. */
  static async open(opts: CommandGateOptions): Promise<CommandGate> {
    const gate = new CommandGate(opts);
    await gate.load();
    return gate;
  }

  get size(): number {
    return this.seen.size;
  }

  admit(command: TCommandV1): Promise<GateVerdict> {
    return this.mutex.run(async () => {
      const now = this.now();
      const issuedAt = Date.parse(command.issuedAt);
      const expiresAt = Date.parse(command.expiresAt);
      if (issuedAt - this.skewMs > now) {
        return refuse("not_yet_valid", `issued at ${command.issuedAt}, more than ${this.skewMs / 1000} s ahead of this device's clock`);
      }
      if (now > expiresAt + this.skewMs) return refuse("expired", `expired at ${command.expiresAt}`);
      this.prune(now);
      if (this.seen.has(command.commandId)) return refuse("replayed", `command ${command.commandId} already ran`);
      this.seen.set(command.commandId, expiresAt);
      while (this.seen.size > this.maxIds) this.seen.delete(this.seen.keys().next().value!);
      try {
        await this.save();
      } catch (err) {
        // Not remembered on disk means it could run again after a restart: do not run it at all.
        this.seen.delete(command.commandId);
        return refuse("not_recorded", `could not record the command id: ${describeError(err)}`);
      }
      return { ok: true };
    });
  }

  private prune(now: number): void {
    for (const [id, exp] of this.seen) if (now > exp + this.skewMs) this.seen.delete(id);
  }

  private async load(): Promise<void> {
    let text: string;
    try {
      text = await fs.readFile(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err; // EACCES and the like: the agent home is broken, which start-up must show
    }
    let parsed: z.infer<typeof ZSeenFile> | null = null;
    try {
      const r = ZSeenFile.safeParse(JSON.parse(text));
      if (r.success) parsed = r.data;
    } catch {
      // not JSON: handled below
    }
    if (!parsed) {
      // Starting empty is safe enough: every command still has to be inside its minutes-long validity window.
      this.opts.logger.warn({ file: this.file }, "the remembered command ids are unreadable; starting with none");
      return;
    }
    for (const s of parsed.seen) this.seen.set(s.id, s.expiresAt);
  }

  private async save(): Promise<void> {
    const seen = [...this.seen].map(([id, expiresAt]) => ({ id, expiresAt }));
    await writeFileAtomic(this.file, JSON.stringify({ v: 1, seen }), { mode: 0o600 });
  }
}

function refuse(reason: CommandRefusal, detail: string): GateVerdict {
  return { ok: false, reason, detail };
}
