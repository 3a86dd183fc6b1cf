import { randomUUID } from "node:crypto";
import type { ReportBody } from "@fleet/protocol";
import { Prisma } from "@fleet/db";
import type { Tx } from "../common/prisma.js";

// One writer per report kind. Each runs inside the ingestion transaction, after the msgId was claimed.

type Ctx = { tx: Tx; deviceId: string; msgId: string; sentAt: Date };
const big = (n: number) => BigInt(Math.round(n));
const big0 = (n: number | null) => (n === null ? null : big(n));
const json = (v: unknown) => v as Prisma.InputJsonValue;

export async function writeInventory({ tx, deviceId, msgId }: Ctx, inv: ReportBody<"inventory">): Promise<void> {
  await tx.inventorySnapshot.create({
    data: {
      deviceId,
      msgId,
      collectedAt: new Date(inv.collectedAt),
      cpuBrand: inv.cpu.brand,
      cpuCores: inv.cpu.cores,
      ramTotalBytes: big(inv.memory.totalBytes),
      ramFreeBytes: big(inv.memory.availableBytes),
      osName: `${inv.os.distro} ${inv.os.release}`.trim() || inv.os.platform,
      modelsDirFreeBytes: big(inv.modelsDir.freeBytes),
      hasBattery: inv.power.hasBattery,
      data: json(inv),
      gpus: {
        createMany: {
          data: inv.gpus.map((g, index) => ({ deviceId, index, vendor: g.vendor, model: g.model, vramBytes: big0(g.vramBytes), driverVersion: g.driverVersion })),
        },
      },
    },
  });
}

/**
 * The models report is the device's current truth: upsert each file by path, mark files missing from it
 * as removed (and revive them when they come back). A report older than what we already applied is ignored.
 */
export async function writeModels({ tx, deviceId, sentAt }: Ctx, rep: ReportBody<"models">): Promise<{ stale: boolean }> {
  const newest = await tx.installedModel.aggregate({ where: { deviceId }, _max: { lastSeenAt: true } });
  if (newest._max.lastSeenAt && newest._max.lastSeenAt > sentAt) return { stale: true };
  for (const m of rep.models) {
    const fields = {
      fileName: m.fileName,
      sizeBytes: big(m.sizeBytes),
      mtimeMs: m.mtimeMs,
      sha256: m.sha256,
      architecture: m.gguf?.architecture ?? null,
      fileType: m.gguf?.fileType ?? null,
      quantization: m.gguf?.quantization ?? null,
      parameterCount: m.gguf?.parameterCount ?? null,
      contextLength: m.gguf?.contextLength ?? null,
      tokenizer: m.gguf?.tokenizer ?? null,
      license: m.gguf?.license ?? null,
      name: m.gguf?.name ?? null,
      gguf: m.gguf ? json(m.gguf) : Prisma.DbNull,
      error: m.error,
      lastSeenAt: sentAt,
      removedAt: null,
    };
    await tx.installedModel.upsert({
      where: { deviceId_path: { deviceId, path: m.path } },
      create: { deviceId, path: m.path, firstSeenAt: sentAt, ...fields },
      update: fields,
    });
  }
  // A file the agent found but could not hash is still installed: keep its last known entry (hash, metadata)
  // and show why it was not read, rather than marking it removed. One never hashed has nothing to keep.
  const unreadable = rep.unreadable ?? [];
  for (const u of unreadable) {
    await tx.installedModel.updateMany({ where: { deviceId, path: u.path }, data: { error: `unreadable: ${u.error}`, lastSeenAt: sentAt, removedAt: null } });
  }
  await tx.installedModel.updateMany({
    where: { deviceId, removedAt: null, path: { notIn: [...rep.models.map((m) => m.path), ...unreadable.map((u) => u.path)] } },
    data: { removedAt: sentAt },
  });
  return { stale: false };
}

/** Heartbeats are most of the traffic: one raw INSERT (a Prisma model call costs ~1 ms more CPU, see reports.repository.ts). */
export async function writeHeartbeat({ tx, deviceId, msgId, sentAt }: Ctx, hb: ReportBody<"heartbeat">): Promise<void> {
  // id and receivedAt: set here as Prisma sets its @default(uuid()) / @default(now()) (the column default would
  // use the database session's time zone, not UTC).
  await tx.$executeRaw`INSERT INTO "Heartbeat" ("id", "deviceId", "msgId", "sentAt", "receivedAt", "agentVersion", "uptimeSec", "queueDepth", "runtimeState", "activeModel", "rssBytes")
    VALUES (${randomUUID()}, ${deviceId}, ${msgId}, ${sentAt}, ${new Date()}, ${hb.agentVersion}, ${hb.uptimeSec}, ${hb.queueDepth}, ${hb.runtime.state}, ${hb.runtime.activeModel}, ${big(hb.rssBytes)})`;
}

