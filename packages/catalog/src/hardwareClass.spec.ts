import { describe, expect, it } from "vitest";
import type { TInventoryV1 } from "@fleet/protocol";
import { hardwareClass } from "./hardwareClass.js";
import { deviceHardwareFromInventory } from "./deviceHardwareFromInventory.js";
import type { DeviceHardware } from "./deviceHardware.js";

const GiB = 1024 ** 3;
const hw = (ramBytes: number, gpus: DeviceHardware["gpus"] = []): DeviceHardware => ({ ramTotalBytes: ramBytes, gpus, runtime: null });

describe("hardwareClass", () => {
  it.each([
    ["no GPU", hw(16 * GiB), "ram-16g/gpu-none"],
    ["a '32 GB' machine reports a little less", hw(31.3 * GiB, [{ vendor: "NVIDIA Corporation", model: "RTX 4070", vramBytes: 12 * GiB }]), "ram-32g/gpu-nvidia-12g"],
    ["16 decimal GB = 14.9 GiB", hw(16e9), "ram-16g/gpu-none"],
    ["an odd VM size rounds up to the next common size", hw(20 * GiB), "ram-24g/gpu-none"],
    ["integrated GPU without VRAM figure", hw(16 * GiB, [{ vendor: "Intel Corporation", model: "UHD 630", vramBytes: null }]), "ram-16g/gpu-integrated"],
    ["the GPU with the most VRAM names the class", hw(64 * GiB, [{ vendor: "Intel", model: "iGPU", vramBytes: null }, { vendor: "NVIDIA", model: "RTX 3060", vramBytes: 8 * GiB }, { vendor: "Advanced Micro Devices, Inc. [AMD/ATI]", model: "RX 7900 XTX", vramBytes: 24 * GiB }]), "ram-64g/gpu-amd-24g"],
    ["a '12 GB' card reporting 11.7 GiB", hw(32 * GiB, [{ vendor: "NVIDIA Corporation", model: "RTX 3060", vramBytes: 11.7 * GiB }]), "ram-32g/gpu-nvidia-12g"],
    ["Apple", hw(36 * GiB, [{ vendor: "Apple", model: "M3 Pro", vramBytes: 27 * GiB }]), "ram-36g/gpu-apple-27g"],
    ["an unknown vendor is slugged", hw(8 * GiB, [{ vendor: "Moore Threads Inc.", model: "MTT S80", vramBytes: 16 * GiB }]), "ram-8g/gpu-moore-16g"],
    ["beyond the table: multiples of 256", hw(3000 * GiB), "ram-3072g/gpu-none"],
  ])("%s -> %s", (_name, input, want) => {
    expect(hardwareClass(input)).toBe(want);
  });
});

describe("deviceHardwareFromInventory", () => {
  const inventory = (runtime: TInventoryV1["runtime"]): TInventoryV1 => ({
    collectedAt: "2026-11-28T12:00:00.000Z",
    cpu: { manufacturer: "AMD", brand: "Ryzen 9", cores: 16, physicalCores: 8, speedGHz: 4.2, flags: ["avx2"] },
    memory: { totalBytes: 32 * GiB, freeBytes: 3 * GiB, availableBytes: 20 * GiB, swapTotalBytes: 0, swapFreeBytes: 0 },
    gpus: [{ vendor: "NVIDIA Corporation", model: "RTX 4070", vramBytes: 12 * GiB, vramFreeBytes: 1 * GiB, driverVersion: "550", bus: "PCIe" }],
    disks: [],
    modelsDir: { path: "/models", sizeBytes: 0, freeBytes: 100 * GiB },
    os: { platform: "linux", distro: "Debian", release: "12", kernel: "6.1", arch: "x64", hostname: "ws-1" },
    power: { hasBattery: false, isCharging: null, percent: null, acConnected: null },
    ...(runtime === undefined ? {} : { runtime }),
  });

  it.each([
    ["with a runtime", { nodeLlamaCpp: "3.22.1", llamaCppRelease: "b6000", backends: ["cpu", "cuda"] as ("cpu" | "cuda")[] }],
    ["an old agent without one", undefined],
    ["a runtime reported as unknown", null],
  ])("plans with totals, not the momentary free figures (%s)", (_name, runtime) => {
    expect(deviceHardwareFromInventory(inventory(runtime))).toEqual({
      ramTotalBytes: 32 * GiB,
      gpus: [{ vendor: "NVIDIA Corporation", model: "RTX 4070", vramBytes: 12 * GiB }],
      runtime: runtime ?? null,
    });
  });
});
