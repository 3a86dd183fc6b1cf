// Rollout participation of simulated devices (as bench/rollout.mjs sets it up): an approved catalog entry and its
// compatibility rows inserted directly (setup, not measured), the targeted devices labelled with a group, then a
// staged rollout created through the real REST API as an admin would. Each targeted device watches its key of the
// assignment bucket, verifies what it reads with openAssignment (server key, its own id, its last version), and
// walks the agent's install states (apps/agent UpdateManager: pending -> downloading (progress every UPDATE_PROGRESS_INTERVAL_MS, 10 s) ->
// verifying -> testing -> active, or failed with code self_test_failed), each a signed "update" report.
import { randomUUID } from "node:crypto";
import { catalogMemoryRequirement } from "@fleet/catalog";
import { importPrivateJwk, importPublicJwk, openAssignment, signReport, UPDATE_PROGRESS_INTERVAL_MS, UpdateFailure, updateStatusOf, ZCatalogFactsV1 } from "@fleet/protocol";
import { rng } from "./fleet.mjs";
import { deviceKey } from "./keys.mjs";

export const ROLLOUT_GROUP = "fleet-sim-rollout";

/** Device indices of the targeted share (a seeded draw), an approved entry and compatibility rows for them. */
export async function prepareRollout(prisma, db, n, share, sizeBytes, deviceId) {
  const r = rng(99);
  const targeted = [];
  for (let i = 0; i < n; i++) if (r() < share) targeted.push(i);
  const ids = targeted.map(deviceId);
  for (let k = 0; k < ids.length; k += 5000) {
    await db.query(`UPDATE "Device" SET labels = jsonb_build_object('group', $2::text) WHERE id = ANY($1)`, [ids.slice(k, k + 5000), ROLLOUT_GROUP]);
  }
  const entry = await benchCatalogEntry(prisma, "fleet-sim", sizeBytes);
  for (let k = 0; k < ids.length; k += 5000) {
    await prisma.deviceCompatibility.createMany({ data: ids.slice(k, k + 5000).map((id) => ({ deviceId: id, entryId: entry.id, class: "cpu-only", gpuLayers: 0, totalLayers: 32, hardwareClass: "ram-16g/gpu-none" })) });
  }
  return { targeted, entry };
}

/**
 * An approved catalog entry of a 1B Q4_K_M llama (Llama 3.2 1B's shape) whose facts parse as an import computes them,
 * so a device's inventory report recomputes its compatibility with it as in production. The sha256 is random: no
 * artifact exists, the simulated devices only report their installs.
 */
export async function benchCatalogEntry(prisma, name, sizeBytes) {
  const sha256 = randomUUID().replace(/-/g, "").padEnd(64, "0");
  const shape = { layers: 16, headCount: 32, kvHeads: 8, headDim: 64, embeddingLength: 2048, vocabSize: 128_256 };
  const contextSize = 4096;
  const facts = {
    name, version: "1.0.0", source: { repository: "bench/llama-3.2-1b", revision: "bench" }, conversion: { method: "llama.cpp convert_hf_to_gguf" },
    quantization: { type: "Q4_K_M", bits: 4, groupSize: 256 }, architecture: "llama", tokenizer: "gpt2", license: "llama3.2", contextLength: 131_072,
    parameterCount: 1_235_814_400, fileSizeBytes: sizeBytes, sha256, shape, memory: { contextSize, ...catalogMemoryRequirement(shape, sizeBytes, contextSize) },
    runtime: { minNodeLlamaCpp: null, minLlamaCppRelease: null },
  };
  ZCatalogFactsV1.parse(facts);
  return prisma.catalogEntry.create({
    data: {
      name, version: "1.0.0", targetPath: `${name}-1.0.0.gguf`, state: "approved", sha256, sizeBytes: BigInt(sizeBytes), architecture: "llama", quantization: "Q4_K_M",
      parameterCount: BigInt(facts.parameterCount), contextLength: facts.contextLength, license: facts.license, facts, createdBy: "bench", stateChangedBy: "bench",
    },
  });
}

