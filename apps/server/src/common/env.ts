import { availableParallelism } from "node:os";
import { z } from "zod";
import { DEFAULT_STREAM_NAME, DEFAULT_SUBJECT_PREFIX } from "@fleet/protocol";

const ZInt = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const ZNatsUrl = z.string().regex(/^(nats|tls|ws|wss):\/\/\S+$/, "must be a nats:// (or tls://, ws://, wss://) URL");
const ZPgUrl = z.string().regex(/^postgres(ql)?:\/\/\S+$/, "must be a postgresql:// URL");

/** Catalog quality gate and harness (issue 16); also parsed alone by `fleet-server catalog quality`. */
const ZQualityEnv = z.object({
  // on = approving a catalog entry needs a quality score within the margin of its reference variant
  FLEET_QUALITY_GATE: z.enum(["on", "off"]).default("on"),
  FLEET_QUALITY_MAX_PERPLEXITY_INCREASE_PCT: z.coerce.number().min(0).max(10_000).default(10),
  FLEET_QUALITY_MIN_TOP1_AGREEMENT: z.coerce.number().min(0).max(1).default(0.9),
  // the harness's threads on this server (recorded with every score); never more than the cores (see NOTES-llama)
  FLEET_QUALITY_THREADS: ZInt(2, 1, 256),
  FLEET_QUALITY_TIMEOUT_SEC: ZInt(3600, 10, 7 * 86_400),
});

