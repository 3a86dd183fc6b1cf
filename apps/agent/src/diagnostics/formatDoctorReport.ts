import { formatGiB } from "@fleet/catalog";
import type { DoctorReport } from "./collectDoctorReport.js";

// small models would all read "0.00 GiB"
const size = (bytes: number) => (bytes < 1024 ** 3 ? `${(bytes / 1024 ** 2).toFixed(1)} MiB` : formatGiB(bytes));

/** The human-readable doctor output: one section per concern, the plan per model, what to fix. */
export function formatDoctorReport(r: DoctorReport): string {
  const lines: string[] = [];
  const cap = r.capabilities;
  lines.push(`fleet-agent ${r.agentVersion} on ${r.os.platform} ${r.os.release} (${r.os.arch}), Node ${r.node}`);
  lines.push("", "Capabilities");
  lines.push(`  CPU: ${r.cpu.model} (${r.cpu.cores} cores${cap ? `, ${cap.cpuMathCores} used for math` : ""})`);
  lines.push(`  RAM: ${formatGiB(r.memory.totalBytes)} total, ${formatGiB(r.memory.freeBytes)} free` + (r.memory.budgetBytes ? `, budget ${formatGiB(r.memory.budgetBytes)}` : "") + `, headroom ${formatGiB(r.memory.headroomBytes)}`);
  if (cap) {
    lines.push(`  Backends: ${cap.backends.join(", ")} (GPU: ${cap.gpu === "false" ? "none usable" : cap.gpu})`);
    lines.push(`  GPUs: ${cap.gpuDevices.length ? cap.gpuDevices.join("; ") : "none"}; VRAM ${formatGiB(cap.vramTotalBytes)} total, ${formatGiB(cap.vramFreeBytes)} free`);
    lines.push(`  node-llama-cpp ${cap.nodeLlamaCpp}, ${cap.llamaCpp}`);
  } else {
    lines.push(`  inference host could not start: ${r.hostError}`);
  }
  lines.push("", `Models in ${r.modelsDir}`);
  if (r.models.length === 0) lines.push("  none installed");
  for (const m of r.models) {
    if (!m.plan) {
      lines.push(`  ${m.id} (${size(m.sizeBytes)}): cannot plan: ${m.error}`);
      continue;
    }
    const p = m.plan;
    const where = p.placement === "cpu" ? "CPU" : p.placement === "gpu-full" ? "GPU (all layers)" : `GPU ${p.gpuLayers}/${p.totalLayers} layers`;
    lines.push(`  ${m.id} (${size(m.sizeBytes)}): ${p.fits ? "fits" : "DOES NOT FIT"} at context ${p.contextSize} on ${where}; needs RAM ${formatGiB(p.requiredRamBytes)} of ${formatGiB(p.availableRamBytes)}` + (p.requiredVramBytes ? `, VRAM ${formatGiB(p.requiredVramBytes)} of ${formatGiB(p.availableVramBytes)}` : ""));
    lines.push(`    weights ${size(p.breakdown.weightsBytes)} + KV ${size(p.breakdown.kvCacheBytes)} + compute ${size(p.breakdown.computeBytes)} + headroom ${size(p.breakdown.headroomBytes)}`);
    if (p.reason) lines.push(`    ${p.reason}`);
  }
  const a = r.api;
  lines.push("", "Local inference API");
  if (!a.enabled) lines.push("  disabled");
  else {
    lines.push(`  http://${a.bind}:${a.port} (${a.loopbackOnly ? "this machine only" : a.allowRemote ? "EXPOSED to the network (allowRemote)" : "non-loopback bind without allowRemote"})`);
    lines.push(`  bearer token: ${a.tokenPresent ? "required, configured" : "MISSING"}; CORS origins: ${a.corsOrigins.length ? a.corsOrigins.join(", ") : "none (browsers refused)"}`);
    lines.push(`  limits: ${a.limits.rateLimitPerMinute} req/min per client, body ${a.limits.maxBodyBytes} B, max_tokens ${a.limits.maxTokens}, timeout ${a.limits.requestTimeoutMs} ms`);
    if (a.refusal) lines.push(`  WILL NOT START: ${a.refusal}`);
  }
  return lines.join("\n") + "\n";
}
