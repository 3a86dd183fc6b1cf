import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@fleet/db/testing";
import { EXIT_USAGE, runCli } from "./cli.js";
import { hashEnrollmentSecret } from "./enrollment/token-hash.js";
import { loadOrCreateServerKey } from "./common/server-key.js";
import { serverKeySha256 } from "@fleet/protocol";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

async function run(argv: string[], env: Record<string, string | undefined> = { DATABASE_URL: db.url }) {
  let out = "";
  let err = "";
  const code = await runCli(argv, { env, out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

describe("fleet-server CLI", () => {
  it("token create prints a token whose hash is stored, with its expiry and an audit row", async () => {
    const { code, out } = await run(["token", "create", "--ttl", "3600", "--note", "laptop 7"]);
    expect(code).toBe(0);
    const token = /^token:\s+(\S+)$/m.exec(out)![1]!;
    const expiresAt = /^expires at:\s+(\S+)$/m.exec(out)![1]!;
    const row = await db.prisma.enrollmentToken.findUniqueOrThrow({ where: { tokenHash: hashEnrollmentSecret(token) } });
    expect(row.note).toBe("laptop 7");
    expect(row.createdBy).toBe("cli");
    expect(row.expiresAt.toISOString()).toBe(expiresAt);
    expect(Math.abs(Date.parse(expiresAt) - Date.now() - 3600_000)).toBeLessThan(60_000);
    expect(await db.prisma.auditLog.count({ where: { action: "enrollment_token.created", targetId: row.id } })).toBe(1);
  });

  it("token create --json prints machine-readable output", async () => {
    const { code, out } = await run(["token", "create", "--ttl", "60", "--json"], { DATABASE_URL: db.url, FLEET_SERVER_KEY_FILE: "/nonexistent/server-key.json" });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ id: expect.any(String), token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expiresAt: expect.any(String) });
  });

  it("token create prints the server key's thumbprint, the agents' --server-key-sha256 pin", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fleet-cli-key-"));
    try {
      const key = await loadOrCreateServerKey(join(dir, "server-key.json"));
      const pin = await serverKeySha256(key.publicJwk);
      const env = { DATABASE_URL: db.url, FLEET_SERVER_KEY_FILE: join(dir, "server-key.json") };
      const text = await run(["token", "create", "--ttl", "60"], env);
      expect(text.out).toContain(`server key: ${pin}   (fleet-agent enroll --server-key-sha256 ${pin})`);
      const json = await run(["token", "create", "--ttl", "60", "--json"], env);
      expect(JSON.parse(json.out)).toMatchObject({ serverKeySha256: pin });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [["token", "create"], "required option '--ttl <seconds>' not specified"],
    [["token", "create", "--ttl", "abc"], "must be a whole number of seconds"],
    [["token", "create", "--ttl", "59"], "must be between 60 and 2592000"],
    [["token", "create", "--ttl", "60", "--bogus"], "unknown option '--bogus'"],
    [["launch"], "unknown command 'launch'"],
  ])("bad flags %j exit 2 with a readable error", async (argv, message) => {
    const { code, err } = await run(argv);
    expect(code).toBe(EXIT_USAGE);
    expect(err).toContain(message);
  });

  it("a missing DATABASE_URL exits 2 and says so", async () => {
    const { code, err } = await run(["token", "create", "--ttl", "600"], {});
    expect(code).toBe(EXIT_USAGE);
    expect(err).toContain("DATABASE_URL: missing");
  });

  it("migrate reports an up-to-date database", async () => {
    const { code, out } = await run(["migrate"]);
    expect(code).toBe(0);
    expect(out).toBe("database is up to date\n");
  });
});
