import fs from "node:fs/promises";

async function read(file: string): Promise<string | null> {
  return fs.readFile(file, "utf8").then((s) => s.trim(), () => null);
}

/**
 * What a benchmark result must disclose about power: the platform profile (Linux ACPI) and whether the
 * machine runs on AC or battery. Speeds on battery-saver profiles are not comparable with AC ones.
 */
export async function readPowerMode(): Promise<string> {
  const profile = await read("/sys/firmware/acpi/platform_profile");
  const supplies = await fs.readdir("/sys/class/power_supply").catch(() => [] as string[]);
  let ac: string | null = null;
  for (const s of supplies) {
    const type = await read(`/sys/class/power_supply/${s}/type`);
    if (type === "Mains") ac = (await read(`/sys/class/power_supply/${s}/online`)) === "1" ? "ac" : "battery";
  }
  const parts = [profile ? `profile=${profile}` : null, ac].filter(Boolean);
  return parts.length ? parts.join(", ") : "unknown (no ACPI profile or power supply reported)";
}
