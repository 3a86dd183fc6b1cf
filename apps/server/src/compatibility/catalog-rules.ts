// Interim adapter: engineer A is moving these rules into @fleet/catalog (computeCompatibility, hardwareClass,
// deviceHardwareFromInventory, runtimeKey). Same names and shapes, so switching is a re-export.
import { planMemoryFit } from "@fleet/catalog";
import type { TCompatibilityClass, TInventoryV1, TMemoryPlanV1, TModelShapeV1, TRuntimeInfoV1, TRuntimeRequirementsV1 } from "@fleet/protocol";

export interface DeviceHardware {
  ramTotalBytes: number;
  gpus: { vendor: string; model: string; vramBytes: number | null }[];
  runtime: TRuntimeInfoV1 | null;
}

export interface CompatibilityInput {
  entry: { id: string; targetPath: string; fileSizeBytes: number; shape: TModelShapeV1; contextSize: number; runtime: TRuntimeRequirementsV1 };
  device: DeviceHardware;
  headroomBytes?: number;
  learnedIncompatibility?: string | null;
}

export interface CompatibilityResult {
  class: TCompatibilityClass;
  gpuLayers: number;
  totalLayers: number;
  reason: string | null;
  plan: TMemoryPlanV1;
  hardwareClass: string;
}

const GIB = 1024 ** 3;

export function deviceHardwareFromInventory(inv: TInventoryV1): DeviceHardware {
  return { ramTotalBytes: inv.memory.totalBytes, gpus: inv.gpus.map((g) => ({ vendor: g.vendor, model: g.model, vramBytes: g.vramBytes })), runtime: inv.runtime ?? null };
}

function discreteVram(hw: DeviceHardware): number {
  return Math.max(0, ...hw.gpus.map((g) => g.vramBytes ?? 0));
}

export function hardwareClass(hw: DeviceHardware): string {
  const ram = `ram-${Math.round(hw.ramTotalBytes / GIB)}g`;
  const best = [...hw.gpus].sort((a, b) => (b.vramBytes ?? 0) - (a.vramBytes ?? 0))[0];
  if (!best) return `${ram}/gpu-none`;
  if (!best.vramBytes) return `${ram}/gpu-integrated`;
  const vendor = /nvidia/i.test(best.vendor) ? "nvidia" : /amd|ati/i.test(best.vendor) ? "amd" : /intel/i.test(best.vendor) ? "intel" : /apple/i.test(best.vendor) ? "apple" : "other";
  return `${ram}/gpu-${vendor}-${Math.round(best.vramBytes / GIB)}g`;
}

export function runtimeKey(rt: TRuntimeInfoV1): string {
  return `${rt.nodeLlamaCpp}/${rt.llamaCppRelease ?? "unknown"}/${[...rt.backends].sort().join("+") || "none"}`;
}

function cmpVersion(a: string, b: string): number {
  const pa = a.replace(/^b/, "").split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.replace(/^b/, "").split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

export function runtimeSatisfies(req: TRuntimeRequirementsV1, rt: TRuntimeInfoV1 | null): { ok: true } | { ok: false; reason: string } {
  if (!req.minNodeLlamaCpp && !req.minLlamaCppRelease) return { ok: true };
  if (!rt) return { ok: false, reason: "the device does not report its runtime" };
  if (req.minNodeLlamaCpp && cmpVersion(rt.nodeLlamaCpp, req.minNodeLlamaCpp) < 0) return { ok: false, reason: `needs node-llama-cpp >= ${req.minNodeLlamaCpp}, device has ${rt.nodeLlamaCpp}` };
  if (req.minLlamaCppRelease && (!rt.llamaCppRelease || cmpVersion(rt.llamaCppRelease, req.minLlamaCppRelease) < 0)) {
    return { ok: false, reason: `needs llama.cpp >= ${req.minLlamaCppRelease}, device has ${rt.llamaCppRelease ?? "unknown"}` };
  }
  return { ok: true };
}

export function computeCompatibility(input: CompatibilityInput): CompatibilityResult {
  const { entry, device } = input;
  const headroom = input.headroomBytes ?? Math.min(2 * GIB, Math.floor(device.ramTotalBytes * 0.1));
  const vram = discreteVram(device);
  const gpuBackend = device.runtime ? device.runtime.backends.some((b) => b !== "cpu") : true;
  const plan = planMemoryFit({
    model: { id: entry.targetPath, weightsBytes: entry.fileSizeBytes, ...entry.shape },
    contextSize: entry.contextSize,
    device: { ramFreeBytes: device.ramTotalBytes, vramFreeBytes: vram, gpuOffload: vram > 0 && gpuBackend },
    headroomBytes: headroom,
  });
  const hwClass = hardwareClass(device);
  const base = { gpuLayers: plan.gpuLayers, totalLayers: plan.totalLayers, plan, hardwareClass: hwClass };
  const rt = runtimeSatisfies(entry.runtime, device.runtime);
  if (!rt.ok) return { ...base, class: "incompatible-runtime", reason: rt.reason };
  if (input.learnedIncompatibility) return { ...base, class: "incompatible-runtime", reason: input.learnedIncompatibility };
  if (!plan.fits) return { ...base, class: "does-not-fit", reason: plan.reason };
  const cls: TCompatibilityClass = plan.placement === "gpu-full" ? "gpu-full" : plan.placement === "gpu-partial" ? "gpu-partial" : "cpu-only";
  return { ...base, class: cls, reason: null };
}
