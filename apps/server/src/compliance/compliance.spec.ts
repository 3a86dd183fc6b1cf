import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReportBody, TComplianceReportV1, TComplianceViolationV1, TExposureScanV1, TSignedComplianceExportV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { runCli } from "../cli.js";
import { modelEntry, modelsBody, postureBody } from "../testing/fixtures.js";
import type { SimDevice } from "../testing/device-sim.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";

const run = promisify(execFile);
/** what an auditor is handed: the public half of the server key only */
const publicJwkOf = (privateJwkText: string) => {
  const { kty, crv, x } = JSON.parse(privateJwkText) as { kty: string; crv: string; x: string };
  return JSON.stringify({ kty, crv, x });
};
const APPROVED_SHA = "a".repeat(64);
const ROGUE_SHA = "b".repeat(64);

function exposure(servers: TExposureScanV1["localLlmServers"]): TExposureScanV1 {
  return {
    scannedAt: new Date().toISOString(),
    api: { sockets: [{ address: "127.0.0.1", port: 8080, loopbackOnly: true }], authRequired: true, unauthenticatedStatus: 401, corsAllowOriginForForeign: null },
    localLlmServers: servers,
    catalogSynced: true,
    models: [],
  };
}
const openProbe = (port: number) => ({ name: "probe", port, found: true, boundAddresses: ["127.0.0.1"], loopbackOnly: true, answersWithoutAuth: true, probePath: "/api/tags", probeStatus: 200 });
const goneProbe = (port: number) => ({ name: "probe", port, found: false, boundAddresses: [], loopbackOnly: null, answersWithoutAuth: null, probePath: null, probeStatus: null });

