import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deviceCommandConsumer } from "@fleet/protocol";
import { NatsService } from "../nats/nats.service.js";
import type { SimDevice } from "../testing/device-sim.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { NatsIdentityService } from "./nats-identity.service.js";

// Real server, nats-server and PostgreSQL. Devices written straight to the database (as if enrolled while NATS lost
// its store) have no command consumer; the start-up check must create exactly those, reading the stream's consumer
// names a page (1,024) at a time rather than asking for each device.
let t: TestServer;
let enrolled: SimDevice;
const SEEDED = 1_100; // more than one page of names

beforeAll(async () => {
  t = await startTestServer({}, { natsAuth: "none" });
  enrolled = await t.enrollDevice("ws-enrolled");
  await t.db.prisma.device.createMany({
    data: Array.from({ length: SEEDED }, (_, i) => ({ id: `seeded-${String(i).padStart(5, "0")}`, hostname: `h${i}`, publicKeyJwk: {}, publicKeyThumbprint: `tp-${i}` })),
  });
  await t.db.prisma.device.create({ data: { id: "seeded-revoked", hostname: "gone", state: "revoked", publicKeyJwk: {}, publicKeyThumbprint: "tp-revoked" } });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe("the devices' command consumers at start-up", () => {
  it("creates the missing ones only, for active devices, and finds them all by name afterwards", async () => {
    const identity = t.server.app.get(NatsIdentityService);
    const nats = t.server.app.get(NatsService);
    const before = await nats.commandConsumerNames();
    expect(before.has(deviceCommandConsumer(enrolled.id))).toBe(true);
    expect(before.has(deviceCommandConsumer("seeded-00000"))).toBe(false);

    // the enrolled device's consumer exists already; the revoked device gets none
    expect(await identity.ensureCommandConsumers()).toEqual({ devices: SEEDED + 1, created: SEEDED });

    const after = await nats.commandConsumerNames();
    expect(after.size).toBe(SEEDED + 1);
    for (const id of ["seeded-00000", "seeded-01023", "seeded-01024", `seeded-${String(SEEDED - 1).padStart(5, "0")}`, enrolled.id]) {
      expect(after.has(deviceCommandConsumer(id)), id).toBe(true);
    }
    expect(after.has(deviceCommandConsumer("seeded-revoked"))).toBe(false);
    // a re-created consumer starts at new commands: none of the stream's older ones are replayed to it
    const info = await nats.jsm.consumers.info(t.config.commandStream, deviceCommandConsumer("seeded-00000"));
    expect(info.config.deliver_policy).toBe("new");

    expect(await identity.ensureCommandConsumers()).toEqual({ devices: SEEDED + 1, created: 0 });
  }, 120_000);
});
