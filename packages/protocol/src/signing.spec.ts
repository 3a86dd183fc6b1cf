import { describe, expect, it, beforeAll } from "vitest";
import { KeyObject, randomUUID, verify } from "node:crypto";
import type { CryptoKey } from "jose";
import {
  badSignature, decodeReportPayload, generateSigningKeyPair, importPrivateJwk, importPublicJwk, openCommand, openReport, signCommand,
  signReport, splitReportJws,
} from "./signing.js";
import { MAX_REPORT_BYTES, type TReportV1 } from "./reports.js";
import { exampleHeartbeat } from "./examples.js";

const enc = new TextEncoder();
let aPriv: CryptoKey, aPub: CryptoKey, bPriv: CryptoKey, bPub: CryptoKey;

beforeAll(async () => {
  const a = await generateSigningKeyPair();
  const b = await generateSigningKeyPair();
  [aPriv, aPub, bPriv, bPub] = await Promise.all([
    importPrivateJwk(a.privateJwk), importPublicJwk(a.publicJwk), importPrivateJwk(b.privateJwk), importPublicJwk(b.publicJwk),
  ]);
});

const report = (deviceId: string): TReportV1 => ({
  v: 1, kind: "heartbeat", deviceId, msgId: randomUUID(), seq: 1, sentAt: new Date().toISOString(), body: exampleHeartbeat,
});
const keys = () => async (id: string) => (id === "dev-a" ? aPub : id === "dev-b" ? bPub : null);
const open = (data: Uint8Array | string, deviceId = "dev-a", kind: "heartbeat" | "inventory" = "heartbeat") =>
  openReport(typeof data === "string" ? enc.encode(data) : data, { subject: { deviceId, kind }, resolveKey: keys() });

describe("openReport", () => {
  it("accepts a report signed by the device its subject names", async () => {
    const r = await open(await signReport(report("dev-a"), aPriv));
    expect(r.ok && r.value.deviceId).toBe("dev-a");
  });

  it("rejects an unsigned JSON report", async () => {
    expect(await open(JSON.stringify(report("dev-a")))).toMatchObject({ ok: false, reason: "unsigned" });
  });

  it("rejects garbage as malformed", async () => {
    expect(await open(new Uint8Array([0xff, 0xfe, 0x00]))).toMatchObject({ ok: false, reason: "malformed" });
    expect(await open("hello")).toMatchObject({ ok: false, reason: "malformed" });
    expect(await open("{not json")).toMatchObject({ ok: false, reason: "malformed" });
  });

  it("rejects a forged signature (kid says dev-a, signed with dev-b's key)", async () => {
    expect(await open(await signReport(report("dev-a"), bPriv))).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it("rejects device B's report published on device A's subject", async () => {
    expect(await open(await signReport(report("dev-b"), bPriv), "dev-a")).toMatchObject({ ok: false, reason: "device_mismatch" });
  });

  it("rejects a payload that claims another device than its signer", async () => {
    const jws = await signReport(report("dev-b"), aPriv); // header kid = dev-b (from payload) but signed by A
    expect(await open(jws, "dev-b")).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it("rejects an unknown device", async () => {
    expect(await open(await signReport(report("dev-z"), aPriv), "dev-z")).toMatchObject({ ok: false, reason: "unknown_device" });
  });

  it("rejects a report of another kind than its subject", async () => {
    expect(await open(await signReport(report("dev-a"), aPriv), "dev-a", "inventory")).toMatchObject({ ok: false, reason: "subject_mismatch" });
  });

  it("rejects an oversized message before any parsing", async () => {
    expect(await open(new Uint8Array(MAX_REPORT_BYTES + 1))).toMatchObject({ ok: false, reason: "oversized" });
  });

  it("rejects a signed report whose body fails its schema, with the reason", async () => {
    const bad = { ...report("dev-a"), body: { ...exampleHeartbeat, queueDepth: -1 } } as TReportV1;
    const r = await open(await signReport(bad, aPriv));
    expect(r).toMatchObject({ ok: false, reason: "schema_invalid" });
    if (!r.ok) expect(r.detail).toContain("queueDepth");
  });

  it("rejects a tampered payload", async () => {
    const [h, p, s] = (await signReport(report("dev-a"), aPriv)).split(".");
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
    payload.body.queueDepth = 99;
    const tampered = [h, Buffer.from(JSON.stringify(payload)).toString("base64url"), s].join(".");
    expect(await open(tampered)).toMatchObject({ ok: false, reason: "bad_signature" });
  });
});

describe("splitReportJws and decodeReportPayload with node:crypto", () => {
  // the server's path in steps: the signature checked with node:crypto (on its verification threads); same answers
  const nodeOpen = (data: string) => {
    const split = splitReportJws(enc.encode(data), { deviceId: "dev-a", kind: "heartbeat" });
    if (!split.ok) return split;
    let verified: boolean;
    try {
      verified = verify(null, split.value.signingInput, KeyObject.from(aPub), split.value.signature);
    } catch {
      verified = false;
    }
    return verified ? decodeReportPayload(split.value, { deviceId: "dev-a", kind: "heartbeat" }) : badSignature(split.value);
  };

  it("accepts a good report and refuses forged, tampered and truncated ones", async () => {
    const good = await signReport(report("dev-a"), aPriv);
    const r = nodeOpen(good);
    expect(r.ok && r.value.deviceId).toBe("dev-a");
    expect(nodeOpen(await signReport(report("dev-a"), bPriv))).toMatchObject({ ok: false, reason: "bad_signature" });
    const [h, p, sig] = good.split(".");
    const other = enc.encode(JSON.stringify({ ...report("dev-a"), seq: 2 }));
    expect(nodeOpen(`${h}.${Buffer.from(other).toString("base64url")}.${sig}`)).toMatchObject({ ok: false, reason: "bad_signature" });
    expect(nodeOpen(`${h}.${p}.${sig!.slice(0, 20)}`)).toMatchObject({ ok: false, reason: "bad_signature" });
    expect(nodeOpen(await signReport(report("dev-b"), bPriv))).toMatchObject({ ok: false, reason: "device_mismatch" });
  });
});

describe("commands", () => {
  const command = (deviceId: string) => ({
    v: 1 as const, commandId: randomUUID(), deviceId, issuedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 300_000).toISOString(), body: { type: "report-now" as const },
  });

  it("verifies a server-signed command for this device", async () => {
    const r = await openCommand(enc.encode(await signCommand(command("dev-a"), aPriv)), aPub, "dev-a");
    expect(r.ok && r.value.body.type).toBe("report-now");
  });

  it("refuses a command signed by another key, or for another device", async () => {
    expect(await openCommand(enc.encode(await signCommand(command("dev-a"), bPriv)), aPub, "dev-a")).toMatchObject({ ok: false, reason: "bad_signature" });
    expect(await openCommand(enc.encode(await signCommand(command("dev-b"), aPriv)), aPub, "dev-a")).toMatchObject({ ok: false, reason: "device_mismatch" });
    expect(await openCommand(enc.encode("{}"), aPub, "dev-a")).toMatchObject({ ok: false, reason: "bad_signature" });
  });
});