/** The environment keys the server reads, all in one place. */
const ZEnv = ZQualityEnv.extend({
  DATABASE_URL: ZPgUrl,
  NATS_URL: ZNatsUrl.default("nats://127.0.0.1:4222"),
  HOST: z.string().min(1).default("127.0.0.1"),
  // 0 = pick a free port (tests run several servers in one process)
  PORT: ZInt(4100, 0, 65535),
  FLEET_ADMIN_TOKEN: z.string().min(24, "must be at least 24 characters"),
  FLEET_SUBJECT_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "must be dot-separated tokens of [A-Za-z0-9_-]").default(DEFAULT_SUBJECT_PREFIX),
  FLEET_STREAM: z.string().regex(/^[A-Za-z0-9_-]+$/, "must be a JetStream stream name ([A-Za-z0-9_-])").default(DEFAULT_STREAM_NAME),
  FLEET_COMMAND_STREAM: z.string().regex(/^[A-Za-z0-9_-]+$/, "must be a JetStream stream name ([A-Za-z0-9_-])").default("FLEET_COMMANDS"),
  FLEET_CONSUMER: z.string().regex(/^[A-Za-z0-9_-]+$/, "must be a durable consumer name ([A-Za-z0-9_-])").default("fleet-server"),
  FLEET_SERVER_KEY_FILE: z.string().min(1).default(".fleet/server-key.json"),
  // Set = NATS runs with decentralized auth (`fleet-server nats-config`): the server signs every device its own user JWT.
  FLEET_NATS_KEYS_FILE: z.string().min(1).optional(),
  FLEET_ASSIGNMENT_BUCKET: z.string().regex(/^[A-Za-z0-9_-]+$/, "must be a JetStream KV bucket name ([A-Za-z0-9_-])").default("FLEET_ASSIGNMENTS"),
  FLEET_DEVICE_POLICY_BUCKET: z.string().regex(/^[A-Za-z0-9_-]+$/, "must be a JetStream KV bucket name ([A-Za-z0-9_-])").default("FLEET_DEVICE_POLICIES"),
  FLEET_PUBLIC_NATS_URL: ZNatsUrl.optional(),
  HEARTBEAT_INTERVAL_SEC: ZInt(30, 1, 86_400),
  OFFLINE_AFTER_SEC: ZInt(90, 1, 7 * 86_400),
  REPORT_MAX_AGE_DAYS: ZInt(30, 1, 3650),
  // worker threads verifying report signatures; 0 = on the main thread. Default: one per core beyond the first (max 4)
  INGEST_VERIFY_THREADS: ZInt(Math.min(4, Math.max(1, availableParallelism() - 1)), 0, 16),
  // how long a report a server pulled and did not ack (it died, or its commit hangs) waits before JetStream
  // redelivers it, to this replica or another; the same on every replica (each start applies it to the shared consumer)
  INGEST_ACK_WAIT_SEC: ZInt(30, 5, 3600),
  // devices of a rollout ring sent the model per second at most: a ring of thousands starts as a wave, not a herd
  ROLLOUT_ASSIGN_PER_SEC: ZInt(100, 1, 100_000),
  // 0 = this instance never prunes (another one does)
  RETENTION_INTERVAL_SEC: ZInt(3600, 0, 7 * 86_400),
  RETENTION_BATCH_SIZE: ZInt(5000, 1, 100_000),
  HEARTBEAT_RETENTION_DAYS: ZInt(7, 1, 3650),
  INVENTORY_RETENTION_DAYS: ZInt(90, 1, 3650),
  EVENT_RETENTION_DAYS: ZInt(90, 1, 3650),
  AUDIT_RETENTION_DAYS: ZInt(365, 1, 3650),
  POSTURE_RETENTION_DAYS: ZInt(90, 1, 3650),
  RUNTIME_METRIC_RETENTION_DAYS: ZInt(30, 1, 3650),
  MODEL_LOAD_RETENTION_DAYS: ZInt(90, 1, 3650),
  BENCHMARK_RETENTION_DAYS: ZInt(365, 1, 3650),
  // JetStream limits: the oldest messages go first when a stream is full (the server consumes reports within seconds)
  REPORT_STREAM_MAX_BYTES: ZInt(1024 ** 3, 1024 ** 2, 2 ** 50),
  COMMAND_STREAM_MAX_BYTES: ZInt(64 * 1024 ** 2, 1024 ** 2, 2 ** 50),
  // REST rate limits per client address; X-Forwarded-For counts only from FLEET_TRUSTED_PROXY (Express "trust proxy":
  // "loopback", addresses or CIDRs, comma-separated); unset = the socket address, whatever the headers say
  RATE_LIMIT_PER_MIN: ZInt(600, 1, 1_000_000),
  ENROLL_RATE_LIMIT_PER_MIN: ZInt(120, 1, 1_000_000),
  FLEET_TRUSTED_PROXY: z.string().regex(/^[A-Za-z0-9.:/, -]+$/, "must be loopback, linklocal, uniquelocal or comma-separated addresses/CIDRs").optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // Catalog artifacts (content-addressed) and the TUF signing keys live here.
  FLEET_DATA_DIR: z.string().min(1).default(".fleet/server-data"),
  FLEET_UPLOAD_MAX_BYTES: ZInt(200 * 1024 ** 3, 1, 2 ** 50),
  // 0 = this instance never refreshes TUF timestamps (another one does)
  TUF_TIMESTAMP_REFRESH_SEC: ZInt(3600, 0, 86_400),  // Console sign-in (issue 12): session lifetime, HS256 secret (default: FLEET_DATA_DIR/session-secret, 0600), lockout.
  FLEET_SESSION_TTL_SEC: ZInt(12 * 3600, 60, 30 * 86_400),
  FLEET_SESSION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  FLEET_CONSOLE_URL: z.string().url().default("http://127.0.0.1:3000"),
  // read-only (viewer) token valid only on the websocket: the console's one shared upstream connection
  FLEET_EVENTS_TOKEN: z.string().min(24, "must be at least 24 characters").optional(),
  FLEET_LOGIN_MAX_FAILURES: ZInt(5, 1, 1000),
  FLEET_LOGIN_IP_MAX_FAILURES: ZInt(20, 1, 100_000),
  FLEET_LOGIN_LOCKOUT_SEC: ZInt(30, 1, 86_400),
  // how often open websockets of sessions are re-checked (expiry, sign-out on another replica, user disabled)
  FLEET_WS_SESSION_RECHECK_SEC: ZInt(30, 1, 3600),
  FLEET_OIDC_ISSUER: z.string().url().optional(),
  FLEET_OIDC_CLIENT_ID: z.string().min(1).optional(),
  FLEET_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  FLEET_OIDC_GROUPS_CLAIM: z.string().min(1).default("groups"),
  FLEET_OIDC_ROLE_MAP: z.string().regex(/^\s*[^=,]+=\s*(admin|operator|viewer)\s*(,\s*[^=,]+=\s*(admin|operator|viewer)\s*)*$/, "must be group=role pairs, comma-separated (roles: admin, operator, viewer)").optional(),
  FLEET_OIDC_LABEL: z.string().min(1).max(100).default("Single sign-on"),
  FLEET_OIDC_SCOPES: z.string().regex(/^openid( [A-Za-z0-9_.:/-]+)*$/, "must start with openid, space-separated").default("openid email profile groups"),
});

