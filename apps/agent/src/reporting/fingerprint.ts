import type { ReportBody, ReportKind } from "@fleet/protocol";
import { sha256Hex } from "../util/sha256Hex.js";

const GiB = 1024 ** 3;

/**
 * A hash of what a report says, for "send only when it changed". Timestamps are left out, and gauges that move
 * all the time (free memory, free disk, battery) are rounded, so an unchanged machine sends nothing new while a
 * real change (a GiB less free disk, a new GPU, a model added) still does.
 */
export function fingerprint<K extends ReportKind>(kind: K, body: ReportBody<K>): string {
  if (kind === "inventory") {
    const inv = body as ReportBody<"inventory">;
    const stable = {
      ...inv,
      collectedAt: undefined,
      memory: { ...inv.memory, freeBytes: round(inv.memory.freeBytes), availableBytes: round(inv.memory.availableBytes), swapFreeBytes: round(inv.memory.swapFreeBytes) },
      gpus: inv.gpus.map((g) => ({ ...g, vramFreeBytes: g.vramFreeBytes === null ? null : round(g.vramFreeBytes) })),
      disks: inv.disks.map((d) => ({ ...d, freeBytes: round(d.freeBytes) })),
      modelsDir: { ...inv.modelsDir, freeBytes: round(inv.modelsDir.freeBytes) },
      power: { ...inv.power, percent: inv.power.percent === null ? null : Math.round(inv.power.percent / 10) },
    };
    return sha256Hex(JSON.stringify(stable));
  }
  if (kind === "posture") {
    const p = body as ReportBody<"posture">;
    // the scan time changes every scan; what it found is what matters
    return sha256Hex(JSON.stringify(p.exposure ? { ...p, exposure: { ...p.exposure, scannedAt: undefined } } : p));
  }
  return sha256Hex(JSON.stringify(body));
}

function round(bytes: number): number {
  return Math.round(bytes / GiB);
}
