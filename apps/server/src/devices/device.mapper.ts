import type { TDeviceDetailV1, TDeviceSummaryV1, TGgufMetadataV1, TInventoryV1, TPostureV1 } from "@fleet/protocol";
import { deviceStatus } from "./device-status.js";
import type { DeviceSummaryRow, DeviceWithSummary } from "./devices.repository.js";

// Rows -> REST shapes. BigInt byte counts become numbers (safe below 2^53 bytes = 8 PiB).
export const num = (v: bigint | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
const iso = (d: Date) => d.toISOString();

export function toDeviceSummary(d: DeviceSummaryRow, now: Date, offlineAfterSec: number): TDeviceSummaryV1 {
  const inv = d.inventorySnapshots[0];
  return {
    id: d.id,
    hostname: d.hostname,
    status: deviceStatus(d, now, offlineAfterSec),
    enrolledAt: iso(d.enrolledAt),
    lastSeenAt: d.lastSeenAt ? iso(d.lastSeenAt) : null,
    agentVersion: d.agentVersion,
    cpu: inv?.cpuBrand ?? null,
    cpuCores: inv?.cpuCores ?? null,
    ramTotalBytes: num(inv?.ramTotalBytes),
    gpus: (inv?.gpus ?? []).map((g) => ({ vendor: g.vendor, model: g.model, vramBytes: num(g.vramBytes) })),
    os: inv?.osName ?? null,
    models: d.installedModels.map((m) => ({ fileName: m.fileName, sha256: m.sha256, architecture: m.architecture, quantization: m.quantization })),
    memoryPressure: d.memoryPressureFlags.map((f) => ({ modelId: f.modelId, sha256: f.sha256, reason: f.reason, lastSeenAt: iso(f.lastSeenAt) })),
  };
}

type DetailRow = DeviceWithSummary & {
  postureReports: { receivedAt: Date; data: unknown }[];
  heartbeats: { receivedAt: Date; queueDepth: number; runtimeState: string; activeModel: string | null }[];
};

export function toDeviceDetail(d: DetailRow, now: Date, offlineAfterSec: number): TDeviceDetailV1 {
  const latest = d.inventorySnapshots[0];
  const posture = d.postureReports[0];
  const hb = d.heartbeats[0];
  return {
    device: toDeviceSummary({ ...d, lastSeenAt: d.liveness?.lastSeenAt ?? null }, now, offlineAfterSec),
    inventory: latest ? { id: latest.id, receivedAt: iso(latest.receivedAt), inventory: latest.data as TInventoryV1 } : null,
    inventoryHistory: d.inventorySnapshots.map((s) => ({
      id: s.id,
      receivedAt: iso(s.receivedAt),
      ramFreeBytes: num(s.ramFreeBytes),
      modelsDirFreeBytes: num(s.modelsDirFreeBytes),
    })),
    models: d.installedModels.map((m) => ({
      path: m.path,
      fileName: m.fileName,
      sizeBytes: Number(m.sizeBytes),
      sha256: m.sha256,
      gguf: (m.gguf as TGgufMetadataV1 | null) ?? null,
      error: m.error,
      firstSeenAt: iso(m.firstSeenAt),
      lastSeenAt: iso(m.lastSeenAt),
    })),
    posture: posture ? { receivedAt: iso(posture.receivedAt), posture: posture.data as TPostureV1 } : null,
    heartbeat: hb ? { receivedAt: iso(hb.receivedAt), queueDepth: hb.queueDepth, runtimeState: hb.runtimeState, activeModel: hb.activeModel } : null,
  };
}
