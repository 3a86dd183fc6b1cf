import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { EnvError, loadDatabaseUrl, parseEnv } from "./env.js";

const base = { DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/x", FLEET_ADMIN_TOKEN: "a".repeat(24) };

describe("parseEnv", () => {
  it("applies the documented defaults", () => {
    expect(parseEnv(base)).toEqual({
      databaseUrl: base.DATABASE_URL,
      natsUrl: "nats://127.0.0.1:4222",
      host: "127.0.0.1",
      port: 4100,
      adminToken: base.FLEET_ADMIN_TOKEN,
      subjectPrefix: "fleet.v1",
      stream: "FLEET_REPORTS",
      commandStream: "FLEET_COMMANDS",
      consumer: "fleet-server",
      serverKeyFile: ".fleet/server-key.json",
      natsKeysFile: null,
      assignmentBucket: "FLEET_ASSIGNMENTS",
      policyBucket: "FLEET_DEVICE_POLICIES",
      publicNatsUrl: "nats://127.0.0.1:4222",
      heartbeatIntervalSec: 30,
      offlineAfterSec: 90,
      reportMaxAgeDays: 30,
      // one per core beyond the first, at least one, at most four
      ingestVerifyThreads: Math.min(4, Math.max(1, availableParallelism() - 1)),
      ingestAckWaitSec: 30,
      rolloutAssignPerSec: 100,
      retention: { intervalSec: 3600, batchSize: 5000, heartbeatDays: 7, inventoryDays: 90, eventDays: 90, auditDays: 365, postureDays: 90, runtimeMetricDays: 30, modelLoadDays: 90, benchmarkDays: 365 },
      limits: { reportStreamMaxBytes: 1024 ** 3, commandStreamMaxBytes: 64 * 1024 ** 2, ratePerMin: 600, enrollRatePerMin: 120, trustedProxy: null },
      logLevel: "info",
      dataDir: ".fleet/server-data",
      uploadMaxBytes: 200 * 1024 ** 3,
      tufTimestampRefreshSec: 3600,
      quality: { gate: true, maxPerplexityIncreasePct: 10, minTop1Agreement: 0.9, threads: 2, timeoutSec: 3600 },
      auth: { sessionTtlSec: 43_200, sessionSecret: null, consoleUrl: "http://127.0.0.1:3000", eventsToken: null, maxFailures: 5, ipMaxFailures: 20, lockoutSec: 30, wsSessionRecheckSec: 30, oidc: null },
    });
  });

  it("reads single sign-on and its group -> role map, and refuses a malformed map", () => {
    const oidc = { ...base, FLEET_OIDC_ISSUER: "https://idp.example", FLEET_OIDC_CLIENT_ID: "fleet", FLEET_OIDC_ROLE_MAP: "fleet-admins=admin, fleet-ops = operator" };
    expect(parseEnv(oidc).auth.oidc).toEqual({ issuer: "https://idp.example", clientId: "fleet", clientSecret: null, groupsClaim: "groups", roleMap: { "fleet-admins": "admin", "fleet-ops": "operator" }, label: "Single sign-on", scopes: "openid email profile groups" });
    expect(() => parseEnv({ ...oidc, FLEET_OIDC_ROLE_MAP: "fleet-admins=root" })).toThrow(/FLEET_OIDC_ROLE_MAP/);
    expect(() => parseEnv({ ...base, FLEET_OIDC_ISSUER: "https://idp.example" })).toThrow(/needs all three/);
  });

  it("reads the retention keys and refuses nonsense", () => {
    const env = { ...base, RETENTION_INTERVAL_SEC: "0", RETENTION_BATCH_SIZE: "100", HEARTBEAT_RETENTION_DAYS: "2", INVENTORY_RETENTION_DAYS: "30", EVENT_RETENTION_DAYS: "14" };
    expect(parseEnv(env).retention).toMatchObject({ intervalSec: 0, batchSize: 100, heartbeatDays: 2, inventoryDays: 30, eventDays: 14 });
    let err: unknown;
    try {
      parseEnv({ ...base, RETENTION_INTERVAL_SEC: "-5", RETENTION_BATCH_SIZE: "0", HEARTBEAT_RETENTION_DAYS: "0", INVENTORY_RETENTION_DAYS: "1.5", EVENT_RETENTION_DAYS: "soon" });
    } catch (e) {
      err = e;
    }
    expect((err as EnvError).problems.map((p) => p.split(":")[0]).sort()).toEqual([
      "EVENT_RETENTION_DAYS", "HEARTBEAT_RETENTION_DAYS", "INVENTORY_RETENTION_DAYS", "RETENTION_BATCH_SIZE", "RETENTION_INTERVAL_SEC",
    ]);
  });

  it("reads INGEST_ACK_WAIT_SEC and refuses one under 5 s (a busy commit would be redelivered while it runs)", () => {
    expect(parseEnv({ ...base, INGEST_ACK_WAIT_SEC: "10" }).ingestAckWaitSec).toBe(10);
    expect(() => parseEnv({ ...base, INGEST_ACK_WAIT_SEC: "4" })).toThrow(/INGEST_ACK_WAIT_SEC/);
  });

  it("FLEET_PUBLIC_NATS_URL defaults to NATS_URL, and is used when given", () => {
    expect(parseEnv({ ...base, NATS_URL: "nats://10.0.0.1:4222" }).publicNatsUrl).toBe("nats://10.0.0.1:4222");
    expect(parseEnv({ ...base, FLEET_PUBLIC_NATS_URL: "tls://nats.example:4222" }).publicNatsUrl).toBe("tls://nats.example:4222");
  });

  it("lists every bad or missing key at once", () => {
    let err: unknown;
    try {
      parseEnv({ FLEET_ADMIN_TOKEN: "short", PORT: "http", OFFLINE_AFTER_SEC: "-1", LOG_LEVEL: "loud", NATS_URL: "http://x" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EnvError);
    const problems = (err as EnvError).problems;
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(["DATABASE_URL", "FLEET_ADMIN_TOKEN", "LOG_LEVEL", "NATS_URL", "OFFLINE_AFTER_SEC", "PORT"]);
    expect(problems.find((p) => p.startsWith("DATABASE_URL"))).toContain("missing");
    expect(problems.find((p) => p.startsWith("FLEET_ADMIN_TOKEN"))).toContain("at least 24 characters");
    expect((err as Error).message).toContain("invalid server environment");
  });

  it("treats empty values as unset", () => {
    expect(parseEnv({ ...base, PORT: "", LOG_LEVEL: "" }).port).toBe(4100);
  });

  it("loadDatabaseUrl needs only DATABASE_URL", () => {
    expect(loadDatabaseUrl({ DATABASE_URL: base.DATABASE_URL })).toBe(base.DATABASE_URL);
    expect(() => loadDatabaseUrl({})).toThrow(/DATABASE_URL: missing/);
    expect(() => loadDatabaseUrl({ DATABASE_URL: "mysql://x" })).toThrow(/postgresql/);
  });
});
