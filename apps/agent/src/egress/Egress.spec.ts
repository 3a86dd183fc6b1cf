import http from "node:http";
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
});
