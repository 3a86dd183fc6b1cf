import fs from "node:fs/promises";
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import si from "systeminformation";
import { afterAll, describe, expect, it } from "vitest";
import type { TDeviceEventV1, TPowerStateV1 } from "@fleet/protocol";
import { InferenceRuntime } from "../runtime/InferenceRuntime.js";
import { quietLogger, tempModelsDir, testRuntimeConfig, until } from "../runtime/testing/runtimeFixtures.js";
import { hashModel } from "../models/hashModel.js";
import { ResourceGovernor } from "./ResourceGovernor.js";
import { hashInBackground } from "./hashInBackground.js";
import { hasIonice } from "./backgroundPriority.js";
import { readPowerState } from "./readMachineState.js";
import { ZResourcePolicy, ZResourcesConfig } from "./ZResourcesConfig.js";
import { exportJWK, generateKeyPair } from "jose";
import { DEFAULT_DEVICE_POLICY_SETTINGS, signDevicePolicy } from "@fleet/protocol";
import { DevicePolicyWatcher } from "../policy/DevicePolicyWatcher.js";

/** pid of the newest child of `parent` running node with -e (the hashing process), from /proc */
async function waitForChildOf(parent: number): Promise<number> {
  let found: number | null = null;
  await until(() => {
    for (const d of readdirSync("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === parent && readFileSync(`/proc/${d}/cmdline`, "utf8").includes("createHash")) found = Number(d);
      } catch {
        /* exited */
      }
    }
    return found !== null;
  }, 5000);
  return found!;
}

const policy = (p: Record<string, unknown>) => ZResourcePolicy.parse(p);
const config = (p: Record<string, unknown> = {}) => ZResourcesConfig.parse({ policy: p, deferRetrySec: 0.02, cpuSampleMs: 200 });
const onBattery: TPowerStateV1 = { source: "battery", profile: "low-power", reason: null };
const onAc: TPowerStateV1 = { source: "ac", profile: null, reason: "no ACPI platform profile" };

describe("resource policy: inference threads cap", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup) await c();
  });

  it("a CPU share of 50% on 2 cores reloads the serving model with 1 thread, as node-llama-cpp's context reports", async () => {
    const dir = await tempModelsDir();
    const events: TDeviceEventV1[] = [];
    const runtime = new InferenceRuntime({ config: testRuntimeConfig({ threads: 2 }), modelsDir: dir, logger: quietLogger(), gpu: false, onEvent: (e) => events.push(e) });
    cleanup.push(async () => {
      await runtime.stop();
      await fs.rm(dir, { recursive: true, force: true });
    });
    await runtime.start();
    expect(await runtime.loadConfigured()).toBe(true);
    expect(runtime.servingThreads).toBe(2);

    const governor = new ResourceGovernor({ config: config(), cores: 2, onThreadsCap: (cap) => runtime.setThreadsCap(cap) });
    expect(governor.threadsCap()).toBeNull();
    await governor.apply(policy({ maxCpuSharePct: 50 }), 3);
    expect(governor.threadsCap()).toBe(1);
    expect(runtime.servingThreads).toBe(1); // reloaded; the host reports context.currentThreads
    expect(events.filter((e) => e.kind === "model.loaded").at(-1)?.data).toMatchObject({ threads: 1 });
    // a tighter explicit cap wins over the share; what was applied is reported
    await governor.apply(policy({ maxCpuSharePct: 100, maxInferenceThreads: 1 }), 4);
    expect(governor.applied()).toMatchObject({ policyVersion: 4, cores: 2, inferenceThreadsCap: 1, maxInferenceThreads: 1, maxCpuSharePct: 100 });
  });
});

