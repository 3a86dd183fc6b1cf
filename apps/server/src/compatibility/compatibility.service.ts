import { Inject, Injectable, type OnApplicationShutdown } from "@nestjs/common";
import type { Logger } from "pino";
import { COMPATIBILITY_CLASSES, ZCatalogFactsV1, ZInventoryV1, type TCompatibilityClass, type TCompatibilitySummaryV1, type TCompatibilityV1, type TRuntimeInfoV1 } from "@fleet/protocol";
import { NotFoundError } from "../common/app-error.js";
import { LOGGER } from "../common/config.token.js";
import { computeCompatibility, deviceHardwareFromInventory, runtimeKey } from "@fleet/catalog";

/**
 * Learned from a device's measurement (not from its runtime): kept beside the runtime incompatibilities of the
 * entry, under a key no runtime key can take ("<node-llama-cpp>/<llama.cpp>/<backend>" never starts so).
 */
export const memoryPressureKey = (deviceId: string) => `memory-pressure:${deviceId}`;
import { DebouncedDeviceQueue } from "../common/debounced-device-queue.js";
import { CompatibilityRepository, type CompatEntry, type CompatRow, type DeviceInventory, type MatrixFilter } from "./compatibility.repository.js";

/** Devices per batch in whole-fleet recomputes: one inventory query and one multi-row upsert per entry each. */
const DEVICE_BATCH = 2000;
/** Inventory reports arriving within this window are recomputed together. */
const DEBOUNCE_MS = 1000;

/**
 * Device x catalog entry compatibility rows, computed on the server with the same rules the agent applies before
 * a load. Inventory reports only enqueue their device (ingestion stays as fast as before); a debounced flush
 * recomputes the queued devices in one batch.
 */
@Injectable()
export class CompatibilityService implements OnApplicationShutdown {
  private readonly log: Logger;
  private readonly queue: DebouncedDeviceQueue;

  constructor(
    private readonly repo: CompatibilityRepository,
    @Inject(LOGGER) rootLog: Logger,
  ) {
    this.log = rootLog.child({ context: "CompatibilityService" });
    this.queue = new DebouncedDeviceQueue(
      DEBOUNCE_MS,
      async (ids) => {
        for (let i = 0; i < ids.length; i += DEVICE_BATCH) await this.recomputeDevices(ids.slice(i, i + DEVICE_BATCH));
      },
      (err) => this.log.error({ err }, "compatibility recompute failed"),
    );
  }

  onApplicationShutdown(): Promise<void> {
    return this.queue.close();
  }

  /** Called after an inventory report is stored: cheap, never blocks ingestion. */
  scheduleDevice(deviceId: string): void {
    this.queue.schedule(deviceId);
  }

  /** Wait for queued recomputes (tests, shutdown). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  async recomputeDevice(deviceId: string): Promise<number> {
    return this.recomputeDevices([deviceId]);
  }

  private async recomputeDevices(deviceIds: string[]): Promise<number> {
    const entries = await this.repo.entries();
    if (entries.length === 0) return 0;
    const [inventories, learned] = await Promise.all([this.repo.inventoriesOf(deviceIds), this.repo.learned(entries.map((e) => e.id))]);
    return this.repo.upsert(this.rows(entries, inventories, learned));
  }

  /** Every active device with an inventory against one entry, in keyset batches. */
  async recomputeEntry(entryId: string): Promise<number> {
    const entries = await this.repo.entries([entryId]);
    if (entries.length === 0) return 0;
    const learned = await this.repo.learned([entryId]);
    let after: string | null = null;
    let total = 0;
    for (;;) {
      const page = await this.repo.inventoryPage(after, DEVICE_BATCH);
      if (page.length === 0) break;
      total += await this.repo.upsert(this.rows(entries, page, learned));
      after = page[page.length - 1]!.deviceId;
      if (page.length < DEVICE_BATCH) break;
    }
    this.log.info({ entryId, rows: total }, "compatibility recomputed for entry");
    return total;
  }

  /**
   * A runtime failed to load an entry (self-test code runtime_incompatible): remember it for that runtime key and
   * reclassify every device of the entry.
   */
  async learnIncompatibility(entryId: string, runtime: TRuntimeInfoV1, reason: string, deviceId: string | null): Promise<void> {
    if (!(await this.repo.entryTarget(entryId))) throw new NotFoundError("catalog entry", entryId);
    await this.repo.recordIncompatibility({ entryId, runtimeKey: runtimeKey(runtime), reason: reason.slice(0, 2000), deviceId });
    await this.recomputeEntry(entryId);
  }

