import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import type { Socket } from "socket.io-client";
import { FleetEvent, ZRolloutV1, type TRingSpecV1, type TRolloutV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { newCatalogEntry, setCompatibility } from "../../apps/server/src/testing/catalog-factory.js";
import { RolloutDevice } from "../../apps/server/src/testing/rollout-device.js";
import { ROLLOUT_LOCK } from "../../apps/server/src/rollouts/rollouts.repository.js";
import { collectEvents, startReplicaSet, type ReplicaSet, type ServerProcess } from "../support/serverProcess.js";

// Two server processes; the one whose scheduler holds the rollout lock (a pg advisory lock held by a transaction for
// the whole pass) is SIGKILLed in the middle of a pass: ring 0 assigned, the rollout row not yet updated. PostgreSQL
// ends the dead process's transaction, the other replica takes the lock and completes the rollout, and every device
// is assigned exactly once (version 1), accepts exactly one assignment and ends active.

const ring = (name: string, percent: number): TRingSpecV1 => ({
  name,
  percent,
  soakSec: 0,
  gates: { maxFailureRate: 0, minSuccesses: 1, minLoadSuccessRate: 1, maxErrorRate: 0.05, minTokensPerSecRatio: 0.8 },
});

describe("fault: a replica killed while holding the scheduler lock", () => {
  let set: ReplicaSet;
  const replicas: ServerProcess[] = [];
  const sockets: Socket[] = [];
  const clients: pg.Client[] = [];

  beforeAll(async () => {
    set = await startReplicaSet();
    replicas.push(...(await Promise.all([set.start("replica-a"), set.start("replica-b")])));
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await set?.close();
  });

  async function pgClient(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: set.db.url });
    clients.push(c);
    await c.connect();
    return c;
  }

  /** application_name of the sessions holding the rollout lock now (replica-a / replica-b). */
  async function lockHolders(c: pg.Client): Promise<string[]> {
    const { rows } = await c.query<{ name: string }>(
      `SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [ROLLOUT_LOCK],
    );
    return rows.map((r) => r.name);
  }

  it("the other replica takes over and completes the rollout; no device is assigned twice", async () => {
    const [a] = replicas as [ServerProcess, ServerProcess];
    const { prisma } = set.db;
    const entry = await newCatalogEntry(prisma);
    const devices: RolloutDevice[] = [];
    for (let i = 0; i < 4; i++) {
      const sim = await set.enrollDevice(a, `lock-dev-${i}`);
      expect((await a.admin(`/api/v1/devices/${sim.id}/labels`, { method: "PUT", body: JSON.stringify({ group: "g-kill" }) })).status).toBe(200);
      await setCompatibility(prisma, entry.id, sim.id, "cpu-only");
      const d = await RolloutDevice.attach(sim);
      await d.start();
      devices.push(d);
    }

    // The test holds the lock while the rollout is created, then blocks the rollout row: the pass that takes the
    // lock next assigns ring 0 and waits on that row, holding the lock (NO KEY: reports that insert rows referencing
    // the rollout still get through).
    const lock = await pgClient();
    const row = await pgClient();
    await lock.query("BEGIN");
    await lock.query("SELECT pg_advisory_xact_lock($1)", [ROLLOUT_LOCK]);
    const res = await a.admin("/api/v1/rollouts", { method: "POST", body: JSON.stringify({ entryId: entry.id, group: "g-kill", rings: [ring("canary", 50), ring("broad", 100)] }) });
    expect(res.status).toBe(201);
    const id = ZRolloutV1.parse(await res.json()).id;
    await row.query("BEGIN");
    await row.query(`SELECT id FROM "Rollout" WHERE id = $1 FOR NO KEY UPDATE`, [id]);
    await lock.query("COMMIT");

    const holder = await waitFor(
      async () => {
        const holders = await lockHolders(row);
        const blocked = await row.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [holders[0] ?? ""]);
        const pending = await prisma.rolloutDevice.count({ where: { rolloutId: id, state: { notIn: ["waiting"] } } });
        return holders.length === 1 && (blocked.rowCount ?? 0) > 0 && pending === 2 ? holders[0]! : null;
      },
      "one replica holding the lock, blocked mid-pass with ring 0 assigned",
      90_000,
    );
    // Exactly one holder; the other replica's passes skip meanwhile (they try the lock without waiting).
    expect(await lockHolders(row)).toEqual([holder]);
    const victim = replicas.find((r) => r.name === holder)!;
    const survivor = replicas.find((r) => r.name !== holder)!;
    const watcher = await collectEvents(survivor.url, set.env.FLEET_ADMIN_TOKEN!);
    sockets.push(watcher.socket);
    // The canary devices finish their install (their reports stored by either replica) before the kill.
    await waitFor(async () => (await prisma.rolloutDevice.count({ where: { rolloutId: id, state: "active" } })) === 2, "ring 0 active", 90_000);

    await victim.kill("SIGKILL");
    // The dead process's lock went with its connection; nobody holds it until the survivor's next pass.
    await waitFor(async () => !(await lockHolders(row)).includes(holder), "the dead replica's lock released", 90_000);
    await row.query("ROLLBACK");

    const get = async (): Promise<TRolloutV1> => ZRolloutV1.parse(await (await survivor.admin(`/api/v1/rollouts/${id}`)).json());
    await waitFor(async () => (await get()).state === "completed", "the survivor completes the rollout", 90_000);
    const done = await get();
    expect(done.totals.active).toBe(4);
    // Each device: one assignment issued (version 1), one accepted, one move to pending.
    const versions = await prisma.deviceAssignment.findMany({ where: { deviceId: { in: devices.map((d) => d.id) } }, select: { version: true } });
    expect(versions.map((v) => v.version)).toEqual([1n, 1n, 1n, 1n]);
    for (const d of devices) {
      await d.settled();
      expect(d.accepted.map((x) => [x.version, x.action])).toEqual([[1, "install"]]);
      expect(d.refused).toEqual([]);
    }
    const toPending = await prisma.rolloutTransition.groupBy({ by: ["deviceId"], where: { rolloutId: id, state: "pending" }, _count: { _all: true } });
    expect(toPending.map((t) => t._count._all)).toEqual([1, 1, 1, 1]);
    // The survivor's websocket clients heard the completion once.
    await waitFor(() => watcher.events.some((e) => e.type === FleetEvent.RolloutCompleted), "rollout.completed on the survivor's socket");
    expect(watcher.events.filter((e) => e.type === FleetEvent.RolloutCompleted && e.data.rolloutId === id)).toHaveLength(1);
  }, 240_000); // waits allow a loaded CI machine 90 s each; takes ~20 s on an idle one
});
