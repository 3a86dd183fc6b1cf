import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@fleet/db/testing";
import { AuditRepository } from "../audit/audit.repository.js";
import { newCatalogEntry } from "../testing/catalog-factory.js";
import { RolloutsRepository } from "./rollouts.repository.js";

// What a new rollout records as each device's "previous" model (where a rollback returns it), on a real database:
// the newer of the latest heartbeat and the latest install a rollout saw go active, by the device's own clock.
let db: TestDatabase;
let repo: RolloutsRepository;
const at = (s: number) => new Date(Date.UTC(2026, 10, 29, 3, 0, s));

beforeAll(async () => {
  db = await createTestDatabase();
  repo = new RolloutsRepository(db.prisma, new AuditRepository(db.prisma));
});
afterAll(async () => {
  await db?.drop();
});

async function device(id: string, heartbeat: { model: string | null; sentAt: Date } | null, installed: { fileName: string; sha256: string }[] = []) {
  await db.prisma.device.create({ data: { id, hostname: id, publicKeyJwk: {}, publicKeyThumbprint: `tp-${id}` } });
  if (heartbeat) {
    await db.prisma.heartbeat.create({
      data: { deviceId: id, msgId: `hb-${id}`, sentAt: heartbeat.sentAt, agentVersion: "1", uptimeSec: 1, queueDepth: 0, runtimeState: "ready", activeModel: heartbeat.model, rssBytes: 1n },
    });
  }
  for (const m of installed) {
    await db.prisma.installedModel.create({ data: { deviceId: id, path: `/models/${m.fileName}`, fileName: m.fileName, sizeBytes: 1n, mtimeMs: 0, sha256: m.sha256, firstSeenAt: at(0), lastSeenAt: at(0) } });
  }
}

async function wentActive(deviceId: string, entryId: string, stateAt: Date, state: "active" | "rolled_back" = "active") {
  const rollout = await db.prisma.rollout.create({ data: { entryId, rings: [], createdBy: "test", state: "completed" } });
  await db.prisma.rolloutDevice.create({ data: { rolloutId: rollout.id, deviceId, ring: 0, state, stateAt } });
}

describe("a device's previous model for a new rollout", () => {
  it("is the install a rollout saw go active when it is newer than the last heartbeat, else the heartbeat's model", async () => {
    const good = await newCatalogEntry(db.prisma);
    const older = await newCatalogEntry(db.prisma);
    // the heartbeat still names the model from before the install that went active a second later
    await device("stale-heartbeat", { model: "base.gguf", sentAt: at(10) }, [{ fileName: "base.gguf", sha256: "1".repeat(64) }]);
    await wentActive("stale-heartbeat", good.id, at(11));
    // a heartbeat after the install names what serves now (the agent fell back, or an admin changed it)
    await device("newer-heartbeat", { model: "local.gguf", sentAt: at(20) }, [{ fileName: "local.gguf", sha256: "2".repeat(64) }]);
    await wentActive("newer-heartbeat", good.id, at(19));
    // only the latest active install counts; a rolled-back one does not
    await device("two-installs", null);
    await wentActive("two-installs", older.id, at(30));
    await wentActive("two-installs", good.id, at(31));
    await device("rolled-back", { model: "base", sentAt: at(40) }, [{ fileName: "base.gguf", sha256: "3".repeat(64) }]);
    await wentActive("rolled-back", good.id, at(41), "rolled_back");
    // nothing known, or a heartbeat serving nothing
    await device("unknown", null);
    await device("idle", { model: null, sentAt: at(50) });

    const prev = await repo.previousServing(["stale-heartbeat", "newer-heartbeat", "two-installs", "rolled-back", "unknown", "idle"]);
    expect(Object.fromEntries(prev)).toEqual({
      "stale-heartbeat": { model: good.targetPath, sha256: good.sha256 },
      "newer-heartbeat": { model: "local.gguf", sha256: "2".repeat(64) },
      "two-installs": { model: good.targetPath, sha256: good.sha256 },
      "rolled-back": { model: "base", sha256: "3".repeat(64) },
    });
  });
});
