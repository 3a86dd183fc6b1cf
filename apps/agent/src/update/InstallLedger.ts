import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { ZSha256Hex, ZTargetPath } from "@fleet/protocol";
import { writeFileAtomic } from "../util/writeFileAtomic.js";

const ZEntry = z.object({
  target: ZTargetPath,
  sha256: ZSha256Hex,
  length: z.number().int().nonnegative(),
  installedAt: z.string(),
  /** the model that served when this target was installed: where a rollback without a target returns to */
  servedBefore: z.string().nullable().default(null),
});
const ZLedger = z.strictObject({ v: z.literal(1), installed: z.array(ZEntry) });
export type InstalledTarget = z.infer<typeof ZEntry>;

/** Catalog targets this agent installed (<home>/installed-targets.json), oldest first: for retention and revocation. */
export class InstallLedger {
  private entries: InstalledTarget[] = [];
  constructor(private readonly file: string) {}

  static at(home: string): InstallLedger {
    return new InstallLedger(path.join(home, "installed-targets.json"));
  }

  get installed(): readonly InstalledTarget[] {
    return this.entries;
  }

  async load(): Promise<void> {
    try {
      this.entries = ZLedger.parse(JSON.parse(await fs.readFile(this.file, "utf8"))).installed;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`${this.file} is unreadable: ${(err as Error).message}`, { cause: err });
    }
  }

  find(target: string, sha256: string): InstalledTarget | undefined {
    return this.entries.find((e) => e.target === target && e.sha256 === sha256);
  }

  async add(entry: Omit<InstalledTarget, "installedAt" | "servedBefore"> & { servedBefore?: string | null }): Promise<void> {
    this.entries = [...this.entries.filter((e) => e.target !== entry.target), { ...entry, servedBefore: entry.servedBefore ?? null, installedAt: new Date().toISOString() }];
    await this.save();
  }

  async remove(target: string): Promise<void> {
    this.entries = this.entries.filter((e) => e.target !== target);
    await this.save();
  }

  private async save(): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify({ v: 1, installed: this.entries }, null, 2) + "\n", { mode: 0o600 });
  }
}
