import { connect, Events, type NatsConnection, type Subscription } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subjects } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { NatsService } from "../nats/nats.service.js";
import type { SimDevice } from "../testing/device-sim.js";
import { heartbeatBody } from "../testing/fixtures.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";

// Real nats-server in operator mode, real server, two SimDevices enrolled through it (each its own nkey and JWT).
let t: TestServer;
let a: SimDevice;
let b: SimDevice;
let admin: NatsConnection;
const BUCKET = "FLEET_ASSIGNMENTS";
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (d: Uint8Array) => new TextDecoder().decode(d);

beforeAll(async () => {
  t = await startTestServer({}, { natsAuth: "jwt" });
  [a, b] = await Promise.all([t.enrollDevice("ws-a"), t.enrollDevice("ws-b")]);
  admin = await connect(t.nats.connectOptions());
});
afterAll(async () => {
  await admin?.close();
  await t?.close();
});

const subj = () => subjects(t.config.subjectPrefix);
/** Drains a subscription; resolves with the error that ends it (a permissions violation ends it at once). */
const subscriptionError = (sub: Subscription) =>
  (async () => {
    for await (const m of sub) throw new Error(`received ${m.subject}: the subscription should have been refused`);
    return null;
  })().catch((e: Error) => e);

describe("every device its own NATS identity", () => {
  it("a device publishes its own reports (stored), and cannot publish as another device", async () => {
    const own = a.report("heartbeat", heartbeatBody());
    await a.publish(own);
    await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: own.msgId } }), "A's own report stored");

    const forged = await a.sign(a.report("heartbeat", heartbeatBody()));
    await expect(a.publishRaw("heartbeat", forged, b.id)).rejects.toThrow(/permissions violation/i);
    // nor publish a command to itself or to B
    await expect(a.nc.jetstream().publish(subj().command(b.id), enc("x"))).rejects.toThrow(/permissions violation/i);
    await expect(a.nc.jetstream().publish(subj().command(a.id), enc("x"))).rejects.toThrow(/permissions violation/i);
  });

  it("cannot read another device's reports or commands", async () => {
    for (const subject of [`${subj().prefix}.device.${b.id}.>`, `${subj().prefix}.device.>`, subj().command(b.id), "_INBOX.>", `_INBOX_${b.id}.>`, ">"]) {
      const c = await a.connectAgain(t.nats.url);
      expect((await subscriptionError(c.subscribe(subject)))?.message, subject).toMatch(/permissions violation/i);
      await c.close();
    }
    // B's command consumer: neither its info nor its messages
    await expect(a.nc.jetstream().consumers.get(t.config.commandStream, `agent-${b.id}`)).rejects.toThrow(/permissions violation/i);
    await expect(a.nc.request(`$JS.API.CONSUMER.MSG.NEXT.${t.config.commandStream}.agent-${b.id}`, enc(JSON.stringify({ batch: 1 })), { timeout: 2000 })).rejects.toThrow(/permissions violation/i);
  });

  it("reads its own command consumer, which the server created at enrollment", async () => {
    await t.server.app.get(NatsService).publishCommand(a.id, "signed-command-bytes", `cmd-${a.id}`);
    const consumer = await a.nc.jetstream().consumers.get(t.config.commandStream, `agent-${a.id}`);
    const m = await consumer.next({ expires: 5000 });
    expect(m && dec(m.data)).toBe("signed-command-bytes");
    m!.ack();
  });

  it("cannot touch the JetStream API beyond its consumer: no stream delete, no consumer create or delete, no manager", async () => {
    const api = (s: string, body: unknown = {}) => a.nc.request(s, enc(JSON.stringify(body)), { timeout: 2000 });
    await expect(api(`$JS.API.STREAM.DELETE.${t.config.stream}`)).rejects.toThrow(/permissions violation/i);
    await expect(api(`$JS.API.STREAM.PURGE.${t.config.commandStream}`)).rejects.toThrow(/permissions violation/i);
    await expect(api(`$JS.API.CONSUMER.DELETE.${t.config.commandStream}.agent-${a.id}`)).rejects.toThrow(/permissions violation/i);
    await expect(api(`$JS.API.CONSUMER.DELETE.${t.config.stream}.${t.config.consumer}`)).rejects.toThrow(/permissions violation/i);
    await expect(api(`$JS.API.CONSUMER.CREATE.${t.config.commandStream}`, { stream_name: t.config.commandStream, config: { filter_subject: subj().command(b.id) } })).rejects.toThrow(/permissions violation/i);
    await expect(api(`$JS.API.CONSUMER.DURABLE.CREATE.${t.config.commandStream}.spy`, { stream_name: t.config.commandStream, config: { durable_name: "spy" } })).rejects.toThrow(/permissions violation/i);
    await expect(a.nc.jetstreamManager()).rejects.toThrow(/permissions violation/i);
    const jsm = await admin.jetstreamManager();
    expect((await jsm.streams.info(t.config.stream)).config.name).toBe(t.config.stream);
    expect((await jsm.consumers.info(t.config.commandStream, `agent-${a.id}`)).name).toBe(`agent-${a.id}`);
  });

  it("cannot publish a revocation announcement (and an unsigned one is ignored anyway)", async () => {
    const seen: string[] = [];
    const sub = admin.subscribe(subj().deviceRevoked(), { callback: (_e, m) => seen.push(dec(m.data)) });
    await admin.flush();
    const violations: string[] = [];
    void (async () => {
      for await (const s of a.nc.status()) if (s.type === Events.Error) violations.push(typeof s.data === "string" ? s.data : JSON.stringify(s.data));
    })();
    a.nc.publish(subj().deviceRevoked(), enc(JSON.stringify({ v: 1, deviceId: b.id, revokedAt: new Date().toISOString(), origin: "forged" })));
    await a.nc.flush();
    admin.publish(subj().deviceRevoked(), enc("marker"));
    await waitFor(() => seen.length > 0, "the marker");
    expect(seen).toEqual(["marker"]);
    await waitFor(() => violations.some((v) => /permissions[ _]violation/i.test(v)), "A told it may not publish there");
    sub.unsubscribe();
    expect(a.nc.isClosed()).toBe(false); // a refused publish does not end the connection
  });

  it("reads its own assignment in the KV bucket (direct get and live updates), never another device's", async () => {
    const kv = await admin.jetstream().views.kv(BUCKET, { history: 1 });
    await kv.put(a.id, enc("assignment-for-a-v1"));
    await kv.put(b.id, enc("assignment-for-b"));
    const directGet = (id: string) => a.nc.request(`$JS.API.DIRECT.GET.KV_${BUCKET}.$KV.${BUCKET}.${id}`, undefined, { timeout: 2000 });

    expect(dec((await directGet(a.id)).data)).toBe("assignment-for-a-v1");
    await expect(directGet(b.id)).rejects.toThrow(/permissions violation/i);

    const live = a.nc.subscribe(`$KV.${BUCKET}.${a.id}`, { max: 1 });
    await a.nc.flush();
    await kv.put(a.id, enc("assignment-for-a-v2"));
    for await (const m of live) expect(dec(m.data)).toBe("assignment-for-a-v2");

    const c = await a.connectAgain(t.nats.url);
    expect((await subscriptionError(c.subscribe(`$KV.${BUCKET}.${b.id}`)))?.message).toMatch(/permissions violation/i);
    expect((await subscriptionError(c.subscribe(`$KV.${BUCKET}.>`)))?.message).toMatch(/permissions violation/i);
    await c.close();
  });

  it("a revoked device is disconnected at once and cannot reconnect; the others stay connected", async () => {
    const closed = a.nc.closed();
    const res = await t.admin(`/api/v1/devices/${a.id}/revoke`, { method: "POST" });
    expect(res.status).toBe(200);
    // nats.js gives up after two identical authorization errors, so the connection ends for good
    expect(String(await closed)).toMatch(/authorization|revoked/i);
    await expect(a.connectAgain(t.nats.url, { maxReconnectAttempts: 0 })).rejects.toThrow(/authorization/i);

    const still = b.report("heartbeat", heartbeatBody());
    await b.publish(still);
    await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: still.msgId } }), "B's report stored");
  });

  it("a restarted nats-server gets the revocations back from the server when it reconnects", async () => {
    await t.nats.stop();
    await t.nats.start();
    await waitFor(() => t.server.app.get(NatsService).isConnected, "the server reconnected");
    // the preloaded account has no revocations; the server re-pushes them right after reconnecting
    await waitFor(async () => (await a.connectAgain(t.nats.url, { maxReconnectAttempts: 0 }).then(async (c) => (await c.close(), false), () => true)), "A refused again");
    // B (not revoked) reconnects by itself and reports again
    const after = b.report("heartbeat", heartbeatBody());
    await waitFor(() => b.publish(after).then(() => true, () => false), "B publishes after the restart");
    await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: after.msgId } }), "B's report stored");
  });
});
