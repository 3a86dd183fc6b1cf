import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_DEVICE_POLICY_SETTINGS, generateSigningKeyPair, importPrivateJwk, signDevicePolicy, type TDevicePolicyV1, type TEd25519PublicJwk } from "@fleet/protocol";
import { DevicePolicyWatcher } from "./DevicePolicyWatcher.js";

describe("DevicePolicyWatcher", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
  });

  it("applies a newer signed policy and refuses a forged, replayed, expired or misaddressed one; keeps it across restarts", async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), "policy-"));
    dirs.push(home);
    const server = await generateSigningKeyPair();
    const rogue = await generateSigningKeyPair();
    const key = await importPrivateJwk(server.privateJwk);
    const state = { deviceId: "dev-1", serverPublicJwk: server.publicJwk as TEd25519PublicJwk };
    const policy = (version: number, over: Partial<TDevicePolicyV1> = {}): TDevicePolicyV1 => ({
      schema: "device-policy/v1",
      version,
      issuedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      deviceId: "dev-1",
      ...DEFAULT_DEVICE_POLICY_SETTINGS,
      ...over,
    });
    const refused: string[] = [];
    const changes: number[] = [];
    const w = new DevicePolicyWatcher({ home, state, onRefused: (reason) => refused.push(reason) });
    w.onChange((p) => changes.push(p.version));
    await w.load();
    expect(w.current()).toBeNull();

    const off = { ...DEFAULT_DEVICE_POLICY_SETTINGS.privacy, telemetry: "off" as const };
    await w.handle(await signDevicePolicy(policy(2, { privacy: off }), key));
    expect(w.current()).toMatchObject({ version: 2, privacy: { telemetry: "off" } });

    await w.handle(await signDevicePolicy(policy(3, { privacy: { ...off, telemetry: "full" } }), await importPrivateJwk(rogue.privateJwk)));
    await w.handle(await signDevicePolicy(policy(1), key)); // older: a replay
    await w.handle(await signDevicePolicy(policy(4, { expiresAt: new Date(Date.now() - 1000).toISOString() }), key));
    await w.handle(await signDevicePolicy(policy(5, { deviceId: "dev-2" }), key));
    expect(refused).toEqual(["bad_signature", "replayed", "expired", "device_mismatch"]);
    expect(w.current()?.version).toBe(2);
    expect(changes).toEqual([2]);
    // the policy in force expires: the agent no longer claims it (AgentService then fails closed: telemetry off)
    expect(w.current(new Date(Date.now() + 2 * 3_600_000))).toBeNull();

    const again = new DevicePolicyWatcher({ home, state });
    await again.load();
    expect(again.current()).toMatchObject({ version: 2, privacy: { telemetry: "off" } });
    await again.handle(await signDevicePolicy(policy(2, { privacy: { ...off, telemetry: "full" } }), key)); // same version, other content
    expect(again.current()?.privacy.telemetry).toBe("off");
  });
});
