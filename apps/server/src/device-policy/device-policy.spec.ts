import { Empty } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importPublicJwk, openDevicePolicy, type TDevicePolicyViewV1, type TDevicePolicyV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import type { SimDevice } from "../testing/device-sim.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";

const resources = { maxInferenceThreads: 2, maxCpuSharePct: 50, backgroundOnlyOnAcPower: true, backgroundOnlyWhenIdle: false, idleCpuPctBelow: 30, backgroundNice: 19, backgroundIoniceClass: "idle" };

/** Admin REST -> signed policy in the device's own KV key, which the device (and only it) reads over NATS. */
describe("device policy", () => {
  let t: TestServer;
  let a: SimDevice;
  let b: SimDevice;

  /** What device `dev` reads from the bucket with its own NATS identity (as the agent's DevicePolicyWatcher does). */
  const read = async (dev: SimDevice, key = dev.id): Promise<TDevicePolicyV1 | null> => {
    const bucket = dev.enrollment.policyBucket;
    const r = await dev.nc.request(`$JS.API.DIRECT.GET.KV_${bucket}.$KV.${bucket}.${key}`, Empty, { timeout: 2000 });
    if (r.headers?.code === 404 || r.data.length === 0) return null;
    const opened = await openDevicePolicy(r.data, await importPublicJwk(dev.enrollment.serverPublicKeyJwk), { deviceId: dev.id, minVersionExclusive: 0 });
    if (!opened.ok) throw new Error(`${opened.reason}: ${opened.detail}`);
    return opened.value;
  };

  beforeAll(async () => {
    t = await startTestServer();
    [a, b] = await Promise.all([t.enrollDevice("ws-policy-a"), t.enrollDevice("ws-policy-b")]);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("issues each enrolled device a signed policy it reads from its own key; another device's key is denied", async () => {
    const first = await waitFor(() => read(a), "a's policy issued at enrollment");
    expect(first).toMatchObject({ schema: "device-policy/v1", deviceId: a.id, privacy: { telemetry: "minimal", remoteFallback: "off", consent: null } });
    expect(Date.parse(first.expiresAt!)).toBeGreaterThan(Date.now());
    await expect(read(a, b.id)).rejects.toThrow(/permission|timeout|TIMEOUT|PERMISSIONS/i);
  });

  it("the fleet default and a device override are admin REST; each change is a higher version; consent is recorded with who and when", async () => {
    expect((await fetch(`${t.url}/api/v1/policies/device`)).status).toBe(401);
    const bad = await t.admin("/api/v1/policies/device", { method: "PUT", body: JSON.stringify({ privacy: { telemetry: "loud", remoteFallback: "off" }, resources }) });
    expect(bad.status).toBe(400);
    const before = (await waitFor(() => read(b), "b's first policy")).version;

    const put = await t.admin("/api/v1/policies/device", { method: "PUT", body: JSON.stringify({ privacy: { telemetry: "off", remoteFallback: "allowed-with-consent" }, resources }) });
    expect(put.status).toBe(200);
    expect(((await put.json()) as TDevicePolicyViewV1).source).toBe("fleet");
    const offB = await waitFor(async () => {
      const p = await read(b);
      return p && p.version > before ? p : null;
    }, "b re-issued with the fleet default");
    expect(offB).toMatchObject({ privacy: { telemetry: "off", remoteFallback: "allowed-with-consent", consent: null }, resources });

    const consent = await t.admin(`/api/v1/devices/${b.id}/policy/consent`, { method: "POST", body: JSON.stringify({ granted: true }) });
    expect(consent.status).toBe(200);
    const withConsent = (await read(b))!;
    expect(withConsent.version).toBeGreaterThan(offB.version);
    expect(withConsent.privacy.consent).toMatchObject({ grantedBy: "admin" });
    expect(Math.abs(Date.parse(withConsent.privacy.consent!.grantedAt) - Date.now())).toBeLessThan(60_000);
    expect(await t.db.prisma.auditLog.count({ where: { action: "device_policy.consent.granted", targetId: b.id } })).toBe(1);

    const override = await t.admin(`/api/v1/devices/${a.id}/policy`, { method: "PUT", body: JSON.stringify({ privacy: { telemetry: "full", remoteFallback: "off" }, resources }) });
    expect(override.status).toBe(200);
    expect(await override.json()).toMatchObject({ deviceId: a.id, source: "device", settings: { privacy: { telemetry: "full" } }, issued: { privacy: { telemetry: "full" } } });
    expect((await read(a))?.privacy.telemetry).toBe("full");
    const cleared = (await (await t.admin(`/api/v1/devices/${a.id}/policy`, { method: "DELETE" })).json()) as TDevicePolicyViewV1;
    expect(cleared).toMatchObject({ source: "fleet", settings: { privacy: { telemetry: "off" } } });
    expect((await t.admin("/api/v1/devices/nope/policy")).status).toBe(404);
  });
});
