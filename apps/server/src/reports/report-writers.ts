import { randomUUID } from "node:crypto";
import type { ReportBody, ReportKind } from "@fleet/protocol";
import type { Prisma } from "@fleet/db";
import type { Tx } from "../common/prisma.js";
import { writeEgress } from "./egress-writer.js";

// Writers per report kind. Each runs inside the batch transaction, after the msgIds were claimed, and gets every
// newly claimed report of its kind in the batch, in arrival order. The frequent kinds (heartbeat, inventory, models,
// posture) write the whole batch with a few set-wise statements: raw SQL over one JSON parameter
// (json_to_recordset), on a plain pg connection when the batch holds only such kinds, because every statement
// through Prisma costs CPU in its query compiler, growing with the parameters' size (bench/server-ingest.mjs).
// Rare kinds keep a one-report writer with Prisma model calls adapted with oneByOne(): a batch holding one of them
// runs in a Prisma transaction instead. A new kind starts that way.

/** One verified, newly claimed report handed to its kind's writer. */
export interface WriteItem<K extends ReportKind = ReportKind> {
  deviceId: string;
  msgId: string;
  sentAt: Date;
  receivedAt: Date;
  body: ReportBody<K>;
}

/** A model planned to fit that paged heavily: flagged on the device; the caller corrects its compatibility. */
export interface HeavyPaging {
  modelId: string;
  sha256: string | null;
  reason: string;
}

/** What a writer tells the service about one report, acted on after commit. */
export interface WriteOutcome {
  stale?: boolean;
  benchmarkRunId?: string;
  update?: { rolloutId: string | null; changed: boolean };
  heavyPaging?: HeavyPaging[];
}

/** The batch transaction as writers see it: raw SQL with $1.. parameters, and Prisma when the batch runs in it. */
export interface BatchSql {
  query<T>(text: string, params: unknown[]): Promise<T[]>;
  execute(text: string, params: unknown[]): Promise<number>;
  /** the Prisma transaction client; null on the plain pg path (batches without a oneByOne kind) */
  prisma: Tx | null;
}

/** Writes a batch's reports of one kind; returns one outcome per item, in the same order. */
export type BatchWriter<K extends ReportKind> = ((db: BatchSql, items: WriteItem<K>[]) => Promise<WriteOutcome[]>) & { needsPrisma?: true };

/** The single-report writer form (tx + ids of one report). */
type Ctx = { tx: Tx; deviceId: string; msgId: string; sentAt: Date };

/** Adapts a single-report writer: the batch's reports of that kind are written one after another. */
export function oneByOne<K extends ReportKind>(write: (ctx: Ctx, body: ReportBody<K>) => Promise<WriteOutcome | void>): BatchWriter<K> {
  const writer = async (db: BatchSql, items: WriteItem<K>[]) => {
    const tx = db.prisma;
    if (!tx) throw new Error("a oneByOne writer needs the batch to run in a Prisma transaction");
    const out: WriteOutcome[] = [];
    for (const it of items) out.push((await write({ tx, deviceId: it.deviceId, msgId: it.msgId, sentAt: it.sentAt }, it.body)) ?? {});
    return out;
  };
  return Object.assign(writer, { needsPrisma: true as const });
}

/**
 * For writers whose result depends on the device's previous report of the same kind (models): the items are split
 * into rounds holding at most one report per device, written round after round, so a device's reports apply in order.
 */
function inRounds<K extends ReportKind>(write: BatchWriter<K>): BatchWriter<K> {
  return async (db, items) => {
    const out: WriteOutcome[] = new Array<WriteOutcome>(items.length);
    let pending = items.map((item, i) => ({ item, i }));
    while (pending.length) {
      const seen = new Set<string>();
      const round: typeof pending = [];
      const later: typeof pending = [];
      for (const p of pending) {
        if (seen.has(p.item.deviceId)) later.push(p);
        else round.push(p);
        seen.add(p.item.deviceId);
      }
      const res = await write(db, round.map((p) => p.item));
      round.forEach((p, k) => (out[p.i] = res[k] ?? {}));
      pending = later;
    }
    return out;
  };
}

