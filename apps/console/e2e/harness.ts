import { randomUUID } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { connect, nkeys, type NatsConnection } from "nats";
import { chromium, type Browser, type Page } from "playwright-core";
import {
  generateSigningKeyPair,
  importPrivateJwk,
  signReport,
  subjects,
  ZAuthSessionV1,
  ZCreatedUserV1,
  ZCreateEnrollmentTokenResponseV1,
  type TAuthSessionV1,
  type TUserRole,
  ZEnrollResponseV1,
  type ReportKind,
  type TEnrollResponseV1,
  type TReportV1,
  DEFAULT_SUBJECT_PREFIX,
} from "@fleet/protocol";
import { freePort, startNatsServer, waitFor, type TestNatsServer } from "@fleet/test-utils";
import { createTestDatabase, type TestDatabase } from "@fleet/db/testing";
import { createServer, parseEnv, type FleetServer } from "../../server/src/app.js";
import { buildIfStale } from "./buildIfStale.js";

// Shared by the browser specs: `next start` of the built console, Chromium, and enrolling/reporting
// devices through the server's real API and JetStream.

export const CONSOLE_DIR = path.resolve(import.meta.dirname, "..");
export const REPO = path.resolve(CONSOLE_DIR, "../..");
export const NEXT_BIN = path.join(CONSOLE_DIR, "node_modules/.bin/next");

export const SCREENSHOT_DIR = path.join(CONSOLE_DIR, "e2e/.screenshots");

/** A full-page screenshot in apps/console/e2e/.screenshots/<name>.png (gitignored) for a person to look at. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9._-]+/gi, "-")}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A console user with a password, created through the server's users API as admin and its setup link. */
export interface TestUser {
  email: string;
  password: string;
  role: TUserRole;
  /** a session from the setup (Bearer for direct API calls as this user) */
  session: TAuthSessionV1;
}

let userSeq = 0;