export interface ServerConfig {
  databaseUrl: string;
  natsUrl: string;
  host: string;
  port: number;
  adminToken: string;
  subjectPrefix: string;
  stream: string;
  commandStream: string;
  consumer: string;
  serverKeyFile: string;
  publicNatsUrl: string;
  heartbeatIntervalSec: number;
  offlineAfterSec: number;
  reportMaxAgeDays: number;
  /** worker threads verifying report signatures (0: the main thread does) */
  ingestVerifyThreads: number;
  /** seconds until JetStream redelivers a report pulled and not acked (the report consumer's ack_wait) */
  ingestAckWaitSec: number;
  /** devices of a rollout ring assigned per second at most (the ring's first second's worth at once) */
  rolloutAssignPerSec: number;
  retention: RetentionConfig;
  limits: LimitsConfig;
  /** NATS operator/account keys (decentralized auth); null = NATS without per-device identity */
  natsKeysFile: string | null;
  /** JetStream KV bucket of the devices' signed assignments (key = device id) */
  assignmentBucket: string;
  /** JetStream KV bucket of the devices' signed device policies (key = device id) */
  policyBucket: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** artifacts/<sha256> and tuf-keys/ */
  dataDir: string;
  /** largest catalog upload accepted (streamed to disk) */
  uploadMaxBytes: number;
  /** seconds between TUF timestamp freshness checks; 0 = off */
  tufTimestampRefreshSec: number;
  quality: QualityConfig;
  auth: AuthConfig;
}

export interface AuthConfig {
  sessionTtlSec: number;
  /** HS256 secret; null = FLEET_DATA_DIR/session-secret (created 0600 on first start) */
  sessionSecret: string | null;
  /** base of setup links: <consoleUrl>/setup?token=... */
  consoleUrl: string;
  /** websocket-only viewer token; null = none */
  eventsToken: string | null;
  /** failed sign-ins per account / per client address (15-minute window) before a lock; each further one doubles it */
  maxFailures: number;
  ipMaxFailures: number;
  lockoutSec: number;
  wsSessionRecheckSec: number;
  /** null = single sign-on is off */
  oidc: OidcConfig | null;
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  groupsClaim: string;
  /** group -> role */
  roleMap: Record<string, "admin" | "operator" | "viewer">;
  label: string;
  scopes: string;
}

export interface QualityConfig {
  /** approval requires a quality score within the margin */
  gate: boolean;
  maxPerplexityIncreasePct: number;
  minTop1Agreement: number;
  threads: number;
  timeoutSec: number;
}

export interface RetentionConfig {
  /** seconds between pruning runs; 0 = off */
  intervalSec: number;
  /** rows per DELETE statement (each its own short transaction) */
  batchSize: number;
  heartbeatDays: number;
  inventoryDays: number;
  eventDays: number;
  auditDays: number;
  postureDays: number;
  runtimeMetricDays: number;
  modelLoadDays: number;
  benchmarkDays: number;
}

export interface LimitsConfig {
  reportStreamMaxBytes: number;
  commandStreamMaxBytes: number;
  /** REST requests per minute per client address */
  ratePerMin: number;
  /** POST /api/v1/enroll per minute per client address */
  enrollRatePerMin: number;
  /** Express "trust proxy" value; null = X-Forwarded-For is ignored */
  trustedProxy: string | null;
}

