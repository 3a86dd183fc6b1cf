import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../util/writeFileAtomic.js";

export const ASSIGNMENT_FILE = "assignment.json";

const ZStored = z.strictObject({
  v: z.literal(1),
  /** highest assignment version accepted: anything not higher is refused (replay) */
  version: z.number().int().nonnegative(),
  jws: z.string().nullable(),
  /** the install/rollback/clear of this version finished (active, rolled back or failed for good) */
  done: z.boolean(),
});
export type StoredAssignment = z.infer<typeof ZStored>;

/** <home>/assignment.json, written atomically before the agent acts on an assignment. */
export class AssignmentStore {
  private current: StoredAssignment = { v: 1, version: 0, jws: null, done: true };

  constructor(private readonly file: string) {}

  static at(home: string): AssignmentStore {
    return new AssignmentStore(path.join(home, ASSIGNMENT_FILE));
  }

  get value(): StoredAssignment {
    return this.current;
  }

  async load(): Promise<StoredAssignment> {
    try {
      this.current = ZStored.parse(JSON.parse(await fs.readFile(this.file, "utf8")));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`${this.file} is unreadable: ${(err as Error).message}`, { cause: err });
    }
    return this.current;
  }

  async save(next: Omit<StoredAssignment, "v">): Promise<void> {
    const value = ZStored.parse({ v: 1, ...next });
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify(value) + "\n", { mode: 0o600 });
    this.current = value;
  }
}
