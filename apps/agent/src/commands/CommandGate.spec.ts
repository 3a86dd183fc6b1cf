import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { COMMAND_CLOCK_SKEW_MS, COMMAND_TTL_MS, ZCommandV1, type TCommandV1 } from "@fleet/protocol";
import { silentLogger } from "../logger.js";
import { tempDir } from "../testing/tempDir.js";
import { CommandGate, SEEN_COMMANDS_FILE } from "./CommandGate.js";

/** A command as the server issues it (through the protocol schema), issued at `issuedAtMs`. */
function command(issuedAtMs = Date.now(), commandId: string = randomUUID()): TCommandV1 {
  return ZCommandV1.parse({
    v: 1, commandId, deviceId: "dev-1", issuedAt: new Date(issuedAtMs).toISOString(),
    expiresAt: new Date(issuedAtMs + COMMAND_TTL_MS).toISOString(), body: { type: "report-now" },
  });
}

describe("CommandGate", () => {
  let home: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir: home, cleanup } = await tempDir()));
  afterEach(async () => cleanup());
  const open = (o: { maxIds?: number } = {}) => CommandGate.open({ home, logger: silentLogger(), ...o });

  it("runs a command once: the second delivery is refused, also after a restart", async () => {
    const gate = await open();
    const c = command();
    expect(await gate.admit(c)).toEqual({ ok: true });
    expect(await gate.admit(c)).toMatchObject({ ok: false, reason: "replayed" });
    // concurrent deliveries of one command: exactly one runs
    const twin = command();
    const verdicts = await Promise.all([gate.admit(twin), gate.admit(twin), gate.admit(twin)]);
    expect(verdicts.filter((v) => v.ok)).toHaveLength(1);

    const restarted = await open();
    expect(await restarted.admit(c)).toMatchObject({ ok: false, reason: "replayed" });
    expect(await restarted.admit(command())).toEqual({ ok: true });
    // written atomically, owner-only: no temp files left beside it
    expect((await fs.readdir(home)).filter((n) => n.includes(SEEN_COMMANDS_FILE))).toEqual([SEEN_COMMANDS_FILE]);
    expect((await fs.stat(path.join(home, SEEN_COMMANDS_FILE))).mode & 0o777).toBe(0o600);
  });

  it("refuses a command dated 2001, one past its expiry, and one from the future; tolerates the stated skew", async () => {
    const gate = await open();
    expect(await gate.admit(command(Date.parse("2001-01-01T00:00:00Z")))).toMatchObject({ ok: false, reason: "expired" });
    expect(await gate.admit(command(Date.now() - COMMAND_TTL_MS - COMMAND_CLOCK_SKEW_MS - 1000))).toMatchObject({ ok: false, reason: "expired" });
    expect(await gate.admit(command(Date.now() + COMMAND_CLOCK_SKEW_MS + 60_000))).toMatchObject({ ok: false, reason: "not_yet_valid" });
    // server clock a minute ahead or behind: still accepted
    expect(await gate.admit(command(Date.now() + COMMAND_CLOCK_SKEW_MS / 2))).toEqual({ ok: true });
    expect(await gate.admit(command(Date.now() - COMMAND_TTL_MS - COMMAND_CLOCK_SKEW_MS / 2))).toEqual({ ok: true });
  });

  it("stays bounded: expired ids are forgotten, and at most maxIds are kept", async () => {
    let now = Date.now();
    const gate = await CommandGate.open({ home, logger: silentLogger(), maxIds: 3, now: () => now });
    for (let i = 0; i < 5; i++) expect((await gate.admit(command(now))).ok).toBe(true);
    expect(gate.size).toBe(3);
    now += COMMAND_TTL_MS + COMMAND_CLOCK_SKEW_MS + 1;
    expect((await gate.admit(command(now))).ok).toBe(true);
    expect(gate.size).toBe(1);
    const onDisk = JSON.parse(await fs.readFile(path.join(home, SEEN_COMMANDS_FILE), "utf8")) as { seen: unknown[] };
    expect(onDisk.seen).toHaveLength(1);
  });

  it("an unreadable ids file is replaced, not fatal", async () => {
    await fs.writeFile(path.join(home, SEEN_COMMANDS_FILE), "{torn");
    const gate = await open();
    expect(await gate.admit(command())).toEqual({ ok: true });
    expect(JSON.parse(await fs.readFile(path.join(home, SEEN_COMMANDS_FILE), "utf8"))).toMatchObject({ v: 1 });
  });

  it("a command whose id cannot be recorded does not run", async () => {
    const gate = await open();
    await fs.rm(home, { recursive: true }); // the agent home vanished: the atomic write cannot create its temp file
    expect(await gate.admit(command())).toMatchObject({ ok: false, reason: "not_recorded" });
    await fs.mkdir(home);
  });
});