const big = (n: number) => BigInt(Math.round(n));
const big0 = (n: number | null) => (n === null ? null : big(n));
const json = (v: unknown) => v as Prisma.InputJsonValue;
/** Integer for a bigint column inside a JSON record (json_to_recordset refuses a fraction). */
const int = (n: number | null) => (n === null ? null : Math.round(n));
/** An ISO time with any offset as UTC ISO (a timestamp(3) column keeps the UTC wall time; the "Z" is ignored). */
const utc = (iso: string) => new Date(iso).toISOString();
const empty = (n: number): WriteOutcome[] => Array.from({ length: n }, () => ({}));

/** Heartbeats are most of the traffic: one INSERT for the batch. */
async function writeHeartbeats(db: BatchSql, items: WriteItem<"heartbeat">[]): Promise<WriteOutcome[]> {
  // id: set here as Prisma sets its @default(uuid()). Timestamps travel as ISO strings; a timestamp(3) column keeps
  // the UTC wall time (the zone suffix is ignored), as Prisma stores it.
  const rows = items.map(({ deviceId, msgId, sentAt, receivedAt, body: hb }) => ({
    id: randomUUID(),
    deviceId,
    msgId,
    sentAt,
    receivedAt,
    agentVersion: hb.agentVersion,
    uptimeSec: hb.uptimeSec,
    queueDepth: hb.queueDepth,
    runtimeState: hb.runtime.state,
    activeModel: hb.runtime.activeModel,
    rssBytes: int(hb.rssBytes),
  }));
  await db.execute(`INSERT INTO "Heartbeat" ("id", "deviceId", "msgId", "sentAt", "receivedAt", "agentVersion", "uptimeSec", "queueDepth", "runtimeState", "activeModel", "rssBytes")
    SELECT "id", "deviceId", "msgId", "sentAt", "receivedAt", "agentVersion", "uptimeSec", "queueDepth", "runtimeState", "activeModel", "rssBytes"
    FROM json_to_recordset($1::json) AS x("id" text, "deviceId" text, "msgId" text, "sentAt" timestamp(3), "receivedAt" timestamp(3),
      "agentVersion" text, "uptimeSec" float8, "queueDepth" int, "runtimeState" text, "activeModel" text, "rssBytes" bigint)`, [JSON.stringify(rows)]);
  return empty(items.length);
}

/** Inventory snapshots and their GPUs: two INSERTs for the batch, and the devices' current GPU vendors. */
async function writeInventories(db: BatchSql, items: WriteItem<"inventory">[]): Promise<WriteOutcome[]> {
  const snaps = items.map(({ deviceId, msgId, receivedAt, body: inv }) => ({
    id: randomUUID(),
    deviceId,
    msgId,
    receivedAt,
    collectedAt: new Date(inv.collectedAt),
    cpuBrand: inv.cpu.brand,
    cpuCores: inv.cpu.cores,
    ramTotalBytes: int(inv.memory.totalBytes),
    ramFreeBytes: int(inv.memory.availableBytes),
    osName: `${inv.os.distro} ${inv.os.release}`.trim() || inv.os.platform,
    modelsDirFreeBytes: int(inv.modelsDir.freeBytes),
    hasBattery: inv.power.hasBattery,
    data: inv,
    gpus: inv.gpus,
  }));
  const gpus = snaps.flatMap((s) =>
    s.gpus.map((g, index) => ({ id: randomUUID(), snapshotId: s.id, deviceId: s.deviceId, index, vendor: g.vendor, model: g.model, vramBytes: int(g.vramBytes), driverVersion: g.driverVersion })),
  );
  await db.execute(`INSERT INTO "InventorySnapshot" ("id", "deviceId", "msgId", "collectedAt", "receivedAt", "cpuBrand", "cpuCores", "ramTotalBytes", "ramFreeBytes", "osName", "modelsDirFreeBytes", "hasBattery", "data")
    SELECT "id", "deviceId", "msgId", "collectedAt", "receivedAt", "cpuBrand", "cpuCores", "ramTotalBytes", "ramFreeBytes", "osName", "modelsDirFreeBytes", "hasBattery", "data"
    FROM json_to_recordset($1::json) AS x("id" text, "deviceId" text, "msgId" text, "collectedAt" timestamp(3), "receivedAt" timestamp(3),
      "cpuBrand" text, "cpuCores" int, "ramTotalBytes" bigint, "ramFreeBytes" bigint, "osName" text, "modelsDirFreeBytes" bigint, "hasBattery" boolean, "data" jsonb)`, [JSON.stringify(snaps.map(({ gpus: _g, ...s }) => s))]);
  if (gpus.length) {
    await db.execute(`INSERT INTO "Gpu" ("id", "snapshotId", "deviceId", "index", "vendor", "model", "vramBytes", "driverVersion")
      SELECT "id", "snapshotId", "deviceId", "index", "vendor", "model", "vramBytes", "driverVersion"
      FROM json_to_recordset($1::json) AS x("id" text, "snapshotId" text, "deviceId" text, "index" int, "vendor" text, "model" text, "vramBytes" bigint, "driverVersion" text)`, [JSON.stringify(gpus)]);
  }
  // Device.gpuVendors: the latest inventory's GPU vendors, one per line (the devices list filters on it through a
  // trigram index); the last report of a device in the batch wins; unchanged rows are not rewritten.
  const vendors = new Map(snaps.map((s) => [s.deviceId, s.gpus.map((g) => g.vendor.replace(/\n/g, " ")).join("\n")]));
  await db.execute(`UPDATE "Device" d SET "gpuVendors" = x."gpuVendors" FROM json_to_recordset($1::json) AS x("deviceId" text, "gpuVendors" text)
    WHERE d.id = x."deviceId" AND d."gpuVendors" IS DISTINCT FROM x."gpuVendors"`, [JSON.stringify([...vendors].map(([deviceId, gpuVendors]) => ({ deviceId, gpuVendors })))]);
  return empty(items.length);
}

