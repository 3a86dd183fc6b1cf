import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "csv-parse/sync";
import { ZAuditListV1 } from "@fleet/protocol";
import { createSignedInUser } from "../testing/auth-helpers.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";

let t: TestServer;
let viewer: Awaited<ReturnType<typeof createSignedInUser>>;

describe("GET /api/v1/audit and /api/v1/audit.csv", () => {
  beforeAll(async () => {
    t = await startTestServer();
    viewer = await createSignedInUser(t.url, t.admin, "viewer");
    const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 12, m));
    await t.db.prisma.auditLog.createMany({
      data: [
        { at: at(1), actor: "user:ana@example.com", action: "rollout.created", targetType: "rollout", targetId: "r1", details: { ring: 0 } },
        { at: at(2), actor: "user:ana@example.com", action: "rollout.paused", targetType: "rollout", targetId: "r1" },
        { at: at(3), actor: "user:bo@example.com", action: "catalog.approved", targetType: "catalog_entry", targetId: "c1", details: { note: "=HYPERLINK(\"x\")" } },
      ],
    });
  }, 120_000);
  afterAll(async () => t?.close());

  it("lets a viewer read, filtered by actor substring, action prefix, target and time range, newest first", async () => {
    const get = async (qs: string) => ZAuditListV1.parse(await (await viewer.as(`/api/v1/audit?${qs}`)).json());
    const ana = await get("actor=ANA@&action=rollout.");
    expect(ana.items.map((e) => e.action)).toEqual(["rollout.paused", "rollout.created"]);
    expect(ana.total).toBe(2);
    expect((await get("action=rollout.created")).items).toHaveLength(1);
    expect((await get("targetType=catalog_entry&targetId=c1")).items[0]).toMatchObject({ actor: "user:bo@example.com", details: { note: '=HYPERLINK("x")' } });
    const window = await get(`from=2026-01-01T12:01:30Z&to=2026-01-01T12:02:30Z`);
    expect(window.items.map((e) => e.action)).toEqual(["rollout.paused"]);
    const paged = await get("targetId=r1&pageSize=1&page=2");
    expect(paged).toMatchObject({ total: 2, page: 2, pageSize: 1, items: [{ action: "rollout.created" }] });
  });

  it("refuses a bad query and a caller without credentials", async () => {
    expect((await viewer.as("/api/v1/audit?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z")).status).toBe(400);
    expect((await viewer.as("/api/v1/audit?pageSize=5000")).status).toBe(400);
    expect((await fetch(`${t.url}/api/v1/audit`)).status).toBe(401);
    expect((await fetch(`${t.url}/api/v1/audit.csv`)).status).toBe(401);
  });

  it("streams the filtered entries as CSV with formulas escaped", async () => {
    const res = await viewer.as("/api/v1/audit.csv?action=catalog.");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    expect(res.headers.get("content-disposition")).toMatch(/attachment; filename="audit-.*\.csv"/);
    const rows = parse(await res.text(), { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: "user:bo@example.com", action: "catalog.approved", targetId: "c1" });
    // csv-stringify escape_formulas: a JSON cell starting with { is harmless; the value inside stays verbatim JSON
    expect(JSON.parse(rows[0]!.details!)).toEqual({ note: '=HYPERLINK("x")' });
    const all = parse(await (await viewer.as("/api/v1/audit.csv?actor=user:&to=2026-01-02T00:00:00Z")).text(), { columns: true }) as unknown[];
    expect(all).toHaveLength(3);
  });
});
