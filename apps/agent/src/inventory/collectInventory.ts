import os from "node:os";
import si from "systeminformation";
import { ZInventoryV1, formatIssues, type TGpuV1, type TInventoryV1, type TRuntimeInfoV1 } from "@fleet/protocol";
import { statfsNearest } from "./statfsNearest.js";

type Cpu = TInventoryV1["cpu"];
type Os = TInventoryV1["os"];

export class InventoryInvalidError extends Error {
  override name = "InventoryInvalidError";
}

const MB = 1024 * 1024;

/**
 * Collects a ZInventoryV1 of this machine. CPU and OS facts do not change while the agent runs, so they are read
 * once; memory, GPUs, disks and power are read each time. Never throws on a missing field: absent values become
 * null (or 0 / "" where the schema has no null), and the result is validated before it is returned.
 */
export class InventoryCollector {
  private staticPart: Promise<{ cpu: Cpu; os: Os }> | null = null;

  constructor(
    private readonly modelsDir: string,
    /** the inference runtime's versions, from its host process (node-llama-cpp is never loaded here) */
    private readonly runtimeInfo?: () => Promise<TRuntimeInfoV1 | null>,
  ) {}

  async collect(): Promise<TInventoryV1> {
    this.staticPart ??= readStatic().catch((err) => {
      this.staticPart = null; // retry next time rather than caching a failure
      throw err;
    });
    const [stat, mem, graphics, fsSizes, battery, modelsFs, runtime] = await Promise.all([
      this.staticPart,
      si.mem().catch(() => null),
      si.graphics().catch(() => null),
      si.fsSize().catch(() => []),
      si.battery().catch(() => null),
      statfsNearest(this.modelsDir).catch(() => ({ sizeBytes: 0, freeBytes: 0 })),
      // null = the host did not answer (reported as an unknown runtime, retried at the next collection)
      this.runtimeInfo ? this.runtimeInfo().catch(() => null) : Promise.resolve(undefined),
    ]);
    const inventory: TInventoryV1 = {
      collectedAt: new Date().toISOString(),
      cpu: stat.cpu,
      memory: {
        totalBytes: bytes(mem?.total ?? os.totalmem()),
        freeBytes: bytes(mem?.free ?? os.freemem()),
        availableBytes: bytes(mem?.available ?? os.freemem()),
        swapTotalBytes: bytes(mem?.swaptotal),
        swapFreeBytes: bytes(mem?.swapfree),
      },
      gpus: (graphics?.controllers ?? []).slice(0, 64).map(toGpu),
      disks: fsSizes.slice(0, 256).map((d) => ({
        mount: str(d.mount, 1024),
        fsType: str(d.type, 64),
        sizeBytes: bytes(d.size),
        freeBytes: bytes(d.available),
      })),
      modelsDir: { path: str(this.modelsDir, 4096), ...modelsFs },
      os: stat.os,
      power: {
        hasBattery: battery?.hasBattery === true,
        isCharging: battery?.hasBattery ? bool(battery.isCharging) : null,
        percent: battery?.hasBattery && Number.isFinite(battery.percent) ? Math.min(100, Math.max(0, battery.percent)) : null,
        acConnected: battery ? bool(battery.acConnected) : null,
      },
      ...(runtime !== undefined ? { runtime } : {}),
    };
    const parsed = ZInventoryV1.safeParse(inventory);
    if (!parsed.success) throw new InventoryInvalidError(`collected inventory is invalid: ${formatIssues(parsed.error)}`);
    return parsed.data;
  }
}

/** One-shot collection (no cache kept between calls). */
export async function collectInventory(modelsDir: string): Promise<TInventoryV1> {
  return new InventoryCollector(modelsDir).collect();
}

async function readStatic(): Promise<{ cpu: Cpu; os: Os }> {
  const [cpu, flags, osInfo] = await Promise.all([si.cpu().catch(() => null), si.cpuFlags().catch(() => ""), si.osInfo().catch(() => null)]);
  const osCpus = os.cpus();
  const cores = positiveInt(cpu?.cores) ?? Math.max(1, osCpus.length);
  return {
    cpu: {
      manufacturer: str(cpu?.manufacturer, 200),
      brand: str(cpu?.brand || osCpus[0]?.model, 200),
      cores,
      physicalCores: positiveInt(cpu?.physicalCores) ?? cores,
      // si reports GHz, and 0 when the VM hides it: 0 means "unknown", not "stopped"
      speedGHz: cpu?.speed && cpu.speed > 0 ? cpu.speed : null,
      flags: (flags || cpu?.flags || "")
        .split(/\s+/)
        .filter(Boolean)
        .map((f) => f.slice(0, 64))
        .slice(0, 512),
    },
    os: {
      platform: str(osInfo?.platform || process.platform, 64),
      distro: str(osInfo?.distro, 200),
      release: str(osInfo?.release, 200),
      kernel: str(osInfo?.kernel || os.release(), 200),
      arch: str(osInfo?.arch || process.arch, 32),
      hostname: str(osInfo?.hostname || os.hostname(), 255),
    },
  };
}

function toGpu(c: si.Systeminformation.GraphicsControllerData): TGpuV1 {
  // si reports VRAM in MB; 0 or missing means the driver did not say (integrated, virtual)
  const vram = typeof c.vram === "number" && c.vram > 0 ? c.vram * MB : typeof c.memoryTotal === "number" && c.memoryTotal > 0 ? c.memoryTotal * MB : null;
  const free = typeof c.memoryFree === "number" && c.memoryFree >= 0 ? c.memoryFree * MB : null;
  return {
    vendor: str(c.vendor, 200),
    model: str(c.model || c.name, 200),
    vramBytes: vram === null ? null : bytes(vram),
    vramFreeBytes: free === null ? null : bytes(free),
    driverVersion: c.driverVersion ? str(c.driverVersion, 100) : null,
    bus: c.bus ? str(c.bus, 100) : null,
  };
}

function str(v: unknown, max: number): string {
  return typeof v === "string" ? v.trim().slice(0, max) : "";
}
function bytes(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}
function positiveInt(v: unknown): number | null {
  return typeof v === "number" && Number.isInteger(v) && v > 0 ? v : null;
}
function bool(v: unknown): boolean | null {
  return typeof v === "boolean" ? v : null;
}