/**
 * The models report is the device's current truth: upsert each file by path, mark files missing from it
 * as removed (and revive them when they come back). A report older than what we already applied is ignored.
 * Called with at most one report per device (inRounds).
 */
async function writeModelsRound(db: BatchSql, items: WriteItem<"models">[]): Promise<WriteOutcome[]> {
  // epoch ms (the column holds UTC wall time): no driver's idea of a time zone in between
  const newestRows = await db.query<{ deviceId: string; newestMs: number | null }>(
    `SELECT "deviceId", round(extract(epoch FROM max("lastSeenAt")) * 1000)::float8 AS "newestMs" FROM "InstalledModel"
    WHERE "deviceId" IN (SELECT json_array_elements_text($1::json)) GROUP BY "deviceId"`,
    [JSON.stringify(items.map((i) => i.deviceId))],
  );
  const newest = new Map(newestRows.map((r) => [r.deviceId, r.newestMs]));
  const out = items.map((it): WriteOutcome => {
    const n = newest.get(it.deviceId);
    return { stale: n !== undefined && n !== null && n > it.sentAt.getTime() };
  });
  const fresh = items.filter((_, i) => !out[i]!.stale);
  if (!fresh.length) return out;

  // One row per device and path: a path listed twice keeps its last entry (as one upsert after another did).
  const files = new Map<string, Record<string, unknown>>();
  for (const { deviceId, sentAt, body } of fresh) {
    for (const m of body.models) {
      files.set(`${deviceId}\u0000${m.path}`, {
        id: randomUUID(),
        deviceId,
        path: m.path,
        fileName: m.fileName,
        sizeBytes: int(m.sizeBytes),
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
        gguf: m.gguf ?? null,
        error: m.error,
        sentAt,
      });
    }
  }
  if (files.size) {
    await db.execute(`INSERT INTO "InstalledModel" ("id", "deviceId", "path", "fileName", "sizeBytes", "mtimeMs", "sha256", "architecture", "fileType", "quantization",
        "parameterCount", "contextLength", "tokenizer", "license", "name", "gguf", "error", "firstSeenAt", "lastSeenAt", "removedAt")
      SELECT "id", "deviceId", "path", "fileName", "sizeBytes", "mtimeMs", "sha256", "architecture", "fileType", "quantization",
        "parameterCount", "contextLength", "tokenizer", "license", "name", "gguf", "error", "sentAt", "sentAt", NULL
      FROM json_to_recordset($1::json) AS x("id" text, "deviceId" text, "path" text, "fileName" text, "sizeBytes" bigint, "mtimeMs" float8,
        "sha256" text, "architecture" text, "fileType" text, "quantization" text, "parameterCount" float8, "contextLength" int, "tokenizer" text, "license" text,
        "name" text, "gguf" jsonb, "error" text, "sentAt" timestamp(3))
      ON CONFLICT ("deviceId", "path") DO UPDATE SET "fileName" = EXCLUDED."fileName", "sizeBytes" = EXCLUDED."sizeBytes", "mtimeMs" = EXCLUDED."mtimeMs",
        "sha256" = EXCLUDED."sha256", "architecture" = EXCLUDED."architecture", "fileType" = EXCLUDED."fileType", "quantization" = EXCLUDED."quantization",
        "parameterCount" = EXCLUDED."parameterCount", "contextLength" = EXCLUDED."contextLength", "tokenizer" = EXCLUDED."tokenizer", "license" = EXCLUDED."license",
        "name" = EXCLUDED."name", "gguf" = EXCLUDED."gguf", "error" = EXCLUDED."error", "lastSeenAt" = EXCLUDED."lastSeenAt", "removedAt" = NULL`, [JSON.stringify([...files.values()])]);
  }
  // A file the agent found but could not hash is still installed: keep its last known entry (hash, metadata)
  // and show why it was not read, rather than marking it removed. One never hashed has nothing to keep.
  const unreadable = fresh.flatMap(({ deviceId, sentAt, body }) => (body.unreadable ?? []).map((u) => ({ deviceId, path: u.path, error: `unreadable: ${u.error}`, sentAt })));
  if (unreadable.length) {
    await db.execute(`UPDATE "InstalledModel" im SET "error" = x."error", "lastSeenAt" = x."sentAt", "removedAt" = NULL
      FROM json_to_recordset($1::json) AS x("deviceId" text, "path" text, "error" text, "sentAt" timestamp(3))
      WHERE im."deviceId" = x."deviceId" AND im."path" = x."path"`, [JSON.stringify(unreadable)]);
  }
  const keep = fresh.map(({ deviceId, sentAt, body }) => ({ deviceId, sentAt, paths: [...body.models.map((m) => m.path), ...(body.unreadable ?? []).map((u) => u.path)] }));
  await db.execute(`UPDATE "InstalledModel" im SET "removedAt" = x."sentAt"
    FROM json_to_recordset($1::json) AS x("deviceId" text, "sentAt" timestamp(3), "paths" text[])
    WHERE im."deviceId" = x."deviceId" AND im."removedAt" IS NULL AND NOT (im."path" = ANY (x."paths"))`, [JSON.stringify(keep)]);
  return out;
}

