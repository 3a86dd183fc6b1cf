import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { FleetEvent, type TFleetEventV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { heartbeatBody } from "../apps/server/src/testing/fixtures.js";
import { collectEvents, counterSum, startReplicaSet, type ReplicaSet, type ServerProcess } from "./support/serverProcess.js";

// Two server processes on one NATS and one PostgreSQL (issue 15): every report is stored once by the shared durable
// consumer, both replicas take part, and a websocket client of either replica sees every report's event once,
// whichever replica stored it; retention runs on both, one batch at a time, and deletes each old row once. (A replica killed while holding the scheduler lock: test/faults/replica-killed-holding-lock.test.ts.)

const DEVICES = 6;
const REPORTS_EACH = 10;

describe("two server replicas", () => {
  let set: ReplicaSet;
  let a: ServerProcess;
  let b: ServerProcess;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // retention every second in small batches on both: their runs overlap
    set = await startReplicaSet({ RETENTION_INTERVAL_SEC: "1", RETENTION_BATCH_SIZE: "10" });
    // together, as a deployment starts them (migrations, streams, keys and the TUF root are safe to race)
    [a, b] = await Promise.all([set.start("replica-a"), set.start("replica-b")]);
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await set?.close();
  });

  it("stores each report once across both replicas, and a client of either sees each report's event once", async () => {
    const [onA, onB] = await Promise.all([collectEvents(a.url, set.env.FLEET_ADMIN_TOKEN!), collectEvents(b.url, set.env.FLEET_ADMIN_TOKEN!)]);
    sockets.push(onA.socket, onB.socket);
    // Half the devices enroll through each replica (the enrollment event is produced there).
    const devices = await Promise.all(Array.from({ length: DEVICES }, (_, i) => set.enrollDevice(i % 2 ? b : a, `replica-dev-${i}`)));
    const ids = devices.map((d) => d.id);
    const sent: string[] = [];
    await Promise.all(
      devices.map(async (d) => {
        for (let i = 0; i < REPORTS_EACH; i++) {
          const r = d.report("heartbeat", heartbeatBody());
          sent.push(r.msgId);
          await d.publish(r);
        }
      }),
    );
    const total = DEVICES * REPORTS_EACH;
    const { prisma } = set.db;
    await waitFor(async () => (await prisma.processedMessage.count({ where: { deviceId: { in: ids } } })) === total, `${total} reports stored`, 90_000);

    // Exactly once: the ledger and the heartbeat table hold each sent report one time.
    const ledger = await prisma.processedMessage.findMany({ where: { deviceId: { in: ids } }, select: { msgId: true } });
    expect(ledger.map((r) => r.msgId).sort()).toEqual([...sent].sort());
    const beats = await prisma.heartbeat.findMany({ where: { deviceId: { in: ids } }, select: { msgId: true } });
    expect(beats.map((r) => r.msgId).sort()).toEqual([...sent].sort());
    // Both replicas stored some, and together exactly what was sent (none stored twice and counted as such).
    const stored = [counterSum(await a.metrics(), "fleet_reports_processed_total"), counterSum(await b.metrics(), "fleet_reports_processed_total")];
    expect(stored[0]! + stored[1]!).toBe(total);
    expect(Math.min(...stored)).toBeGreaterThan(0);

    // Each client saw every report's event exactly once: the ones stored by the other replica came over the relay.
    const reported = (events: TFleetEventV1[]) => events.flatMap((e) => (e.type === FleetEvent.DeviceReported && ids.includes(e.deviceId!) ? [e.data.msgId] : []));
    await waitFor(() => reported(onA.events).length >= total && reported(onB.events).length >= total, "every report's event on both clients", 90_000);
    for (const { events } of [onA, onB]) {
      expect(reported(events).sort()).toEqual([...sent].sort());
      for (const id of ids) {
        const of = (type: string) => events.filter((e) => e.type === type && e.deviceId === id);
        expect(of(FleetEvent.DeviceEnrolled)).toHaveLength(1);
        expect(of(FleetEvent.DeviceOnline)).toHaveLength(1);
      }
    }
    // Nothing was dropped on the way.
    for (const r of [a, b]) expect(counterSum(await r.metrics(), "fleet_event_relay_dropped_total")).toBe(0);
  });

  it("retention runs on both replicas but one batch at a time: each old row is deleted and counted once", async () => {
    const dev = await set.enrollDevice(a, "replica-retention");
    const old = Date.now() - 30 * 86_400_000;
    const rows = Array.from({ length: 60 }, (_, i) => ({
      deviceId: dev.id,
      msgId: `old-${dev.id}-${i}`,
      sentAt: new Date(old + i * 1000),
      receivedAt: new Date(old + i * 1000),
      agentVersion: "0.1.0-test",
      uptimeSec: i,
      queueDepth: 0,
      runtimeState: "idle",
      rssBytes: 1n,
    }));
    const deletedBefore = await Promise.all([a, b].map(async (r) => counterSum(await r.metrics(), "fleet_retention_deleted_total")));
    await set.db.prisma.heartbeat.createMany({ data: rows });
    // every old heartbeat but the device's latest goes (retention keeps each device's newest)
    await waitFor(async () => (await set.db.prisma.heartbeat.count({ where: { deviceId: dev.id } })) === 1, "old heartbeats pruned", 90_000);
    const kept = await set.db.prisma.heartbeat.findMany({ where: { deviceId: dev.id }, select: { msgId: true } });
    expect(kept).toEqual([{ msgId: `old-${dev.id}-59` }]);
    const deleted = await Promise.all([a, b].map(async (r, i) => counterSum(await r.metrics(), "fleet_retention_deleted_total") - deletedBefore[i]!));
    expect(deleted[0]! + deleted[1]!).toBe(59);
  });
});
