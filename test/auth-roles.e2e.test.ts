import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { setCompatibility } from "../apps/server/src/testing/catalog-factory.js";
import { createSignedInUser } from "../apps/server/src/testing/auth-helpers.js";
import { startTestServer, type TestServer } from "./support/server.js";

const TINY = fileURLToPath(new URL("../../shared/models/llama-2-tiny-random.gguf", import.meta.url));

// Issue 12: the server enforces every role on the API and the websocket, whatever the UI shows.
let srv: TestServer;
type SignedIn = Awaited<ReturnType<typeof createSignedInUser>>;
let viewer: SignedIn, operator: SignedIn, admin: SignedIn;

beforeAll(async () => {
  srv = await startTestServer({ FLEET_EVENTS_TOKEN: "events-token-0123456789abcdef" });
  [viewer, operator, admin] = await Promise.all((["viewer", "operator", "admin"] as const).map((r) => createSignedInUser(srv.url, srv.admin, r)));
});
afterAll(async () => srv?.close());

const json = (body: unknown): RequestInit => ({ method: "POST", body: JSON.stringify(body) });
const ring = { name: "all", percent: 100, soakSec: 0, gates: { maxFailureRate: 0, minSuccesses: 1, minLoadSuccessRate: 1, maxErrorRate: 0.05, minTokensPerSecRatio: 0.8 } };

/** socket.io's handshake for namespace /events over plain HTTP long-polling: the server's answer to `auth`. */
async function eventsHandshake(auth: Record<string, string>): Promise<string> {
  const base = `${srv.url}/socket.io/?EIO=4&transport=polling`;
  const open = await (await fetch(base)).text();
  const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
  await fetch(`${base}&sid=${sid}`, { method: "POST", body: `40/events,${JSON.stringify(auth)}` });
  return (await fetch(`${base}&sid=${sid}`)).text();
}

describe("roles on a real server", () => {
  it("401 without credentials; viewer reads but cannot approve, roll out or manage users; operator rolls out but cannot approve; admin can", async () => {
    for (const [method, path] of [["GET", "/api/v1/devices"], ["POST", "/api/v1/rollouts"], ["POST", "/api/v1/users"], ["GET", "/api/v1/auth/me"]] as const) {
      expect((await fetch(srv.url + path, { method })).status, `${method} ${path}`).toBe(401);
    }
    const device = await srv.enrollDevice("roles-1");
    const imported = await admin.as("/api/v1/catalog/import", json({ name: "tiny-roles", version: "1", source: { repository: "test/tiny", revision: "main" }, conversion: { method: "as is" }, license: "MIT", memoryContextSize: 512, path: TINY }));
    expect(imported.status, await imported.clone().text()).toBe(201);
    const entry = (await imported.json()) as { id: string };

    // viewer: read-only
    expect((await viewer.as("/api/v1/devices")).status).toBe(200);
    expect((await viewer.as("/api/v1/catalog")).status).toBe(200);
    expect((await viewer.as(`/api/v1/catalog/${entry.id}/approve`, json({ reason: "ok" }))).status).toBe(403);
    expect((await viewer.as("/api/v1/rollouts", json({ entryId: entry.id, group: "roles", rings: [ring] }))).status).toBe(403);
    expect((await viewer.as("/api/v1/users", json({ email: "v2@example.com", role: "admin" }))).status).toBe(403);
    expect((await viewer.as(`/api/v1/devices/${device.id}/labels`, { method: "PUT", body: JSON.stringify({ group: "roles" }) })).status).toBe(403);

    // operator: device actions and rollouts, not catalog approval
    const approveAsOperator = await operator.as(`/api/v1/catalog/${entry.id}/approve`, json({ reason: "ok" }));
    expect(approveAsOperator.status).toBe(403);
    expect(((await approveAsOperator.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    expect((await operator.as(`/api/v1/devices/${device.id}/labels`, { method: "PUT", body: JSON.stringify({ group: "roles" }) })).status).toBe(200);

    // admin approves; then the operator may start the rollout
    const approved = await admin.as(`/api/v1/catalog/${entry.id}/approve`, json({ reason: "e2e roles" }));
    expect(approved.status, await approved.clone().text()).toBe(200);
    await setCompatibility(srv.db.prisma, entry.id, device.id, "fits");
    const started = await operator.as("/api/v1/rollouts", json({ entryId: entry.id, group: "roles", rings: [ring] }));
    expect(started.status, await started.clone().text()).toBe(201);
    const startedBody = (await started.json()) as { id: string; createdBy: string };
    const rolloutId = startedBody.id;
    expect(startedBody.createdBy).toBe(`user:${operator.email}`);
    expect((await viewer.as(`/api/v1/rollouts/${rolloutId}/pause`, json({ reason: "no" }))).status).toBe(403);
    const rolledBack = await operator.as(`/api/v1/rollouts/${rolloutId}/rollback`, json({ reason: "e2e roll back" }));
    expect(rolledBack.status, await rolledBack.clone().text()).toBe(200);

    // the audit trail names the signed-in users
    const audit = await srv.db.prisma.auditLog.findMany({ where: { targetId: { in: [entry.id, rolloutId] } }, select: { actor: true, action: true } });
    expect(audit).toEqual(
      expect.arrayContaining([
        { actor: `user:${admin.email}`, action: "catalog.approved" },
        { actor: `user:${operator.email}`, action: "rollout.create" },
        { actor: `user:${operator.email}`, action: "rollout.rollback" },
      ]),
    );
  });

  it("websocket: refused without a token (with a reason) and with the events token on REST; accepted with a session or the events token", async () => {
    const refused = await eventsHandshake({});
    expect(refused).toMatch(/^44\/events,/);
    expect(refused).toContain("unauthorized");
    expect(refused).toContain("missing token");
    expect(await eventsHandshake({ token: "not-a-token" })).toMatch(/^44\/events,.*invalid, expired or signed-out/);
    expect(await eventsHandshake({ token: viewer.token })).toMatch(/^40\/events,\{"sid"/);
    expect(await eventsHandshake({ token: "events-token-0123456789abcdef" })).toMatch(/^40\/events,\{"sid"/);
    expect((await fetch(`${srv.url}/api/v1/devices`, { headers: { authorization: "Bearer events-token-0123456789abcdef" } })).status).toBe(401);
  });
});