async function writePostures(db: BatchSql, items: WriteItem<"posture">[]): Promise<WriteOutcome[]> {
  const rows = items.map(({ deviceId, msgId, receivedAt, body: p }) => ({
    id: randomUUID(),
    deviceId,
    msgId,
    receivedAt,
    telemetry: p.telemetry,
    remoteFallback: p.remoteFallback.enabled,
    promptsLeave: p.promptsLeaveDevice,
    apiEnabled: p.localApi.enabled,
    apiBindAddress: p.localApi.bindAddress,
    apiLoopbackOnly: p.localApi.loopbackOnly,
    apiAuthRequired: p.localApi.authRequired,
    data: p,
  }));
  await db.execute(`INSERT INTO "PostureReport" ("id", "deviceId", "msgId", "receivedAt", "telemetry", "remoteFallback", "promptsLeave", "apiEnabled", "apiBindAddress", "apiLoopbackOnly", "apiAuthRequired", "data")
    SELECT "id", "deviceId", "msgId", "receivedAt", "telemetry", "remoteFallback", "promptsLeave", "apiEnabled", "apiBindAddress", "apiLoopbackOnly", "apiAuthRequired", "data"
    FROM json_to_recordset($1::json) AS x("id" text, "deviceId" text, "msgId" text, "receivedAt" timestamp(3), "telemetry" text, "remoteFallback" boolean,
      "promptsLeave" boolean, "apiEnabled" boolean, "apiBindAddress" text, "apiLoopbackOnly" boolean, "apiAuthRequired" boolean, "data" jsonb)`, [JSON.stringify(rows)]);
  return empty(items.length);
}

/** Device events that say a requested benchmark will never report a result (the agent refused or failed it). */
const BENCHMARK_ENDED = new Set(["command.benchmark.busy", "command.benchmark.unavailable", "command.benchmark.failed", "command.refused"]);