describe("resource policy: the signed device policy", () => {
  it("follows the DevicePolicyWatcher: a verified newer policy's resources are applied, with its version", async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-policy-"));
    try {
      const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
      const jwk = await exportJWK(publicKey);
      const watcher = new DevicePolicyWatcher({ home, state: { deviceId: "dev-1", serverPublicJwk: { kty: "OKP", crv: "Ed25519", x: jwk.x! } } });
      const caps: (number | null)[] = [];
      const governor = new ResourceGovernor({ config: config(), cores: 8, onThreadsCap: (cap) => void caps.push(cap) });
      await governor.follow(watcher);
      expect(caps).toEqual([]); // nothing in force yet: the local policy stays
      const sign = (version: number, resources: object) =>
        signDevicePolicy({ schema: "device-policy/v1", version, issuedAt: new Date().toISOString(), deviceId: "dev-1", privacy: DEFAULT_DEVICE_POLICY_SETTINGS.privacy, resources: { ...DEFAULT_DEVICE_POLICY_SETTINGS.resources, ...resources } }, privateKey);
      await watcher.handle(await sign(2, { maxCpuSharePct: 25, backgroundOnlyOnAcPower: true, backgroundNice: 19 }));
      await until(() => caps.length === 1);
      expect(caps).toEqual([2]); // 25% of 8 cores
      expect(governor.applied()).toMatchObject({ policyVersion: 2, inferenceThreadsCap: 2, background: { onlyOnAcPower: true, nice: 19 } });
      // an older version is refused by the watcher and changes nothing
      await watcher.handle(await sign(1, { maxInferenceThreads: 1 }));
      expect(governor.applied().policyVersion).toBe(2);
      await watcher.stop();
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});

describe("resource policy: background work", () => {
  it("defers on battery and on a busy machine (readings injected at the platform boundary), says why, resumes", async () => {
    const events: TDeviceEventV1[] = [];
    const power = [onBattery, onBattery, onAc];
    const busy = [97, 12];
    const governor = new ResourceGovernor({
      config: config({ backgroundOnlyOnAcPower: true, backgroundOnlyWhenIdle: true, idleCpuPctBelow: 50 }),
      readings: { power: async () => power.shift() ?? onAc, cpuBusyPct: async () => busy.shift() ?? 0 },
      onEvent: (e) => events.push(e),
    });
    await governor.whenBackgroundAllowed("hashing", undefined, { file: "x.gguf" });
    expect(events.map((e) => e.kind)).toEqual(["resources.background.deferred", "resources.background.resumed"]);
    expect(events[0]!.message).toMatch(/hashing deferred: on battery power/);
    expect(governor.applied().lastDeferral).toMatchObject({ work: "hashing", reason: expect.stringMatching(/battery/) });
    // three deferred looks (battery, battery, AC but 97% busy) said so once; AC and 12% busy let it run
    expect(power).toEqual([]);
    expect(busy).toEqual([]);
  });

  it("a busy machine defers with the CPU figure in the reason; an aborted wait rejects", async () => {
    const governor = new ResourceGovernor({ config: config({ backgroundOnlyWhenIdle: true, idleCpuPctBelow: 40 }), readings: { cpuBusyPct: async () => 88 } });
    expect(await governor.checkBackground()).toEqual({ ok: false, reason: "the machine is busy (CPU 88% >= 40% idle threshold)" });
    const ctl = new AbortController();
    const wait = governor.whenBackgroundAllowed("self-test", ctl.signal);
    ctl.abort(new Error("update cancelled"));
    await expect(wait).rejects.toThrow("update cancelled");
    // the agent stopping ends every wait, with or without a caller's signal
    const benchmark = governor.whenBackgroundAllowed("benchmark");
    governor.close();
    await expect(benchmark).rejects.toThrow(/agent is stopping/);
  });

  it("decides from this machine's real systeminformation battery reading", async () => {
    const governor = new ResourceGovernor({ config: config({ backgroundOnlyOnAcPower: true }) });
    const battery = await si.battery();
    const onBatteryNow = battery.hasBattery && !battery.acConnected;
    expect((await readPowerState()).source).toBe(onBatteryNow ? "battery" : "ac");
    expect((await governor.checkBackground()).ok).toBe(!onBatteryNow);
  });

  it("an interactive request pauses background hashing (SIGSTOP) until it ends, then the hash completes", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-hash-"));
    try {
      const file = path.join(dir, "big.gguf");
      await fs.writeFile(file, "");
      await fs.truncate(file, 256 * 1024 * 1024);
      const governor = new ResourceGovernor({ config: config({ backgroundNice: 19 }) });
      const state = (pid: number) => readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]![0];
      const end = governor.beginInteractive(); // a request is being answered when the hashing starts
      let done = false;
      const hashing = governor.hash(file).then((sha) => ((done = true), sha));
      const pid = await waitForChildOf(process.pid);
      await until(() => state(pid) === "T", 5000);
      await new Promise((r) => setTimeout(r, 300));
      expect(done).toBe(false);
      expect(state(pid)).toBe("T"); // still paused
      end();
      expect(await hashing).toBe(await hashModel(file));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("hashes in a separate process at the policy's nice and ionice, same digest as in process; errors keep their code", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-hash-"));
    try {
      const file = path.join(dir, "big.gguf");
      await fs.writeFile(file, "");
      await fs.truncate(file, 64 * 1024 * 1024); // sparse: read at full cost, no disk used
      let seen: { nice: number | null; ionice: string | null; live: number } | null = null;
      const sha = await hashInBackground(file, { backgroundNice: 15, backgroundIoniceClass: "idle" }, {
        onPriority: (applied, pid) => (seen = { nice: applied.nice, ionice: applied.ionice, live: os.getPriority(pid) }),
      });
      expect(sha).toBe(await hashModel(file));
      expect(seen).toEqual({ nice: 15, ionice: hasIonice() ? "idle" : null, live: 15 });
      await expect(hashInBackground(path.join(dir, "gone.gguf"), { backgroundNice: 10, backgroundIoniceClass: "none" })).rejects.toMatchObject({ code: "ENOENT" });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