  /**
   * A device measured a catalog model (by sha256) paging heavily although it was planned to fit: remember it for
   * that device and entry (the runtime_incompatible mechanism, keyed by device) and reclassify the device.
   */
  async learnMemoryPressure(deviceId: string, sha256: string, reason: string): Promise<number> {
    const entryIds = await this.repo.entryIdsBySha256(sha256);
    for (const entryId of entryIds) {
      await this.repo.recordIncompatibility({ entryId, runtimeKey: memoryPressureKey(deviceId), reason: reason.slice(0, 2000), deviceId, action: "catalog.memory_pressure" });
    }
    if (entryIds.length > 0) {
      await this.recomputeDevice(deviceId);
      this.log.warn({ deviceId, sha256, entries: entryIds.length }, "compatibility corrected from measured memory pressure");
    }
    return entryIds.length;
  }

  private rows(entries: CompatEntry[], inventories: DeviceInventory[], learned: Map<string, Map<string, string>>): CompatRow[] {
    const parsedEntries = entries.flatMap((e) => {
      const facts = ZCatalogFactsV1.safeParse(e.facts);
      if (!facts.success) {
        this.log.error({ entryId: e.id }, "catalog entry facts do not parse; no compatibility rows");
        return [];
      }
      const f = facts.data;
      return [{ id: e.id, targetPath: e.targetPath, fileSizeBytes: Number(e.sizeBytes), shape: f.shape, contextSize: f.memory.contextSize, runtime: f.runtime }];
    });
    const out: CompatRow[] = [];
    for (const inv of inventories) {
      const parsed = ZInventoryV1.safeParse(inv.data);
      if (!parsed.success) continue; // stored inventories were validated at ingestion; an old shape is skipped
      const device = deviceHardwareFromInventory(parsed.data);
      const key = device.runtime ? runtimeKey(device.runtime) : null;
      for (const entry of parsedEntries) {
        const r = computeCompatibility({
          entry,
          device,
          learnedIncompatibility: key ? (learned.get(entry.id)?.get(key) ?? null) : null,
          learnedMemoryPressure: learned.get(entry.id)?.get(memoryPressureKey(inv.deviceId)) ?? null,
        });
        out.push({ deviceId: inv.deviceId, entryId: entry.id, class: r.class, gpuLayers: r.gpuLayers, totalLayers: r.totalLayers, hardwareClass: r.hardwareClass, reason: r.reason, plan: r.plan });
      }
    }
    return out;
  }

  async matrix(f: MatrixFilter): Promise<{ items: TCompatibilityV1[]; total: number; page: number; pageSize: number }> {
    const { items, total } = await this.repo.matrix(f);
    return {
      items: items.map((r) => ({
        deviceId: r.deviceId,
        hostname: r.hostname,
        entryId: r.entryId,
        targetPath: r.targetPath,
        class: r.class as TCompatibilityClass,
        gpuLayers: r.gpuLayers,
        totalLayers: r.totalLayers,
        hardwareClass: r.hardwareClass,
        reason: r.reason,
        plan: (r.plan ?? null) as TCompatibilityV1["plan"],
        computedAt: r.computedAt.toISOString(),
      })),
      total,
      page: f.page,
      pageSize: f.pageSize,
    };
  }

  async summary(entryId: string): Promise<TCompatibilitySummaryV1> {
    const entry = await this.repo.entryTarget(entryId);
    if (!entry) throw new NotFoundError("catalog entry", entryId);
    const zero = () => Object.fromEntries(COMPATIBILITY_CLASSES.map((c) => [c, 0])) as Record<TCompatibilityClass, number>;
    const totals = zero();
    const byHw = new Map<string, Record<TCompatibilityClass, number>>();
    for (const r of await this.repo.summary(entryId)) {
      const cls = r.class as TCompatibilityClass;
      if (!(cls in totals)) continue;
      totals[cls] += r.count;
      if (!byHw.has(r.hardwareClass)) byHw.set(r.hardwareClass, zero());
      byHw.get(r.hardwareClass)![cls] += r.count;
    }
    return { entryId, targetPath: entry.targetPath, totals, byHardwareClass: [...byHw].map(([hardwareClass, counts]) => ({ hardwareClass, counts })) };
  }
}