async function writeEvents({ tx, deviceId, msgId }: Ctx, rep: ReportBody<"events">): Promise<void> {
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

/**
 * Runtime metrics (a share of the fleet every 60 s): the batch's windows and model loads in one INSERT each, memory
 * pressure flags (rare) in one upsert.
 */
async function writeMetrics(db: BatchSql, items: WriteItem<"metrics">[]): Promise<WriteOutcome[]> {
  const windows: Record<string, unknown>[] = [];
  const loads: Record<string, unknown>[] = [];
  const flags = new Map<string, Record<string, unknown>>();
  const out = items.map(({ deviceId, msgId, receivedAt, body: rep }): WriteOutcome => {
    // One row per model and window: a model listed twice keeps its last entry (the table is unique on msgId+modelId).
    const byModel = new Map(rep.models.map((s) => [s.modelId, s]));
    const windowPressure = new Map((rep.memoryPressure ?? []).map((p) => [p.modelId, p]));
    for (const s of byModel.values()) {
      windows.push({
        id: randomUUID(),
        deviceId,
        msgId,
        modelId: s.modelId,
        sha256: s.sha256,
        windowStart: utc(rep.windowStart),
        windowEnd: utc(rep.windowEnd),
        receivedAt,
        requests: s.requests,
        errors: s.errors,
        promptTokens: s.promptTokens,
        outputTokens: s.outputTokens,
        ttftP50Ms: s.ttftMs?.p50 ?? null,
        ttftP95Ms: s.ttftMs?.p95 ?? null,
        tpotP50Ms: s.tpotMs?.p50 ?? null,
        tpotP95Ms: s.tpotMs?.p95 ?? null,
        memoryPressure: windowPressure.get(s.modelId) ?? null,
      });
    }
    rep.loads.forEach((l, idx) =>
      loads.push({
        id: randomUUID(),
        deviceId,
        msgId,
        idx,
        at: utc(l.at),
        modelId: l.modelId,
        sha256: l.sha256,
        ok: l.ok,
        error: l.error,
        loadMs: l.loadMs,
        backend: l.backend,
        gpuLayers: l.gpuLayers,
        contextSize: l.contextSize,
        quantization: l.quantization,
        peakRssBytes: int(l.peakRssBytes),
        peakVramBytes: int(l.peakVramBytes),
        plan: l.plan ?? null,
        memoryPressure: l.memoryPressure ?? null,
      }),
    );
    // Planned to fit (or no plan known) but paged heavily, in a load or a window: flag it on the device (the last
    // one of a device and model in the batch wins, as one upsert after another did; first seen keeps the earliest).
    const heavy = [...rep.loads.flatMap((l) => (l.memoryPressure ? [l.memoryPressure] : [])), ...(rep.memoryPressure ?? [])].filter((p) => p.heavy && p.plannedToFit !== false);
    const heavyPaging: HeavyPaging[] = [];
    for (const p of heavy) {
      const reason = (p.reason ?? "paged heavily").slice(0, 2000);
      const key = `${deviceId}\u0000${p.modelId}`;
      const firstSeenAt = (flags.get(key)?.firstSeenAt as string | undefined) ?? utc(p.at);
      flags.set(key, { deviceId, modelId: p.modelId, sha256: p.sha256, reason, figures: p, firstSeenAt, lastSeenAt: utc(p.at) });
      heavyPaging.push({ modelId: p.modelId, sha256: p.sha256, reason });
    }
    return heavyPaging.length ? { heavyPaging } : {};
  });
  if (windows.length) {
    await db.execute(`INSERT INTO "RuntimeMetric" ("id", "deviceId", "msgId", "modelId", "sha256", "windowStart", "windowEnd", "receivedAt", "requests", "errors", "promptTokens",
        "outputTokens", "ttftP50Ms", "ttftP95Ms", "tpotP50Ms", "tpotP95Ms", "memoryPressure")
      SELECT "id", "deviceId", "msgId", "modelId", "sha256", "windowStart", "windowEnd", "receivedAt", "requests", "errors", "promptTokens",
        "outputTokens", "ttftP50Ms", "ttftP95Ms", "tpotP50Ms", "tpotP95Ms", "memoryPressure"
      FROM json_to_recordset($1::json) AS x("id" text, "deviceId" text, "msgId" text, "modelId" text, "sha256" text, "windowStart" timestamp(3), "windowEnd" timestamp(3),
        "receivedAt" timestamp(3), "requests" int, "errors" int, "promptTokens" int, "outputTokens" int, "ttftP50Ms" float8, "ttftP95Ms" float8, "tpotP50Ms" float8,
        "tpotP95Ms" float8, "memoryPressure" jsonb)`, [JSON.stringify(windows)]);
  }
  if (loads.length) {
    await db.execute(`INSERT INTO "ModelLoad" ("id", "deviceId", "msgId", "idx", "at", "modelId", "sha256", "ok", "error", "loadMs", "backend", "gpuLayers", "contextSize",
        "quantization", "peakRssBytes", "peakVramBytes", "plan", "memoryPressure")
      SELECT "id", "deviceId", "msgId", "idx", "at", "modelId", "sha256", "ok", "error", "loadMs", "backend", "gpuLayers", "contextSize",
        "quantization", "peakRssBytes", "peakVramBytes", "plan", "memoryPressure"
      FROM json_to_recordset($1::json) AS x("id" text, "deviceId" text, "msgId" text, "idx" int, "at" timestamp(3), "modelId" text, "sha256" text, "ok" boolean,
        "error" text, "loadMs" float8, "backend" text, "gpuLayers" int, "contextSize" int, "quantization" text, "peakRssBytes" bigint, "peakVramBytes" bigint,
        "plan" jsonb, "memoryPressure" jsonb)`, [JSON.stringify(loads)]);
  }
  if (flags.size) {
    await db.execute(`INSERT INTO "MemoryPressureFlag" ("deviceId", "modelId", "sha256", "reason", "figures", "firstSeenAt", "lastSeenAt")
      SELECT "deviceId", "modelId", "sha256", "reason", "figures", "firstSeenAt", "lastSeenAt"
      FROM json_to_recordset($1::json) AS x("deviceId" text, "modelId" text, "sha256" text, "reason" text, "figures" jsonb, "firstSeenAt" timestamp(3), "lastSeenAt" timestamp(3))
      ORDER BY "deviceId", "modelId"
      ON CONFLICT ("deviceId", "modelId") DO UPDATE SET "sha256" = EXCLUDED."sha256", "reason" = EXCLUDED."reason", "figures" = EXCLUDED."figures",
        "lastSeenAt" = EXCLUDED."lastSeenAt"`, [JSON.stringify([...flags.values()])]);
  }
  return out;
}

/** Complete the run the server requested (same commandId and device), or record an unrequested run. */
async function writeBenchmark({ tx, deviceId }: Ctx, r: ReportBody<"benchmark">): Promise<WriteOutcome> {
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
    return { benchmarkRunId: requested.id };
  }
  // A commandId that belongs to another device is not this device's to complete: keep the result, drop the link.
  const run = await tx.benchmarkRun.create({ data: { deviceId, commandId: requested ? null : r.commandId, requestedAt: new Date(r.at), ...fields } });
  return { benchmarkRunId: run.id };
}