/**
 * Simulated installs. `publish(i, kind, bytes, msgId, sentAtMs)` sends a signed report the way every other report goes
 * (counted in lost/duplicated). Download time = artifact bytes / a per-device bandwidth (2-100 MB/s, log-uniform);
 * self-test 0.5-3 s; then failed with probability failureRate.
 */
export function rolloutDevices({ seed, serverJwk, failureRate, deviceId, publish, onError }) {
  const serverKey = importPublicJwk({ kty: "OKP", crv: "Ed25519", x: serverJwk.x });
  const state = new Map(); // device index -> { version, seq, key }
  const stats = { assigned: 0, refused: 0, active: 0, failed: 0, updateReports: 0, activeAtMs: [], busy: 0, reasons: new Set() };
  const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

  async function send(i, d, a, st, fields) {
    d.key ??= await importPrivateJwk(deviceKey(seed, i).privateJwk);
    const now = new Date();
    const report = { v: 1, kind: "update", deviceId: deviceId(i), msgId: randomUUID(), seq: d.seq++, sentAt: now.toISOString(), body: updateStatusOf(a, st, fields) };
    stats.updateReports++;
    await publish(i, "update", new TextEncoder().encode(await signReport(report, d.key)), report.msgId, now.getTime());
  }

  async function install(i, d, a) {
    const r = rng(i * 7919 + a.version);
    const total = a.desired.length;
    const bandwidth = 2 * 2 ** 20 * Math.exp(r() * Math.log(50)); // 2..100 MB/s
    const downloadMs = (total / bandwidth) * 1000;
    const selfTestMs = 500 + r() * 2500;
    const fails = r() < failureRate;
    const serving = { model: "previous.gguf", sha256: null };
    await send(i, d, a, "pending", { bytesTotal: total, serving });
    const t0 = performance.now();
    await send(i, d, a, "downloading", { bytesDone: 0, bytesTotal: total, serving });
    for (let el = UPDATE_PROGRESS_INTERVAL_MS; el < downloadMs; el += UPDATE_PROGRESS_INTERVAL_MS) {
      await sleep(UPDATE_PROGRESS_INTERVAL_MS);
      await send(i, d, a, "downloading", { bytesDone: Math.floor((total * el) / downloadMs), bytesTotal: total, serving });
    }
    await sleep(Math.max(0, downloadMs - (performance.now() - t0)));
    await send(i, d, a, "verifying", { bytesDone: total, bytesTotal: total, serving });
    await send(i, d, a, "testing", { bytesDone: total, bytesTotal: total, serving });
    await sleep(selfTestMs);
    if (fails) {
      const selfTest = { ok: false, loadMs: null, outputTokens: 0, tokensPerSecond: null, error: "simulated self-test failure" };
      await send(i, d, a, "failed", { code: UpdateFailure.SelfTestFailed, reason: `${a.desired.target} failed its self-test: simulated`, selfTest, serving });
      stats.failed++;
    } else {
      const selfTest = { ok: true, loadMs: Math.round(selfTestMs / 2), outputTokens: 16, tokensPerSecond: 20 + r() * 60, error: null };
      await send(i, d, a, "active", { selfTest, serving: { model: a.desired.target, sha256: a.desired.sha256 } });
      stats.active++;
      stats.activeAtMs.push(performance.now());
    }
  }

  return {
    stats,
    /** the handler of device i's assignment key (a KV put on $KV.<bucket>.<deviceId>) */
    async onAssignment(i, data) {
      const d = state.get(i) ?? { version: 0, seq: 1_000_000 };
      state.set(i, d);
      const opened = await openAssignment(data, await serverKey, { deviceId: deviceId(i), minVersionExclusive: d.version });
      if (!opened.ok) {
        stats.refused++;
        stats.reasons.add(opened.reason);
        return;
      }
      const a = opened.value;
      d.version = a.version; // a real agent persists it before acting
      if (a.action !== "install" || !a.desired) return;
      stats.assigned++;
      stats.busy++;
      try {
        await install(i, d, a);
      } catch (err) {
        onError(err);
      } finally {
        stats.busy--;
      }
    },
  };
}
