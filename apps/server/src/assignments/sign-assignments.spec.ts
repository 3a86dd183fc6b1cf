import { describe, expect, it } from "vitest";
import { generateSigningKeyPair, importPrivateJwk, importPublicJwk, openAssignment, signAssignment, type TAssignmentV1 } from "@fleet/protocol";
import { signAssignments } from "./sign-assignments.js";

const a: TAssignmentV1 = {
  v: 1, deviceId: "dev_1", version: 3, issuedAt: "2026-11-28T10:00:00.000Z", expiresAt: "2099-01-01T00:00:00.000Z", rolloutId: null, ring: null,
  action: "install", desired: { target: "tiny-1.0.0.gguf", sha256: "a".repeat(64), length: 10 }, revokedSha256: [],
};

describe("signAssignments", () => {
  it("produces the JWS signAssignment produces, which openAssignment accepts", async () => {
    const { privateJwk, publicJwk } = await generateSigningKeyPair();
    const priv = await importPrivateJwk(privateJwk);
    const [fast] = signAssignments([a], priv);
    // Ed25519 is deterministic: the same key and payload give the same signature.
    expect(fast).toBe(await signAssignment(a, priv));
    expect(await openAssignment(fast!, await importPublicJwk(publicJwk), { deviceId: "dev_1", minVersionExclusive: 2 })).toEqual({ ok: true, value: a });
  });

  it("refuses an assignment that is not schema-valid", async () => {
    const { privateJwk } = await generateSigningKeyPair();
    const key = await importPrivateJwk(privateJwk);
    expect(() => signAssignments([{ ...a, version: 0 }], key)).toThrow(/version/);
  });
});