/** A device's row of a rollout, as an update report is judged against it. */
interface RolloutDeviceRow {
  rolloutId: string;
  deviceId: string;
  state: string;
  /** bigint as text (pg) */
  assignmentVersion: string | null;
  ring: number | null;
  timeline: Record<string, string> | null;
  selfTestTps: number | null;
}

const UPDATE_ORDER = ["pending", "downloading", "verifying", "testing", "active", "failed", "rolled_back"];

/**
 * Whether an update report (an agent's progress on its assignment) moves its device's rollout row: only for the
 * assignment version the row holds, forwards through UPDATE_ORDER (repeated "downloading" is progress), to "failed"
 * from any state that is not final, and from "failed" or "active" to "rolled_back". Everything else (late, repeated,
 * for an older assignment) leaves it as it is.
 */
export function movesRolloutDevice(row: Pick<RolloutDeviceRow, "state" | "assignmentVersion">, u: ReportBody<"update">): boolean {
  if (row.assignmentVersion === null || BigInt(u.assignmentVersion) !== BigInt(row.assignmentVersion)) return false;
  const from = UPDATE_ORDER.indexOf(row.state);
  const to = UPDATE_ORDER.indexOf(u.state);
  const terminal = row.state === "active" || row.state === "failed" || row.state === "rolled_back";
  const allowed = to > from || (row.state === u.state && u.state === "downloading") || (!terminal && u.state === "failed");
  return allowed && (!terminal || u.state === "rolled_back") && row.state !== "rolled_back";
}

/**
 * Update reports, set-wise on the plain pg path (at most one per device: inRounds): the rows they name are locked in
 * key order first (another replica may store the same device's next report at once, and the scheduler writes the same
 * rows; judging before locking lost one of two concurrent updates, leaving a device "testing" after it reported
 * "active"), judged (movesRolloutDevice), then written with one UPDATE and their transitions with one INSERT. One
 * report at a time through Prisma this stored 100-150 reports/s: a rollout to 2,000 devices backed ingest up by minutes.
 */