export class EnvError extends Error {
  override name = "EnvError";
  constructor(readonly problems: string[]) {
    super(`invalid server environment:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Parse an environment; every bad or missing key is listed in one EnvError. */
export function parseEnv(env: Record<string, string | undefined>): ServerConfig {
  // An empty string means "unset", as in shells where `FOO=` is common.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = ZEnv.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? "(env)");
      return cleaned[key] === undefined ? `${key}: missing (${i.message})` : `${key}: ${i.message}`;
    });
    throw new EnvError(problems);
  }
  const e = parsed.data;
  // half a single sign-on configuration must not silently turn it off
  if (!!e.FLEET_OIDC_ISSUER !== !!e.FLEET_OIDC_CLIENT_ID || (e.FLEET_OIDC_ISSUER && !e.FLEET_OIDC_ROLE_MAP)) {
    throw new EnvError(["FLEET_OIDC_ISSUER, FLEET_OIDC_CLIENT_ID and FLEET_OIDC_ROLE_MAP: single sign-on needs all three (or none)"]);
  }
  return {
    databaseUrl: e.DATABASE_URL,
    natsUrl: e.NATS_URL,
    host: e.HOST,
    port: e.PORT,
    adminToken: e.FLEET_ADMIN_TOKEN,
    subjectPrefix: e.FLEET_SUBJECT_PREFIX,
    stream: e.FLEET_STREAM,
    commandStream: e.FLEET_COMMAND_STREAM,
    consumer: e.FLEET_CONSUMER,
    serverKeyFile: e.FLEET_SERVER_KEY_FILE,
    publicNatsUrl: e.FLEET_PUBLIC_NATS_URL ?? e.NATS_URL,
    heartbeatIntervalSec: e.HEARTBEAT_INTERVAL_SEC,
    offlineAfterSec: e.OFFLINE_AFTER_SEC,
    reportMaxAgeDays: e.REPORT_MAX_AGE_DAYS,
    ingestVerifyThreads: e.INGEST_VERIFY_THREADS,
    ingestAckWaitSec: e.INGEST_ACK_WAIT_SEC,
    rolloutAssignPerSec: e.ROLLOUT_ASSIGN_PER_SEC,
    retention: {
      intervalSec: e.RETENTION_INTERVAL_SEC,
      batchSize: e.RETENTION_BATCH_SIZE,
      heartbeatDays: e.HEARTBEAT_RETENTION_DAYS,
      inventoryDays: e.INVENTORY_RETENTION_DAYS,
      eventDays: e.EVENT_RETENTION_DAYS,
      auditDays: e.AUDIT_RETENTION_DAYS,
      postureDays: e.POSTURE_RETENTION_DAYS,
      runtimeMetricDays: e.RUNTIME_METRIC_RETENTION_DAYS,
      modelLoadDays: e.MODEL_LOAD_RETENTION_DAYS,
      benchmarkDays: e.BENCHMARK_RETENTION_DAYS,
    },
    limits: {
      reportStreamMaxBytes: e.REPORT_STREAM_MAX_BYTES,
      commandStreamMaxBytes: e.COMMAND_STREAM_MAX_BYTES,
      ratePerMin: e.RATE_LIMIT_PER_MIN,
      enrollRatePerMin: e.ENROLL_RATE_LIMIT_PER_MIN,
      trustedProxy: e.FLEET_TRUSTED_PROXY ?? null,
    },
    natsKeysFile: e.FLEET_NATS_KEYS_FILE ?? null,
    assignmentBucket: e.FLEET_ASSIGNMENT_BUCKET,
    policyBucket: e.FLEET_DEVICE_POLICY_BUCKET,
    logLevel: e.LOG_LEVEL,
    dataDir: e.FLEET_DATA_DIR,
    uploadMaxBytes: e.FLEET_UPLOAD_MAX_BYTES,
    tufTimestampRefreshSec: e.TUF_TIMESTAMP_REFRESH_SEC,
    quality: qualityConfigOf(e),
    auth: {
      sessionTtlSec: e.FLEET_SESSION_TTL_SEC,
      sessionSecret: e.FLEET_SESSION_SECRET ?? null,
      consoleUrl: e.FLEET_CONSOLE_URL.replace(/\/+$/, ""),
      eventsToken: e.FLEET_EVENTS_TOKEN ?? null,
      maxFailures: e.FLEET_LOGIN_MAX_FAILURES,
      ipMaxFailures: e.FLEET_LOGIN_IP_MAX_FAILURES,
      lockoutSec: e.FLEET_LOGIN_LOCKOUT_SEC,
      wsSessionRecheckSec: e.FLEET_WS_SESSION_RECHECK_SEC,
      oidc:
        e.FLEET_OIDC_ISSUER && e.FLEET_OIDC_CLIENT_ID
          ? {
              issuer: e.FLEET_OIDC_ISSUER,
              clientId: e.FLEET_OIDC_CLIENT_ID,
              clientSecret: e.FLEET_OIDC_CLIENT_SECRET ?? null,
              groupsClaim: e.FLEET_OIDC_GROUPS_CLAIM,
              roleMap: parseRoleMap(e.FLEET_OIDC_ROLE_MAP ?? ""),
              label: e.FLEET_OIDC_LABEL,
              scopes: e.FLEET_OIDC_SCOPES,
            }
          : null,
    },
  };
}

/** "fleet-admins=admin,fleet-ops=operator" -> { "fleet-admins": "admin", ... } (validated by the env schema). */
function parseRoleMap(raw: string): Record<string, "admin" | "operator" | "viewer"> {
  const map: Record<string, "admin" | "operator" | "viewer"> = {};
  for (const pair of raw.split(",").filter((p) => p.trim())) {
    const [group, role] = pair.split("=").map((x) => x.trim());
    map[group!] = role as "admin" | "operator" | "viewer";
  }
  return map;
}

function qualityConfigOf(e: z.infer<typeof ZQualityEnv>): QualityConfig {
  return {
    gate: e.FLEET_QUALITY_GATE === "on",
    maxPerplexityIncreasePct: e.FLEET_QUALITY_MAX_PERPLEXITY_INCREASE_PCT,
    minTop1Agreement: e.FLEET_QUALITY_MIN_TOP1_AGREEMENT,
    threads: e.FLEET_QUALITY_THREADS,
    timeoutSec: e.FLEET_QUALITY_TIMEOUT_SEC,
  };
}

/** The quality keys alone, for `fleet-server catalog quality` (which needs no admin token). */
export function loadQualityConfig(env: Record<string, string | undefined> = process.env): QualityConfig {
  const parsed = ZQualityEnv.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== "")));
  if (!parsed.success) throw new EnvError(parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`));
  return qualityConfigOf(parsed.data);
}

