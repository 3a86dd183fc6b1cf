import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Egress } from "./Egress.js";
import { EgressLedger } from "./EgressLedger.js";

describe("Egress", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("counts the real bytes of each fetch by destination and purpose; sockets outside a scope are not attributed", async () => {
    const srv = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end("x".repeat(5000)));
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    const port = (srv.address() as AddressInfo).port;
    const egress = new Egress({ ledger: new EgressLedger() });
    cleanups.push(() => egress.close());

    const res = await egress.fetch("enrollment")(`http://127.0.0.1:${port}/x`, { method: "POST", body: "y".repeat(3000), headers: { "content-type": "text/plain" } });
    expect(res.status).toBe(200);
    expect((await res.text()).length).toBe(5000);
    await (await egress.fetch("catalog-metadata")(`http://127.0.0.1:${port}/y`)).text();
    await (await fetch(`http://127.0.0.1:${port}/z`)).text(); // global fetch: not through the layer (undici, not net.connect)

    const entries = egress.ledger.snapshot().entries;
    expect(entries.map((e) => e.purpose).sort()).toEqual(["catalog-metadata", "enrollment"]);
    const enrol = entries.find((e) => e.purpose === "enrollment")!;
    expect(enrol).toMatchObject({ host: "127.0.0.1", port, address: "127.0.0.1", connections: 1 });
    expect(enrol.bytesSent).toBeGreaterThan(3000);
    expect(enrol.bytesReceived).toBeGreaterThan(5000);
  });

  it("https goes over a socket the layer opened (TLS bytes counted) and an untrusted certificate is refused", async () => {
    const srv = https.createServer({ cert: TEST_CERT, key: TEST_KEY }, (_req, res) => res.end("ok"));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    const url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}/`;
    const trusting = new Egress({ ledger: new EgressLedger(), ca: TEST_CERT });
    const strict = new Egress({ ledger: new EgressLedger() });
    cleanups.push(() => trusting.close(), () => strict.close());

    expect(await (await trusting.fetch("control-plane")(url)).text()).toBe("ok");
    const [e] = trusting.ledger.snapshot().entries;
    // the handshake (certificate included) is on the wire: far more than the plaintext request and answer
    expect(e).toMatchObject({ purpose: "control-plane", connections: 1 });
    expect(e!.bytesReceived).toBeGreaterThan(TEST_CERT.length / 2);
    await expect(strict.fetch("control-plane")(url)).rejects.toThrow(/self[- ]signed|certificate/i);
  });
});

// A self-signed certificate for 127.0.0.1 (P-256, valid until 2126), for this test only.
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBkTCCATagAwIBAgIUFi+jwGgDifzndWmJIm24fyfa9O4wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyODE2NTQwNFoYDzIxMjYxMTA0
MTY1NDA0WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARq9hESNM0HEcgBPKYE2EzYFmpUP9Zmz7zQOT8shDWkdWGerbYlCoxA
0v6DmMmBBr5jjNRd1RoPOfs6hoeEM0NJo2QwYjAdBgNVHQ4EFgQUOylzj5rS/kOo
wx5U5dImtRXF3DQwHwYDVR0jBBgwFoAUOylzj5rS/kOowx5U5dImtRXF3DQwDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0kAMEYC
IQCD4kuZ0dPtLPqRhizDpkEj8MW0JOc/opveED7UPbI08wIhAOgJuN0wun8KXT2N
ZNFNIpG4jQHLAD8aLrah8XwNy9yv
-----END CERTIFICATE-----
`;
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKZM8v34C/GVZcgw7
Ho+Ct7h5bs78wJXJC8/tDdB4eYyhRANCAARq9hESNM0HEcgBPKYE2EzYFmpUP9Zm
z7zQOT8shDWkdWGerbYlCoxA0v6DmMmBBr5jjNRd1RoPOfs6hoeEM0NJ
-----END PRIVATE KEY-----
`;