/** Create a user of `role` (POST /api/v1/users with the admin token) and set its password through the one-time setup link. */
export async function createUser(serverUrl: string, adminToken: string, role: TUserRole, email = `${role}-${process.pid}-${++userSeq}@example.test`): Promise<TestUser> {
  const created = await fetch(`${serverUrl}/api/v1/users`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ email, name: `${role[0]!.toUpperCase()}${role.slice(1)} ${userSeq}`, role }),
  });
  expect(created.status, await created.clone().text()).toBe(201);
  const { setupUrl } = ZCreatedUserV1.parse(await created.json());
  const token = new URL(setupUrl!).searchParams.get("token");
  const password = `pw-${randomUUID()}`;
  const setup = await fetch(`${serverUrl}/api/v1/auth/setup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token, password }) });
  expect(setup.status, await setup.clone().text()).toBe(200);
  return { email, password, role, session: ZAuthSessionV1.parse(await setup.json()) };
}

/** Sign in through the console's /login form; resolves once the signed-in page shows the user menu. */
export async function signIn(page: Page, consoleUrl: string, who: { email: string; password: string }, next = "/"): Promise<void> {
  await page.goto(`${consoleUrl}/login${next === "/" ? "" : `?next=${encodeURIComponent(next)}`}`);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByTestId("user-role").waitFor({ timeout: 15_000 });
}

/** `next start` of the built console. It gets NO admin token: only the server URL, the read-only events token and `extraEnv`. */
export async function startConsole(
  serverUrl: string,
  eventsToken: string | null,
  extraEnv: Record<string, string> = {},
  fixedPort?: number,
): Promise<{ url: string; proc: ChildProcess; output: () => string }> {
  const port = fixedPort ?? (await freePort());
  const proc = spawn(NEXT_BIN, ["start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: CONSOLE_DIR,
    env: {
      ...withoutAdminToken(process.env),
      NEXT_TELEMETRY_DISABLED: "1",
      FLEET_SERVER_URL: serverUrl,
      ...(eventsToken ? { FLEET_EVENTS_TOKEN: eventsToken } : {}),
      NODE_ENV: "production",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  proc.stdout?.on("data", (d) => (output = (output + d).slice(-4000)));
  proc.stderr?.on("data", (d) => (output = (output + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw new Error(`next start exited ${proc.exitCode}: ${output}`);
      return (await fetch(`${url}/favicon.ico`).catch(() => null)) !== null;
    },
    "next start to listen",
    20_000,
  ).catch(async (err: unknown) => {
    await stopProcess(proc); // it must not outlive the failed start
    throw err;
  });
  return { url, proc, output: () => output };
}

function withoutAdminToken(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { FLEET_ADMIN_TOKEN: _dropped, ...rest } = env;
  return rest;
}

export async function stopProcess(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null) return;
  const gone = new Promise<void>((r) => proc.once("exit", () => r()));
  proc.kill("SIGTERM");
  const t = setTimeout(() => proc.kill("SIGKILL"), 5_000);
  await gone;
  clearTimeout(t);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/** Create an enrollment token as admin and enroll a new device with a fresh key pair. */
export async function enrollDevice(serverUrl: string, adminToken: string, hostname: string) {
  const token = await fetch(`${serverUrl}/api/v1/enrollment-tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ ttlSeconds: 600, note: "console e2e" }),
  });
  expect(token.status).toBe(201);
  const { token: enrollToken } = ZCreateEnrollmentTokenResponseV1.parse(await token.json());

  const keys = await generateSigningKeyPair();
  const enrollRes = await fetch(`${serverUrl}/api/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    // a NATS key as the agent sends (its user is not used here: specs publish the device's signed reports as the server's user)
    body: JSON.stringify({ token: enrollToken, publicKeyJwk: keys.publicJwk, hostname, agentVersion: "0.1.0", natsUserKey: nkeys.createUser().getPublicKey() }),
  });
  expect(enrollRes.status).toBe(201);
  return { enrolled: ZEnrollResponseV1.parse(await enrollRes.json()), privateKey: await importPrivateJwk(keys.privateJwk) };
}

/** Publish a device's signed reports (or raw bytes, for rejections) over JetStream, as the agent does. */
export function reportPublisher(nc: NatsConnection, enrolled: TEnrollResponseV1, privateKey: Awaited<ReturnType<typeof importPrivateJwk>>) {
  const subj = subjects(enrolled.subjectPrefix);
  const js = nc.jetstream();
  let seq = 0;
  return {
    async publish<K extends ReportKind>(kind: K, body: Extract<TReportV1, { kind: K }>["body"]): Promise<void> {
      const report = { v: 1, kind, deviceId: enrolled.deviceId, msgId: randomUUID(), seq: seq++, sentAt: new Date().toISOString(), body } as TReportV1;
      await js.publish(subj.report(enrolled.deviceId, kind), new TextEncoder().encode(await signReport(report, privateKey)), { msgID: report.msgId });
    },
    async publishRaw(kind: ReportKind, text: string): Promise<void> {
      await js.publish(subj.report(enrolled.deviceId, kind), new TextEncoder().encode(text), { msgID: randomUUID() });
    },
  };
}

export interface Stack {
  nats: TestNatsServer;
  db: TestDatabase;
  server: FleetServer;
  nc: NatsConnection;
  consoleUrl: string;
  consoleProc: ChildProcess;
  /** the server's read-only FLEET_EVENTS_TOKEN the console's shared upstream uses */
  eventsToken: string;
  consoleOutput: () => string;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * The whole path a browser spec needs: the console built if stale, a private nats-server, a test database, the real
 * server in process, a NATS connection for publishing reports, `next start` against the server, and Chromium.
 */
export async function startStack(opts: {
  adminToken: string;
  consoleEnv?: Record<string, string>;
  serverEnv?: Record<string, string>;
  /** the console's port, when it must be known in advance (e.g. an OIDC redirect URI registered at the provider) */
  consolePort?: number;
  onServer?: (server: FleetServer) => void;
}): Promise<Stack> {
  buildIfStale(CONSOLE_DIR, path.join(REPO, "packages/protocol"), NEXT_BIN);
  const tmp = mkdtempSync(path.join(os.tmpdir(), "fleet-console-e2e-"));
  const [nats, db] = await Promise.all([startNatsServer(), createTestDatabase()]);
  const eventsToken = `events-${randomUUID()}`;
  const server = await createServer(
    parseEnv({
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      PORT: "0",
      FLEET_ADMIN_TOKEN: opts.adminToken,
      FLEET_SUBJECT_PREFIX: DEFAULT_SUBJECT_PREFIX,
      FLEET_SERVER_KEY_FILE: path.join(tmp, "server-key.json"),
      // catalog artifacts, TUF keys and the session secret: this stack's own (agents download from it)
      FLEET_DATA_DIR: path.join(tmp, "data"),
      ...(nats.keysFile ? { FLEET_NATS_KEYS_FILE: nats.keysFile } : {}),
      LOG_LEVEL: "error",
      FLEET_EVENTS_TOKEN: eventsToken,
      ...opts.serverEnv,
    }),
  );
  opts.onServer?.(server);
  // as the server's NATS user (it may publish on any device's subjects, as the specs simulate devices)
  const nc = await connect(nats.connectOptions());
  const stopServices = async () => {
    await nc.close().catch(() => undefined);
    await server.close().catch(() => undefined);
    await db.drop().catch(() => undefined);
    await nats.dispose().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  };
  // `next start` and Chromium start side by side (neither needs the other); if one fails, everything started is stopped
  // (a console left running when Chromium failed to launch outlived the test run)
  const [consoleUp, chromiumUp] = await Promise.allSettled([startConsole(server.url, eventsToken, opts.consoleEnv, opts.consolePort), launchChromium()]);
  if (consoleUp.status === "rejected" || chromiumUp.status === "rejected") {
    if (chromiumUp.status === "fulfilled") await chromiumUp.value.close().catch(() => undefined);
    if (consoleUp.status === "fulfilled") await stopProcess(consoleUp.value.proc);
    await stopServices();
    throw consoleUp.status === "rejected" ? consoleUp.reason : (chromiumUp as PromiseRejectedResult).reason;
  }
  const started = consoleUp.value;
  const browser = chromiumUp.value;
  return {
    nats, db, server, nc, browser, consoleUrl: started.url, consoleProc: started.proc, eventsToken, consoleOutput: started.output,
    close: async () => {
      await browser.close().catch(() => undefined);
      await stopProcess(started.proc);
      await stopServices();
    },
  };
}
