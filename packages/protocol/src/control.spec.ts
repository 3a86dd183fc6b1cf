import { describe, expect, it } from "vitest";
import { openDeviceRevoked, signDeviceRevoked } from "./control.js";
import { generateSigningKeyPair, importPrivateJwk, importPublicJwk } from "./signing.js";

describe("device-revoked announcements", () => {
  const msg = { v: 1 as const, deviceId: "dev-1", revokedAt: new Date().toISOString(), origin: "instance-a" };

  it("open only when signed by the server key", async () => {
    const server = await generateSigningKeyPair();
    const other = await generateSigningKeyPair();
    const serverPub = await importPublicJwk(server.publicJwk);
    const enc = (s: string) => new TextEncoder().encode(s);

    const signed = await signDeviceRevoked(msg, await importPrivateJwk(server.privateJwk));
    expect(await openDeviceRevoked(enc(signed), serverPub)).toEqual({ ok: true, value: msg });

    const forged = await signDeviceRevoked(msg, await importPrivateJwk(other.privateJwk));
    expect(await openDeviceRevoked(enc(forged), serverPub)).toMatchObject({ ok: false, detail: expect.stringMatching(/not signed by the server key/) });
    expect(await openDeviceRevoked(enc(JSON.stringify(msg)), serverPub)).toMatchObject({ ok: false });
  });
});
