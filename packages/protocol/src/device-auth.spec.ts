import { describe, expect, it } from "vitest";
import { generateSigningKeyPair, importPrivateJwk, importPublicJwk } from "./signing.js";
import { deviceAuthorization, verifyDeviceAuthorization } from "./device-auth.js";

describe("device authorization", async () => {
  const a = await generateSigningKeyPair();
  const b = await generateSigningKeyPair();
  const keys: Record<string, CryptoKey> = { "dev-a": (await importPublicJwk(a.publicJwk)) as CryptoKey, "dev-b": (await importPublicJwk(b.publicJwk)) as CryptoKey };
  const resolve = async (id: string) => keys[id] ?? null;
  const privA = await importPrivateJwk(a.privateJwk);
  const req = { method: "GET", path: "/api/v1/artifacts/x-1.gguf" };

  it("accepts the device's own token for this request", async () => {
    const h = await deviceAuthorization("dev-a", "GET", req.path, privA);
    expect(await verifyDeviceAuthorization(h, req, resolve)).toEqual({ ok: true, deviceId: "dev-a" });
  });

  it("refuses a token for another path, an old one, a missing one, and one claiming another device", async () => {
    const other = await deviceAuthorization("dev-a", "GET", "/api/v1/artifacts/y-1.gguf", privA);
    expect((await verifyDeviceAuthorization(other, req, resolve)).ok).toBe(false);
    const old = await deviceAuthorization("dev-a", "GET", req.path, privA, Date.now() - 10 * 60_000);
    expect(await verifyDeviceAuthorization(old, req, resolve)).toEqual({ ok: false, reason: "device authorization expired" });
    expect((await verifyDeviceAuthorization(undefined, req, resolve)).ok).toBe(false);
    const asB = await deviceAuthorization("dev-b", "GET", req.path, privA);
    expect(await verifyDeviceAuthorization(asB, req, resolve)).toEqual({ ok: false, reason: "device authorization signature does not verify" });
    const unknown = await deviceAuthorization("dev-z", "GET", req.path, privA);
    expect(await verifyDeviceAuthorization(unknown, req, resolve)).toEqual({ ok: false, reason: "unknown or revoked device" });
  });
});