/** The only place that reads process.env. */
export function loadEnv(): ServerConfig {
  return parseEnv(process.env);
}

/** DATABASE_URL alone, for CLI commands that only touch the database (migrate, token create). */
export function loadDatabaseUrl(env: Record<string, string | undefined> = process.env): string {
  const parsed = ZPgUrl.safeParse(env.DATABASE_URL || undefined);
  if (!parsed.success) throw new EnvError([env.DATABASE_URL ? `DATABASE_URL: ${parsed.error.issues[0]?.message}` : "DATABASE_URL: missing"]);
  return parsed.data;
}

/** FLEET_DATA_DIR alone, for CLI commands on the catalog's files (TUF key rotation). */
export function loadDataDir(env: Record<string, string | undefined> = process.env): string {
  return env.FLEET_DATA_DIR || ".fleet/server-data";
}

/** FLEET_SERVER_KEY_FILE alone, for `token create` (prints the key's thumbprint as the agents' pin). */
export function loadServerKeyFile(env: Record<string, string | undefined> = process.env): string {
  return env.FLEET_SERVER_KEY_FILE || ".fleet/server-key.json";
}

/** FLEET_CONSOLE_URL alone (base of setup links), for `fleet-server user create`. */
export function loadConsoleUrl(env: Record<string, string | undefined> = process.env): string {
  const parsed = z.string().url().safeParse(env.FLEET_CONSOLE_URL || "http://127.0.0.1:3000");
  if (!parsed.success) throw new EnvError([`FLEET_CONSOLE_URL: ${parsed.error.issues[0]?.message}`]);
  return parsed.data.replace(/\/+$/, "");
}
