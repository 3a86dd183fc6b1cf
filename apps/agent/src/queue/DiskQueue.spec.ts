import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ReportKind } from "@fleet/protocol";
import { tempDir } from "../testing/tempDir.js";
import { DiskQueue } from "./DiskQueue.js";

const LIMITS = { maxMessages: 100, maxBytes: 1024 * 1024 };
const add = (q: DiskQueue, kind: ReportKind, payload = "x") => q.append(kind, async (seq) => ({ msgId: `m-${seq}`, data: `${kind}:${seq}:${payload}` }));

describe("DiskQueue", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    const t = await tempDir();
    dir = path.join(t.dir, "queue");
    cleanup = t.cleanup;
  });
  afterEach(async () => cleanup());

  it("hands messages out in append order and deletes only what is acked", async () => {
    const q = await DiskQueue.open(dir, LIMITS);
    await Promise.all([add(q, "inventory"), add(q, "models"), add(q, "heartbeat")]);
    expect(q.list()).toEqual([
      { seq: 0, kind: "inventory" },
      { seq: 1, kind: "models" },
      { seq: 2, kind: "heartbeat" },
    ]);
    const head = await q.peek();
    expect(head).toEqual({ seq: 0, kind: "inventory", msgId: "m-0", data: "inventory:0:x" });
    expect(await q.peek()).toEqual(head); // peek does not consume
    await q.ack(0);
    expect((await q.peek())?.seq).toBe(1);
    expect((await fs.readdir(dir)).filter((n) => n.endsWith(".json")).sort()).toEqual([
      "00000000000000000001.models.json",
      "00000000000000000002.heartbeat.json",
    ]);
  });

  it("keeps messages and the seq counter across instances", async () => {
    const q1 = await DiskQueue.open(dir, LIMITS);
    await add(q1, "inventory");
    await add(q1, "models");
    await q1.ack(0);
    const q2 = await DiskQueue.open(dir, LIMITS);
    expect(q2.list()).toEqual([{ seq: 1, kind: "models" }]);
    expect((await q2.peek())?.data).toBe("models:1:x");
    await q2.ack(1);
    // an empty queue still never reuses a seq
    const q3 = await DiskQueue.open(dir, LIMITS);
    expect(q3.depth).toBe(0);
    expect((await add(q3, "posture")).seq).toBe(2);
  });

  it("does not advance seq when building a message fails", async () => {
    const q = await DiskQueue.open(dir, LIMITS);
    await expect(q.append("events", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect((await add(q, "events")).seq).toBe(0);
  });

  it("over the count cap drops the oldest heartbeats first, never inventory or models", async () => {
    const q = await DiskQueue.open(dir, { maxMessages: 4, maxBytes: 1024 * 1024 });
    await add(q, "inventory"); // 0
    await add(q, "heartbeat"); // 1
    await add(q, "models"); // 2
    await add(q, "heartbeat"); // 3
    await add(q, "metrics"); // 4 -> over: drop heartbeat 1
    expect(q.list().map((e) => e.seq)).toEqual([0, 2, 3, 4]);
    await add(q, "heartbeat"); // 5 -> drop heartbeat 3
    expect(q.list().map((e) => e.seq)).toEqual([0, 2, 4, 5]);
    await add(q, "inventory"); // 6 -> drop heartbeat 5
    await add(q, "events"); // 7 -> no heartbeat left: drop metrics 4
    expect(q.list()).toEqual([
      { seq: 0, kind: "inventory" },
      { seq: 2, kind: "models" },
      { seq: 6, kind: "inventory" },
      { seq: 7, kind: "events" },
    ]);
    await add(q, "models"); // 8 -> drop events 7
    expect(q.list().map((e) => e.seq)).toEqual([0, 2, 6, 8]);
    await add(q, "posture"); // 9 -> nothing expendable: drop inventory 0, superseded by inventory 6
    expect(q.list().map((e) => e.seq)).toEqual([2, 6, 8, 9]);
    expect(q.droppedCount).toBe(6);
    const files = (await fs.readdir(dir)).filter((n) => n.endsWith(".json"));
    expect(files).toHaveLength(q.depth);
  });

  it("over the byte cap drops heartbeats but keeps the newest snapshots even above the cap", async () => {
    const big = "y".repeat(400);
    const q = await DiskQueue.open(dir, { maxMessages: 100, maxBytes: 1200 });
    await add(q, "models", big);
    await add(q, "heartbeat", big);
    await add(q, "inventory", big); // ~1.5 KB: the heartbeat goes
    expect(q.list().map((e) => e.kind)).toEqual(["models", "inventory"]);
    await add(q, "posture", big); // only newest snapshots left: nothing can go
    expect(q.list().map((e) => e.kind)).toEqual(["models", "inventory", "posture"]);
    expect(q.sizeBytes).toBeGreaterThan(1200);
  });

  it("reports depth without opening the queue", async () => {
    const q = await DiskQueue.open(dir, LIMITS);
    await add(q, "inventory");
    await add(q, "heartbeat");
    expect(await DiskQueue.inspect(dir)).toMatchObject({ depth: 2, kinds: { inventory: 1, heartbeat: 1 } });
    expect(await DiskQueue.inspect(path.join(dir, "absent"))).toMatchObject({ depth: 0 });
  });

  it("drops an unreadable head instead of blocking behind it", async () => {
    const q = await DiskQueue.open(dir, LIMITS);
    await add(q, "inventory");
    await add(q, "models");
    await fs.writeFile(path.join(dir, "00000000000000000000.inventory.json"), "{ not json");
    expect((await q.peek())?.seq).toBe(1);
    expect(q.depth).toBe(1);
  });

  it("wakes a waiter when something is appended", async () => {
    const q = await DiskQueue.open(dir, LIMITS);
    let woke = false;
    const waiting = q.whenNotEmpty().then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(woke).toBe(false);
    await add(q, "events");
    await waiting;
    expect(woke).toBe(true);
  });
  it("keeps the intact records when one was cut off mid-record, and counts the lost one", async () => {
    const q = await DiskQueue.open(dir, LIMITS);
    for (const kind of ["heartbeat", "inventory", "models", "posture"] as const) await add(q, kind);
    const victim = "00000000000000000001.inventory.json";
    const full = await fs.readFile(path.join(dir, victim));
    await fs.truncate(path.join(dir, victim), Math.floor(full.length / 2));
    const reopened = await DiskQueue.open(dir, LIMITS);
    expect(reopened.lostCount).toBe(1);
    expect(reopened.list()).toEqual([
      { seq: 0, kind: "heartbeat" },
      { seq: 2, kind: "models" },
      { seq: 3, kind: "posture" },
    ]);
    expect((await add(reopened, "heartbeat")).seq).toBe(4); // the broken record's seq is never reused
    await expect(fs.stat(path.join(dir, victim))).rejects.toThrow(/ENOENT/);
  });
});
