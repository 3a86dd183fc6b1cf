import { describe, expect, it } from "vitest";
import { CompactSign } from "jose";
import { FLEET_EVENT_BATCH_JWS_TYP, fleetEventBatchOrigin, openDeviceRevoked, openFleetEventBatch, signDeviceRevoked, signFleetEventBatch } from "./control.js";
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

describe("fleet event batches (replica fan-out)", () => {
  const batch = {
    v: 1 as const,
    origin: "instance-a",
    seq: 1,
    events: [{ type: "device.online" as const, deviceId: "dev-1", at: new Date().toISOString(), data: { lastSeenAt: new Date().toISOString() } }],
  };
  const enc = (s: string) => new TextEncoder().encode(s);

  it("open only when signed by the server key and well-formed", async () => {
    const server = await generateSigningKeyPair();
    const other = await generateSigningKeyPair();
    const serverPub = await importPublicJwk(server.publicJwk);
    const signed = await signFleetEventBatch(batch, await importPrivateJwk(server.privateJwk));
    expect(await openFleetEventBatch(enc(signed), serverPub)).toEqual({ ok: true, value: batch });
    expect(fleetEventBatchOrigin(enc(signed))).toBe("instance-a");
    expect(fleetEventBatchOrigin(enc("garbage"))).toBeNull();

    const forged = await signFleetEventBatch(batch, await importPrivateJwk(other.privateJwk));
    expect(await openFleetEventBatch(enc(forged), serverPub)).toMatchObject({ ok: false, reason: "unsigned" });
    expect(await openFleetEventBatch(enc(JSON.stringify(batch)), serverPub)).toMatchObject({ ok: false, reason: "unsigned" });

    // signed with the right key but not a batch (an unknown event type)
    const bad = await new CompactSign(enc(JSON.stringify({ ...batch, events: [{ ...batch.events[0], type: "device.exploded" }] })))
      .setProtectedHeader({ alg: "EdDSA", typ: FLEET_EVENT_BATCH_JWS_TYP })
      .sign(await importPrivateJwk(server.privateJwk));
    expect(await openFleetEventBatch(enc(bad), serverPub)).toMatchObject({ ok: false, reason: "malformed", detail: expect.stringMatching(/invalid batch/) });
    // the header's origin (read unverified to skip one's own batches) must be the signed batch's
    const spoofed = await new CompactSign(enc(JSON.stringify(batch)))
      .setProtectedHeader({ alg: "EdDSA", typ: FLEET_EVENT_BATCH_JWS_TYP, origin: "instance-b" })
      .sign(await importPrivateJwk(server.privateJwk));
    expect(await openFleetEventBatch(enc(spoofed), serverPub)).toMatchObject({ ok: false, reason: "malformed", detail: expect.stringMatching(/origin/) });
  });

  it("refuses to sign an invalid batch", async () => {
    const server = await generateSigningKeyPair();
    await expect(signFleetEventBatch({ ...batch, seq: 0 }, await importPrivateJwk(server.privateJwk))).rejects.toThrow();
  });
});