describe("compliance", () => {
  let t: TestServer;
  let dev: SimDevice;
  let tmp: string;

  const violations = async (q: string): Promise<TComplianceViolationV1[]> => {
    const res = await t.admin(`/api/v1/compliance/violations?${q}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: TComplianceViolationV1[] }).items;
  };
  const posture = (p: Partial<ReportBody<"posture">>) => dev.publish(dev.report("posture", { ...postureBody(), ...p }));

  beforeAll(async () => {
    t = await startTestServer();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "compliance-"));
    await t.db.prisma.catalogEntry.create({
      data: {
        name: "tiny", version: "1", targetPath: "tiny-1.gguf", state: "approved", sha256: APPROVED_SHA, sizeBytes: 1000n, architecture: "llama",
        quantization: "Q8_0", parameterCount: 1000n, contextLength: 512, license: "mit", facts: {}, createdBy: "test", stateChangedBy: "test",
      },
    });
    dev = await t.enrollDevice("ws-compliance");
  });
  afterAll(async () => {
    await t?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it("policies: admin only, validated, editable", async () => {
    expect((await fetch(`${t.url}/api/v1/compliance/policies`)).status).toBe(401);
    const list = (await (await t.admin("/api/v1/compliance/policies")).json()) as { items: { id: string; enabled: boolean }[] };
    expect(list.items.map((p) => p.id)).toEqual(["api_loopback", "api_auth", "outbound_allowlist", "telemetry_max", "approved_models", "no_unauthenticated_llm_server"]);
    const bad = await t.admin("/api/v1/compliance/policies/nope", { method: "PUT", body: JSON.stringify({ enabled: true }) });
    expect(bad.status).toBe(400);
    const wrongParam = await t.admin("/api/v1/compliance/policies/telemetry_max", { method: "PUT", body: JSON.stringify({ allowlist: ["x.example"] }) });
    expect(wrongParam.status).toBe(400);
    expect(((await wrongParam.json()) as { error: { code: string } }).error.code).toBe("validation_failed");
    const ok = await t.admin("/api/v1/compliance/policies/outbound_allowlist", { method: "PUT", body: JSON.stringify({ enabled: true, allowlist: ["127.0.0.1:4222"] }) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ id: "outbound_allowlist", enabled: true, allowlist: ["127.0.0.1:4222"], updatedBy: "admin" });
  });

  it("an unauthenticated local LLM server is a violation until it stops", async () => {
    await posture({ exposure: exposure([openProbe(18_434)]) });
    const [v] = await waitFor(async () => {
      const open = await violations(`deviceId=${dev.id}&policy=no_unauthenticated_llm_server&state=open`);
      return open.length ? open : null;
    }, "an open violation for the probe server");
    expect(v).toMatchObject({ subject: "probe:18434", resolvedAt: null, evidence: { port: 18_434, probeStatus: 200, boundAddresses: ["127.0.0.1"] } });

    await posture({ exposure: exposure([goneProbe(18_434)]) });
    const resolved = await waitFor(async () => (await violations(`deviceId=${dev.id}&policy=no_unauthenticated_llm_server&state=resolved`)).find((x) => x.id === v!.id), "the violation resolved");
    expect(Date.parse(resolved.resolvedAt!)).toBeGreaterThanOrEqual(Date.parse(v!.firstSeenAt));
  });

  it("an unapproved model hash is a violation until it is removed", async () => {
    await dev.publish(dev.report("models", modelsBody([modelEntry("approved.gguf", APPROVED_SHA), modelEntry("rogue.gguf", ROGUE_SHA)])));
    const open = await waitFor(async () => {
      const o = await violations(`deviceId=${dev.id}&policy=approved_models&state=open`);
      return o.length ? o : null;
    }, "an unapproved-model violation");
    expect(open.map((v) => v.subject)).toEqual([ROGUE_SHA]); // the approved catalog hash is not flagged
    await dev.publish(dev.report("models", modelsBody([modelEntry("approved.gguf", APPROVED_SHA)])));
    await waitFor(async () => (await violations(`deviceId=${dev.id}&policy=approved_models&state=open`)).length === 0, "the violation resolved");
    expect((await violations(`deviceId=${dev.id}&policy=approved_models&state=resolved`)).map((v) => v.subject)).toEqual([ROGUE_SHA]);
  });

  describe("exports", () => {
    beforeAll(async () => {
      // a second device with open findings of several policies, so the exports carry evidence
      const other = await t.enrollDevice("ws-exposed");
      await other.publish(other.report("models", modelsBody([modelEntry("rogue.gguf", ROGUE_SHA)])));
      await other.publish(
        other.report("posture", {
          ...postureBody(),
          telemetry: "full",
          outbound: [{ purpose: "telemetry", url: "https://user:pw@telemetry.example.com/v1", carries: ["crash, reports\n\"quoted\""] }],
          exposure: exposure([openProbe(11_434)]),
        }),
      );
      await waitFor(async () => (await violations(`deviceId=${other.id}&state=open`)).length >= 4, "four open violations on the second device");
    });

    /** Open violations straight from the database: what every export must show. */
    async function openInDb() {
      const rows = await t.db.prisma.complianceViolation.findMany({ where: { resolvedAt: null } });
      return rows.map((r) => ({ deviceId: r.deviceId, policy: r.policy, subject: r.subject, evidence: r.evidence, firstSeenAt: r.firstSeenAt.toISOString() })).sort(bySubject);
    }
    const bySubject = (a: { deviceId: string; policy: string; subject: string }, b: { deviceId: string; policy: string; subject: string }) =>
      `${a.deviceId}/${a.policy}/${a.subject}`.localeCompare(`${b.deviceId}/${b.policy}/${b.subject}`);
    const fromReport = (r: TComplianceReportV1) =>
      r.devices.flatMap((d) => d.results.flatMap((res) => res.findings.map((f) => ({ deviceId: d.deviceId, policy: res.policy, subject: f.subject, evidence: f.evidence, firstSeenAt: f.firstSeenAt })))).sort(bySubject);

    it("the signed JSON export round-trips to the database and verifies; a tampered copy does not", async () => {
      const res = await t.admin("/api/v1/compliance/report/signed");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="compliance-.*\.json"$/);
      const text = await res.text();
      const signed = JSON.parse(text) as TSignedComplianceExportV1;
      const db = await openInDb();
      expect(db.length).toBeGreaterThanOrEqual(4);
      expect(fromReport(signed.report)).toEqual(db);
      expect(signed.report.totals).toMatchObject({ devices: 2, failing: 1, passing: 1, openViolations: db.length });
      const declaredOnly = { bytes: null, source: "declared", bytesSent: null, bytesReceived: null, observedDeviceCount: 0, addresses: [] };
      expect(signed.report.destinations).toContainEqual({ destination: "telemetry.example.com", purposes: ["telemetry"], deviceCount: 1, ...declaredOnly });
      expect(signed.report.destinations).toContainEqual({ destination: "127.0.0.1:4222", purposes: ["messaging"], deviceCount: 1, ...declaredOnly });

      const file = path.join(tmp, "export.json");
      await fs.writeFile(file, text);
      const keyFile = t.config.serverKeyFile;
      let out = "";
      let err = "";
      const io = { out: (s: string) => (out += s), err: (s: string) => (err += s) };
      expect(await runCli(["compliance", "verify", file, "--key", keyFile], io)).toBe(0);
      expect(out).toMatch(/verified/);

      // an auditor-visible edit: flip one device to passing
      const edited = structuredClone(signed);
      edited.report.totals.failing = 0;
      await fs.writeFile(path.join(tmp, "edited.json"), JSON.stringify(edited, null, 2));
      expect(await runCli(["compliance", "verify", path.join(tmp, "edited.json"), "--key", keyFile], io)).toBe(1);
      expect(err).toMatch(/NOT VERIFIED \(report_edited\)/);

      // the same edit with the JWS payload replaced: the signature no longer matches
      const [h, , s] = signed.jws.split(".");
      const forged = { ...edited, jws: `${h}.${Buffer.from(JSON.stringify(edited.report)).toString("base64url")}.${s}` };
      await fs.writeFile(path.join(tmp, "forged.json"), JSON.stringify(forged));
      expect(await runCli(["compliance", "verify", path.join(tmp, "forged.json"), "--jwk", publicJwkOf(await fs.readFile(keyFile, "utf8"))], io)).toBe(1);
      expect(err).toMatch(/NOT VERIFIED \(bad_signature\)/);
    });

    it("the CSV export (streamed) round-trips to the database", async () => {
      const res = await t.admin("/api/v1/compliance/report.csv");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
      const rows = parse(await res.text(), { columns: true }) as Record<string, string>[];
      const devices = await t.db.prisma.device.count({ where: { state: "active" } });
      expect(rows.length).toBe(devices * 6);
      const findings = rows
        .filter((r) => r.status === "fail")
        .flatMap((r) => (JSON.parse(r.evidence!) as { subject: string; evidence: unknown; firstSeenAt: string }[]).map((f) => ({ deviceId: r.deviceId!, policy: r.policy!, subject: f.subject, evidence: f.evidence, firstSeenAt: f.firstSeenAt })))
        .sort(bySubject);
      expect(findings).toEqual(await openInDb());
      // every failing row names its subjects; passing rows carry no evidence
      for (const r of rows) expect(r.status === "fail" ? r.subjects!.length > 0 : r.evidence === "").toBe(true);
    });

    it("the PDF opens: pdftoppm renders its pages", async () => {
      const res = await t.admin("/api/v1/compliance/report.pdf");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/pdf");
      const pdf = path.join(tmp, "report.pdf");
      await fs.writeFile(pdf, Buffer.from(await res.arrayBuffer()));
      await run("pdftoppm", ["-r", "30", "-png", pdf, path.join(tmp, "page")]);
      const pages = (await fs.readdir(tmp)).filter((f) => f.startsWith("page") && f.endsWith(".png"));
      expect(pages.length).toBeGreaterThanOrEqual(1);
      const { stdout } = await run("pdftotext", [pdf, "-"]);
      expect(stdout).toContain("Fleetwise compliance report");
      expect(stdout).toMatch(/Devices: 2 +passing: 1 +failing: 1/);
    });

    it("the report is in the OpenAPI document", async () => {
      const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
      const paths = Object.keys(doc.paths);
      expect(paths).toEqual(expect.arrayContaining(["/api/v1/compliance/policies", "/api/v1/compliance/policies/{id}", "/api/v1/compliance/violations", "/api/v1/compliance/report", "/api/v1/compliance/report/signed", "/api/v1/compliance/report.csv", "/api/v1/compliance/report.pdf"]));
    });
  });

  it("a policy change re-evaluates the fleet without waiting for new reports", async () => {
    expect(await violations(`deviceId=${dev.id}&policy=telemetry_max&state=open`)).toEqual([]);
    const res = await t.admin("/api/v1/compliance/policies/telemetry_max", { method: "PUT", body: JSON.stringify({ maxTelemetry: "off" }) });
    expect(res.status).toBe(200);
    const [v] = await waitFor(async () => {
      const open = await violations(`deviceId=${dev.id}&policy=telemetry_max&state=open`);
      return open.length ? open : null;
    }, "the stricter telemetry policy applied to the stored posture");
    expect(v).toMatchObject({ subject: "telemetry", evidence: { telemetry: "metrics-only", max: "off" } });
    await t.admin("/api/v1/compliance/policies/telemetry_max", { method: "PUT", body: JSON.stringify({ maxTelemetry: "metrics-only" }) });
    await waitFor(async () => (await violations(`deviceId=${dev.id}&policy=telemetry_max&state=open`)).length === 0, "resolved once the policy is relaxed");
    const audit = await t.db.prisma.auditLog.findMany({ where: { action: "compliance.policy_updated", targetId: "telemetry_max" } });
    expect(audit.length).toBe(2); // both changes audited; the refused one (an allowlist on telemetry_max) left no row
  });
});