export async function writePosture({ tx, deviceId, msgId }: Ctx, p: ReportBody<"posture">): Promise<void> {
  await tx.postureReport.create({
    data: {
      deviceId,
      msgId,
      telemetry: p.telemetry,
      remoteFallback: p.remoteFallback.enabled,
      promptsLeave: p.promptsLeaveDevice,
      apiEnabled: p.localApi.enabled,
      apiBindAddress: p.localApi.bindAddress,
      apiLoopbackOnly: p.localApi.loopbackOnly,
      apiAuthRequired: p.localApi.authRequired,
      data: json(p),
    },
  });
}

/** Device events that say a requested benchmark will never report a result (the agent refused or failed it). */
const BENCHMARK_ENDED = new Set(["command.benchmark.busy", "command.benchmark.unavailable", "command.benchmark.failed", "command.refused"]);

export async function writeEvents({ tx, deviceId, msgId }: Ctx, rep: ReportBody<"events">): Promise<void> {
  await tx.deviceEvent.createMany({
    data: rep.events.map((e, idx) => ({ deviceId, msgId, idx, at: new Date(e.at), level: e.level, kind: e.kind, message: e.message, data: e.data ? json(e.data) : undefined })),
  });
  // The run fails now rather than at the read-time deadline. Not on "replayed": that is a second delivery of a
  // command whose first delivery may still be running. Only this device's requested runs are touched.
  for (const e of rep.events) {
    const commandId = e.data?.commandId;
    if (!BENCHMARK_ENDED.has(e.kind) || typeof commandId !== "string" || e.data?.reason === "replayed") continue;
    await tx.benchmarkRun.updateMany({
      where: { commandId, deviceId, status: "requested" },
      data: { status: "failed", completedAt: new Date(e.at), result: json({ error: e.message }) },
    });
  }
}

/** A model planned to fit that paged heavily: flagged on the device; the caller corrects its compatibility. */
export interface HeavyPaging {
  modelId: string;
  sha256: string | null;
  reason: string;
}

export async function writeMetrics({ tx, deviceId, msgId }: Ctx, rep: ReportBody<"metrics">): Promise<{ heavyPaging: HeavyPaging[] }> {
  // One row per model and window: a model listed twice keeps its last entry (the table is unique on msgId+modelId).
  const byModel = new Map(rep.models.map((s) => [s.modelId, s]));
  const windowPressure = new Map((rep.memoryPressure ?? []).map((p) => [p.modelId, p]));
  await tx.runtimeMetric.createMany({
    data: [...byModel.values()].map((s) => ({
      deviceId,
      msgId,
      modelId: s.modelId,
      sha256: s.sha256,
      windowStart: new Date(rep.windowStart),
      windowEnd: new Date(rep.windowEnd),
      requests: s.requests,
      errors: s.errors,
      promptTokens: s.promptTokens,
      outputTokens: s.outputTokens,
      ttftP50Ms: s.ttftMs?.p50 ?? null,
      ttftP95Ms: s.ttftMs?.p95 ?? null,
      tpotP50Ms: s.tpotMs?.p50 ?? null,
      tpotP95Ms: s.tpotMs?.p95 ?? null,
      memoryPressure: windowPressure.has(s.modelId) ? json(windowPressure.get(s.modelId)) : undefined,
    })),
  });
  await tx.modelLoad.createMany({
    data: rep.loads.map((l, idx) => ({
      deviceId,
      msgId,
      idx,
      at: new Date(l.at),
      modelId: l.modelId,
      sha256: l.sha256,
      ok: l.ok,
      error: l.error,
      loadMs: l.loadMs,
      backend: l.backend,
      gpuLayers: l.gpuLayers,
      contextSize: l.contextSize,
      quantization: l.quantization,
      peakRssBytes: big(l.peakRssBytes),
      peakVramBytes: big(l.peakVramBytes),
      plan: l.plan ? json(l.plan) : undefined,
      memoryPressure: l.memoryPressure ? json(l.memoryPressure) : undefined,
    })),
  });
  // Planned to fit (or no plan known) but paged heavily, in a load or a window: flag it on the device.
  const heavy = [...rep.loads.flatMap((l) => (l.memoryPressure ? [l.memoryPressure] : [])), ...(rep.memoryPressure ?? [])].filter((p) => p.heavy && p.plannedToFit !== false);
  const heavyPaging: HeavyPaging[] = [];
  for (const p of heavy) {
    const reason = (p.reason ?? "paged heavily").slice(0, 2000);
    const at = new Date(p.at);
    await tx.memoryPressureFlag.upsert({
      where: { deviceId_modelId: { deviceId, modelId: p.modelId } },
      create: { deviceId, modelId: p.modelId, sha256: p.sha256, reason, figures: json(p), firstSeenAt: at, lastSeenAt: at },
      update: { sha256: p.sha256, reason, figures: json(p), lastSeenAt: at },
    });
    heavyPaging.push({ modelId: p.modelId, sha256: p.sha256, reason });
  }
  return { heavyPaging };
}

