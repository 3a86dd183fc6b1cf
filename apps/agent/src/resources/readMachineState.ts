import fs from "node:fs/promises";
import si from "systeminformation";
import type { TPowerStateV1 } from "@fleet/protocol";

// Readings of the platform the agent decides on (background work) and discloses (benchmarks). Each is null with
// a reason when the platform does not give it: a guess would make results incomparable.

export interface CpuSensors {
  cpuFreqMhz: number | null;
  freqReason: string | null;
  cpuTempC: number | null;
  tempReason: string | null;
}

export async function readCpuSensors(): Promise<CpuSensors> {
  const [speed, temp] = await Promise.all([si.cpuCurrentSpeed().catch(() => null), si.cpuTemperature().catch(() => null)]);
  const ghz = speed?.avg ?? 0;
  const main = temp?.main;
  const tempOk = typeof main === "number" && Number.isFinite(main) && main > 0;
  return {
    cpuFreqMhz: ghz > 0 ? Math.round(ghz * 1000) : null,
    freqReason: ghz > 0 ? null : "sensors unavailable: the platform reports no current CPU frequency (no cpufreq, e.g. a virtual machine)",
    cpuTempC: tempOk ? main : null,
    tempReason: tempOk ? null : "sensors unavailable: no readable CPU temperature sensor (no hwmon/thermal zone)",
  };
}

async function readPlatformProfile(): Promise<string | null> {
  return fs.readFile("/sys/firmware/acpi/platform_profile", "utf8").then((s) => s.trim() || null, () => null);
}

/** AC or battery (systeminformation battery()) and the ACPI platform profile when readable. */
export async function readPowerState(): Promise<TPowerStateV1> {
  const [battery, profile] = await Promise.all([si.battery().catch(() => null), readPlatformProfile()]);
  const reasons: string[] = [];
  let source: TPowerStateV1["source"] = null;
  if (!battery) reasons.push("power source unknown: battery information unreadable");
  else if (!battery.hasBattery) source = "ac"; // a machine without a battery runs on mains
  else source = battery.acConnected ? "ac" : "battery";
  if (profile === null) reasons.push("no ACPI platform profile");
  return { source, profile, reason: reasons.length ? reasons.join("; ") : null };
}

/**
 * CPU busy % of the whole machine over `sampleMs` (systeminformation currentLoad measures since its previous
 * call, so it is called twice).
 */
export async function readCpuBusyPct(sampleMs = 1000): Promise<number> {
  await si.currentLoad();
  await new Promise((r) => setTimeout(r, sampleMs));
  return (await si.currentLoad()).currentLoad;
}
