// A signing thread of bench/fleet-sim: derives its share of the devices' keys (bench/lib/sim/keys.mjs) and imports
// each private key once, then signs planned reports with @fleet/protocol's signReport (the agent's exact JWS), each
// with sentAt = its planned due time. Replies carry the JWS bytes packed in one transferred buffer.
import { randomUUID } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { importPrivateJwk, signReport } from "@fleet/protocol";
import { bodyFor, hardwareFor } from "./fleet.mjs";
import { deviceId, hostnameOf } from "./seed.mjs";
import { deviceKey } from "./keys.mjs";

const { seed } = workerData;
const keys = new Map(); // device index -> CryptoKey
const hw = new Map();
const encoder = new TextEncoder();

parentPort.on("message", async (m) => {
  try {
    if (m.op === "keys") {
      // public x of each device in m.devices (the private keys stay in this thread)
      const xs = [];
      for (const i of m.devices) {
        const { privateJwk, publicJwk } = deviceKey(seed, i);
        keys.set(i, await importPrivateJwk(privateJwk));
        xs.push(publicJwk.x);
      }
      parentPort.postMessage({ id: m.id, xs });
      return;
    }
    if (m.op === "sign") {
      // m.items: flat [device, kindIndex, seq, dueEpochMs, ...]; m.kinds names the kind indexes
      const parts = [];
      const msgIds = [];
      let total = 0;
      for (let k = 0; k < m.items.length; k += 4) {
        const i = m.items[k];
        const kind = m.kinds[m.items[k + 1]];
        const sentAt = new Date(m.items[k + 3]);
        if (!hw.has(i)) hw.set(i, hardwareFor(i));
        const body = bodyFor(kind, i, hostnameOf(i), hw.get(i), sentAt, 3600 + (m.items[k + 3] - m.wall0) / 1000);
        const report = { v: 1, kind, deviceId: deviceId(i), msgId: randomUUID(), seq: m.items[k + 2], sentAt: sentAt.toISOString(), body };
        const bytes = encoder.encode(await signReport(report, keys.get(i)));
        parts.push(bytes);
        msgIds.push(report.msgId);
        total += bytes.length;
      }
      const buf = new Uint8Array(total);
      const ends = new Uint32Array(parts.length);
      let off = 0;
      parts.forEach((p, j) => {
        buf.set(p, off);
        off += p.length;
        ends[j] = off;
      });
      parentPort.postMessage({ id: m.id, buf, ends, msgIds }, [buf.buffer, ends.buffer]);
      return;
    }
    throw new Error(`unknown op ${m.op}`);
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: err.stack ?? String(err) });
  }
});