/** Complete the run the server requested (same commandId and device), or record an unrequested run. */
export async function writeBenchmark({ tx, deviceId }: Ctx, r: ReportBody<"benchmark">): Promise<{ runId: string }> {
  const fields = {
    status: r.ok ? ("completed" as const) : ("failed" as const),
    completedAt: new Date(r.at),
    modelId: r.model.id,
    sha256: r.model.sha256,
    ppTokensPerSec: r.promptProcessing?.mean ?? null,
    tgTokensPerSec: r.generation?.mean ?? null,
    result: json(r),
  };
  const requested = r.commandId ? await tx.benchmarkRun.findUnique({ where: { commandId: r.commandId } }) : null;
  if (requested && requested.deviceId === deviceId) {
    await tx.benchmarkRun.update({ where: { id: requested.id }, data: fields });
    return { runId: requested.id };
  }
  // A commandId that belongs to another device is not this device's to complete: keep the result, drop the link.
  const run = await tx.benchmarkRun.create({ data: { deviceId, commandId: requested ? null : r.commandId, requestedAt: new Date(r.at), ...fields } });
  return { runId: run.id };
}

/**
 * An agent's progress on its assignment moves its row in that rollout. Reports about an older assignment than the
 * one the row holds (a retried or late message) change nothing; a state never goes back to an earlier step of the
 * same assignment, except failed -> rolled_back.
 */
export async function writeUpdate({ tx, deviceId, sentAt }: Ctx, u: ReportBody<"update">): Promise<{ rolloutId: string | null; changed: boolean }> {
  if (!u.rolloutId) return { rolloutId: null, changed: false };
  const row = await tx.rolloutDevice.findUnique({ where: { rolloutId_deviceId: { rolloutId: u.rolloutId, deviceId } } });
  if (!row || row.assignmentVersion === null || BigInt(u.assignmentVersion) !== row.assignmentVersion) return { rolloutId: u.rolloutId, changed: false };
  const order = ["pending", "downloading", "verifying", "testing", "active", "failed", "rolled_back"];
  const from = order.indexOf(row.state);
  const to = order.indexOf(u.state);
  const terminal = row.state === "active" || row.state === "failed" || row.state === "rolled_back";
  const allowed = to > from || (row.state === u.state && u.state === "downloading") || (!terminal && u.state === "failed");
  if (!allowed || (terminal && !(row.state === "failed" && u.state === "rolled_back") && !(row.state === "active" && u.state === "rolled_back"))) {
    return { rolloutId: u.rolloutId, changed: false };
  }
  const timeline = { ...((row.timeline as Record<string, string> | null) ?? {}) };
  timeline[u.state] ??= u.at;
  await tx.rolloutDevice.update({
    where: { rolloutId_deviceId: { rolloutId: u.rolloutId, deviceId } },
    data: {
      state: u.state,
      code: u.code,
      reason: u.reason,
      bytesDone: big0(u.bytesDone),
      bytesTotal: big0(u.bytesTotal),
      selfTestTps: u.selfTest?.tokensPerSecond ?? row.selfTestTps,
      timeline: json(timeline),
      stateAt: sentAt,
    },
  });
  if (row.state !== u.state) {
    await tx.rolloutTransition.create({ data: { rolloutId: u.rolloutId, deviceId, ring: row.ring, state: u.state, at: sentAt } });
  }
  return { rolloutId: u.rolloutId, changed: row.state !== u.state };
}
