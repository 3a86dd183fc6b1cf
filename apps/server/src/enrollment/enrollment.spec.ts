import { decode } from "@nats-io/jwt";
import { nkeys } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKeyPair, ZEnrollResponseV1 } from "@fleet/protocol";
import { hashEnrollmentSecret } from "./token-hash.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.close());

async function newToken(ttlSeconds = 3600, note?: string): Promise<{ id: string; token: string; expiresAt: string }> {
  const res = await t.admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds, note }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string; expiresAt: string };
}

async function enroll(token: string, hostname = "ws-1", natsUserKey: string | null = nkeys.createUser().getPublicKey()) {
  const { publicJwk } = await generateSigningKeyPair();
  const res = await fetch(`${t.url}/api/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, publicKeyJwk: publicJwk, hostname, agentVersion: "0.1.0", natsUserKey: natsUserKey ?? undefined }),
  });
  return { res, body: (await res.json()) as Record<string, unknown>, publicJwk, natsUserKey };
}

describe("enrollment", () => {
  it("issues a one-time token, stores only its hash, and enrolls a device with it", async () => {
    const tok = await newToken(600, "desk 42");
    expect(tok.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = await t.db.prisma.enrollmentToken.findUniqueOrThrow({ where: { id: tok.id } });
    expect(row.tokenHash).toBe(hashEnrollmentSecret(tok.token));
    expect(JSON.stringify(row)).not.toContain(tok.token);
    expect(row.note).toBe("desk 42");

    const { res, body, publicJwk, natsUserKey } = await enroll(tok.token, "ws-happy");
    expect(res.status).toBe(201);
    const parsed = ZEnrollResponseV1.parse(body);
    expect(parsed.subjectPrefix).toBe("fleet.v1");
    expect(parsed.natsUrl).toBe(t.nats.url);
    expect(parsed.heartbeatIntervalSec).toBe(30);

    const device = await t.db.prisma.device.findUniqueOrThrow({ where: { id: parsed.deviceId } });
    expect(device.hostname).toBe("ws-happy");
    expect(device.state).toBe("active");
    expect(device.publicKeyJwk).toEqual({ kty: "OKP", crv: "Ed25519", x: publicJwk.x });
    expect(device.publicKeyThumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(device.enrollmentTokenId).toBe(tok.id);
    expect(device.natsUserKey).toBe(natsUserKey);
    if (t.nats.keysFile) {
      // NATS with per-device identity: a user JWT for the device's own key, limited to its own subjects.
      const claims = decode<{ pub: { allow: string[] }; sub: { allow: string[] } }>(parsed.natsUserJwt!);
      expect(claims.sub).toBe(natsUserKey);
      expect(claims.nats.pub?.allow).toContain(`fleet.v1.device.${parsed.deviceId}.>`);
      expect(claims.nats.sub?.allow).toEqual([`_INBOX_${parsed.deviceId}.>`, `$KV.FLEET_ASSIGNMENTS.${parsed.deviceId}`, `$KV.FLEET_DEVICE_POLICIES.${parsed.deviceId}`]);
    } else {
      expect(parsed.natsUserJwt).toBeNull();
    }
    const used = await t.db.prisma.enrollmentToken.findUniqueOrThrow({ where: { id: tok.id } });
    expect(used.usedAt).not.toBeNull();

    const audit = await t.db.prisma.auditLog.findMany({ where: { OR: [{ targetId: tok.id }, { targetId: parsed.deviceId }] }, orderBy: { at: "asc" } });
    expect(audit.map((a) => a.action)).toEqual(["enrollment_token.created", "device.enrolled"]);
  });

  it("the server public key in the response is the one in the key file", async () => {
    const tok = await newToken();
    const { body } = await enroll(tok.token);
    const fs = await import("node:fs/promises");
    const file = JSON.parse(await fs.readFile(t.config.serverKeyFile, "utf8")) as { x: string; d: string };
    expect((body.serverPublicKeyJwk as { x: string }).x).toBe(file.x);
    expect(body.serverPublicKeyJwk).not.toHaveProperty("d");
    const stat = await fs.stat(t.config.serverKeyFile);
    expect(stat.mode & 0o777).toBe(0o600);
  });

  it("refuses a reused token with 401 enrollment_token_used", async () => {
    const tok = await newToken();
    expect((await enroll(tok.token)).res.status).toBe(201);
    const again = await enroll(tok.token, "ws-again");
    expect(again.res.status).toBe(401);
    expect(again.body).toEqual({ error: { code: "enrollment_token_used", message: "enrollment token was already used" } });
    expect(await t.db.prisma.device.count({ where: { hostname: "ws-again" } })).toBe(0);
  });

  it("refuses an unknown token with 401 enrollment_token_invalid", async () => {
    const { res, body } = await enroll("x".repeat(43));
    expect(res.status).toBe(401);
    expect(body).toEqual({ error: { code: "enrollment_token_invalid", message: "enrollment token is not valid" } });
  });

  it("refuses an expired token with 401 enrollment_token_expired", async () => {
    const tok = await newToken();
    await t.db.prisma.enrollmentToken.update({ where: { id: tok.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const { res, body } = await enroll(tok.token);
    expect(res.status).toBe(401);
    expect(body).toEqual({ error: { code: "enrollment_token_expired", message: "enrollment token has expired" } });
    // refusals are audited aggregated: one row per reason per hour, with a count
    const refused = await t.db.prisma.auditLog.findFirst({ where: { action: "enroll.refused", details: { path: ["reason"], equals: "expired" } } });
    expect(refused?.details).toMatchObject({ reason: "expired", count: expect.any(Number) });
  });

  it("lets exactly one of two concurrent enrolls with one token win", async () => {
    for (let round = 0; round < 3; round++) {
      const tok = await newToken();
      const results = await Promise.all([enroll(tok.token, `race-${round}-a`), enroll(tok.token, `race-${round}-b`)]);
      const statuses = results.map((r) => r.res.status).sort();
      expect(statuses).toEqual([201, 401]);
      expect(results.find((r) => r.res.status === 401)!.body).toMatchObject({ error: { code: "enrollment_token_used" } });
      expect(await t.db.prisma.device.count({ where: { hostname: { startsWith: `race-${round}-` } } })).toBe(1);
    }
  });

  it("refuses a second enrollment of the same public key with 409 and leaves the token unused", async () => {
    const first = await newToken();
    const { publicJwk } = await generateSigningKeyPair();
    const post = (token: string) =>
      fetch(`${t.url}/api/v1/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, publicKeyJwk: publicJwk, hostname: "dup-key", agentVersion: "0.1.0", natsUserKey: nkeys.createUser().getPublicKey() }),
      });
    expect((await post(first.token)).status).toBe(201);
    const second = await newToken();
    const res = await post(second.token);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("conflict");
    const row = await t.db.prisma.enrollmentToken.findUniqueOrThrow({ where: { id: second.id } });
    expect(row.usedAt).toBeNull();
  });

  it("with per-device NATS identity, refuses an agent that sends no NATS key (it could never connect) and keeps the token", async (ctx) => {
    if (!t.nats.keysFile) ctx.skip(); // FLEET_TEST_NATS_AUTH=none: NATS without auth
    const tok = await newToken();
    const { res, body } = await enroll(tok.token, "old-agent", null);
    expect(res.status).toBe(400);
    expect(body).toMatchObject({ error: { code: "validation_failed", message: expect.stringMatching(/natsUserKey/) } });
    expect((await t.db.prisma.enrollmentToken.findUniqueOrThrow({ where: { id: tok.id } })).usedAt).toBeNull();
    expect((await enroll(tok.token, "new-agent")).res.status).toBe(201);
    // a spent (or unknown) token is still refused as such first
    expect((await enroll(tok.token, "old-agent", null)).body).toMatchObject({ error: { code: "enrollment_token_used" } });
    expect((await enroll("y".repeat(43), "old-agent", null)).body).toMatchObject({ error: { code: "enrollment_token_invalid" } });
  });

  it("validates the enroll body: a private key is refused with 400 validation_failed", async () => {
    const tok = await newToken();
    const { privateJwk } = await generateSigningKeyPair();
    const res = await fetch(`${t.url}/api/v1/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: tok.token, publicKeyJwk: privateJwk, hostname: "h", agentVersion: "1" }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; details: { path: string }[] } };
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details.some((d) => d.path.startsWith("publicKeyJwk"))).toBe(true);
  });
});
