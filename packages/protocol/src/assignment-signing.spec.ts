import { describe, expect, it } from "vitest";
import { generateSigningKeyPair, importPrivateJwk, importPublicJwk } from "./signing.js";
import { openAssignment, signAssignment } from "./assignment-signing.js";
import type { TAssignmentV1 } from "./assignment.js";
import { ZTargetPath, targetPathOf } from "./catalog.js";

const base = (over: Partial<TAssignmentV1> = {}): TAssignmentV1 => ({
  v: 1,
  deviceId: "dev-a",
  version: 5,
  issuedAt: "2026-11-28T10:00:00.000Z",
  expiresAt: "2026-12-05T10:00:00.000Z",
  rolloutId: null,
  ring: null,
  action: "install",
  desired: { target: "tiny-1.0.0.gguf", sha256: "a".repeat(64), length: 10 },
  revokedSha256: [],
  ...over,
});

describe("assignment signing", async () => {
  const server = await generateSigningKeyPair();
  const priv = await importPrivateJwk(server.privateJwk);
  const pub = await importPublicJwk(server.publicJwk);
  const now = new Date("2026-11-28T12:00:00.000Z");

  it("opens what the server signed for this device", async () => {
    const jws = await signAssignment(base(), priv);
    const r = await openAssignment(jws, pub, { deviceId: "dev-a", minVersionExclusive: 4, now });
    expect(r).toEqual({ ok: true, value: base() });
  });

  it.each([
    ["replayed", { deviceId: "dev-a", minVersionExclusive: 5, now }],
    ["device_mismatch", { deviceId: "dev-b", minVersionExclusive: 0, now }],
    ["expired", { deviceId: "dev-a", minVersionExclusive: 0, now: new Date("2026-12-06T00:00:00.000Z") }],
  ] as const)("refuses %s", async (reason, opts) => {
    const r = await openAssignment(await signAssignment(base(), priv), pub, opts);
    expect(r.ok === false && r.reason).toBe(reason);
  });

  it("refuses an assignment signed by another key", async () => {
    const other = await generateSigningKeyPair();
    const jws = await signAssignment(base(), await importPrivateJwk(other.privateJwk));
    const r = await openAssignment(jws, pub, { deviceId: "dev-a", minVersionExclusive: 0, now });
    expect(r.ok === false && r.reason).toBe("bad_signature");
  });

  it("target names never carry a path", () => {
    expect(targetPathOf("llama-3.2-1b", "1.0.0")).toBe("llama-3.2-1b-1.0.0.gguf");
    for (const bad of ["../x-1.gguf", "a/b-1.gguf", "x-1.gguf/..", "x-..-1.gguf", "X-1.gguf", "x-1.bin", "x-1..gguf"]) {
      expect(ZTargetPath.safeParse(bad).success, bad).toBe(false);
    }
  });
});