async function writeUpdatesRound(db: BatchSql, items: WriteItem<"update">[]): Promise<WriteOutcome[]> {
  const named = items.filter((it) => it.body.rolloutId);
  const rows = named.length
    ? await db.query<RolloutDeviceRow>(
        `SELECT rd."rolloutId", rd."deviceId", rd.state::text AS state, rd."assignmentVersion"::text AS "assignmentVersion", rd.ring, rd.timeline, rd."selfTestTps"
        FROM "RolloutDevice" rd JOIN json_to_recordset($1::json) AS x("rolloutId" text, "deviceId" text) ON rd."rolloutId" = x."rolloutId" AND rd."deviceId" = x."deviceId"
        ORDER BY rd."rolloutId", rd."deviceId" FOR UPDATE OF rd`,
        [JSON.stringify(named.map((it) => ({ rolloutId: it.body.rolloutId, deviceId: it.deviceId })))],
      )
    : [];
  const rowOf = new Map(rows.map((r) => [`${r.rolloutId}\u0000${r.deviceId}`, r]));
  const writes: Record<string, unknown>[] = [];
  const transitions: Record<string, unknown>[] = [];
  const out = items.map(({ deviceId, sentAt, body: u }): WriteOutcome => {
    if (!u.rolloutId) return { update: { rolloutId: null, changed: false } };
    const row = rowOf.get(`${u.rolloutId}\u0000${deviceId}`);
    if (!row || !movesRolloutDevice(row, u)) return { update: { rolloutId: u.rolloutId, changed: false } };
    const timeline = { ...(row.timeline ?? {}) };
    timeline[u.state] ??= u.at;
    writes.push({
      rolloutId: u.rolloutId,
      deviceId,
      state: u.state,
      code: u.code,
      reason: u.reason,
      bytesDone: int(u.bytesDone),
      bytesTotal: int(u.bytesTotal),
      selfTestTps: u.selfTest?.tokensPerSecond ?? row.selfTestTps,
      timeline,
      stateAt: sentAt,
    });
    const changed = row.state !== u.state;
    if (changed) transitions.push({ id: randomUUID(), rolloutId: u.rolloutId, deviceId, ring: row.ring, state: u.state, at: sentAt });
    return { update: { rolloutId: u.rolloutId, changed } };
  });
  if (writes.length) {
    await db.execute(
      `UPDATE "RolloutDevice" rd SET state = x.state::"RolloutDeviceState", code = x.code, reason = x.reason, "bytesDone" = x."bytesDone", "bytesTotal" = x."bytesTotal",
        "selfTestTps" = x."selfTestTps", timeline = x.timeline, "stateAt" = x."stateAt", "updatedAt" = now()
      FROM json_to_recordset($1::json) AS x("rolloutId" text, "deviceId" text, state text, code text, reason text, "bytesDone" bigint, "bytesTotal" bigint,
        "selfTestTps" float8, timeline jsonb, "stateAt" timestamp(3))
      WHERE rd."rolloutId" = x."rolloutId" AND rd."deviceId" = x."deviceId"`,
      [JSON.stringify(writes)],
    );
  }
  if (transitions.length) {
    await db.execute(
      `INSERT INTO "RolloutTransition" (id, "rolloutId", "deviceId", ring, state, at)
      SELECT id, "rolloutId", "deviceId", ring, state::"RolloutDeviceState", at
      FROM json_to_recordset($1::json) AS x(id text, "rolloutId" text, "deviceId" text, ring int, state text, at timestamp(3))`,
      [JSON.stringify(transitions)],
    );
  }
  return out;
}

/**
 * Every report kind's writer; the repository runs them in this order within a batch (kinds touch disjoint rows).
 * A new kind: add its writer here (oneByOne(writeX) for a one-report writer); the type requires every kind.
 */
export const reportWriters: { [K in ReportKind]: BatchWriter<K> } = {
  heartbeat: writeHeartbeats,
  inventory: writeInventories,
  models: inRounds(writeModelsRound),
  posture: writePostures,
  events: oneByOne(writeEvents),
  metrics: writeMetrics,
  benchmark: oneByOne(writeBenchmark),
  update: inRounds(writeUpdatesRound),
  egress: oneByOne(writeEgress),
};
