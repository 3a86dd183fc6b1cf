// A simulated fleet's hardware and the report bodies its agents send: a spread of RAM (8-128 GB), GPUs (none,
// integrated, or 4-24 GB of VRAM) and three OSes, drawn from a seeded generator so every run sees the same fleet.
import { exampleHeartbeat, exampleInventory, exampleMetrics, exampleModels, examplePosture } from "@fleet/protocol";

const GB = 2 ** 30;

/** mulberry32: a small deterministic PRNG (the fleet is the same from run to run). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (r, xs) => xs[Math.floor(r() * xs.length)];
const DISCRETE = [
  ["NVIDIA", "RTX 3050 Laptop", 4], ["NVIDIA", "RTX A2000 Laptop", 8], ["NVIDIA", "RTX 4060", 8], ["AMD", "Radeon RX 7600", 8],
  ["NVIDIA", "RTX 4070", 12], ["NVIDIA", "RTX A4000", 16], ["AMD", "Radeon RX 7900 XT", 20], ["NVIDIA", "RTX 4090", 24],
];

/** Hardware of device n: OS 45% windows / 40% linux / 15% macOS; GPU none 30% / integrated 30% / discrete 40%. */
export function hardwareFor(n) {
  const r = rng(n * 2654435761 + 1);
  const o = r();
  const os = o < 0.45 ? "windows" : o < 0.85 ? "linux" : "macos";
  const ramGB = pick(r, [8, 16, 16, 32, 32, 64, 128]);
  const g = r();
  let gpu = null;
  if (os === "macos") gpu = { vendor: "Apple", model: pick(r, ["M1", "M2 Pro", "M3 Max"]), vramBytes: null };
  else if (g < 0.3) gpu = null;
  else if (g < 0.6) gpu = { vendor: pick(r, ["Intel", "AMD"]), model: pick(r, ["Iris Xe", "Radeon 780M", "UHD 770"]), vramBytes: null };
  else {
    const [vendor, model, vram] = pick(r, DISCRETE);
    gpu = { vendor, model, vramBytes: vram * GB };
  }
  return { os, ramGB, gpu, cores: pick(r, [4, 8, 12, 16, 24]) };
}

/**
 * Whether device n serves local inference in this run: the agent sends a metrics report only for a window with
 * requests (runtime.takeMetrics() is empty otherwise). BENCH_SIM_ACTIVE_SHARE of the fleet (default 0.25).
 */
export function servesInference(n, share) {
  return rng(n * 40503 + 17)() < share;
}

const OS = {
  windows: { platform: "win32", distro: "Microsoft Windows 11 Pro", release: "10.0.22631", kernel: "10.0.22631", arch: "x64" },
  linux: { platform: "linux", distro: "Ubuntu", release: "24.04", kernel: "6.8.0", arch: "x64" },
  macos: { platform: "darwin", distro: "macOS", release: "14.5", kernel: "23.5.0", arch: "arm64" },
};

function inventory(hw, hostname, now) {
  const total = hw.ramGB * GB;
  return {
    ...exampleInventory,
    collectedAt: now.toISOString(),
    cpu: { ...exampleInventory.cpu, cores: hw.cores, physicalCores: Math.max(1, hw.cores / 2) },
    memory: { ...exampleInventory.memory, totalBytes: total, freeBytes: Math.floor(total * 0.4), availableBytes: Math.floor(total * 0.55) },
    gpus: hw.gpu ? [{ ...hw.gpu, vramFreeBytes: null, driverVersion: hw.gpu.vramBytes ? "550.54" : null, bus: hw.gpu.vramBytes ? "PCIe" : null }] : [],
    os: { ...OS[hw.os], hostname },
  };
}

/** The body of a report of `kind` from device n (hostname), as its agent would send it at `now`. */
export function bodyFor(kind, n, hostname, hw, now, uptimeSec) {
  switch (kind) {
    case "heartbeat":
      return { ...exampleHeartbeat, uptimeSec, rssBytes: 55_000_000 + (n % 20) * 1_000_000 };
    case "inventory":
      return inventory(hw, hostname, now);
    case "models":
      return exampleModels;
    case "posture":
      return examplePosture;
    case "metrics":
      return { ...exampleMetrics, windowStart: new Date(now.getTime() - 60_000).toISOString(), windowEnd: now.toISOString() };
    default:
      throw new Error(`no simulated body for ${kind}`);
  }
}
