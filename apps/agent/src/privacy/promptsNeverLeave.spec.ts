import fs from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection, type Subscription } from "nats";
import { startNatsServer, waitFor, type TestNatsServer } from "@fleet/test-utils";
import { loadAgentConfig } from "../config/loadAgentConfig.js";
import { createLogger } from "../logger.js";
import { AgentService } from "../reporting/AgentService.js";
import { createInferenceRuntime } from "../runtime/createInferenceRuntime.js";
import type { InferenceRuntime } from "../runtime/InferenceRuntime.js";
import { TINY_MODEL } from "../runtime/testing/runtimeFixtures.js";
import { ReportsReader } from "../testing/ReportsReader.js";
import { makeTestIdentity } from "../testing/testState.js";
import { tempDir } from "../testing/tempDir.js";

const PREFIX = `mk${Date.now() % 100000}.fleet.v1`;
/** Unusual enough never to occur by chance, in prompts, a system message and a stop sequence. */
const MARKER = "ZQX-marker-7f3a9c-PROMPT-CANARY";

/** Every form the marker could take on the wire: as is, JSON-escaped, base64 and base64url (JWS payloads). */
function markerForms(s: string): string[] {
  return [s, JSON.stringify(s).slice(1, -1), Buffer.from(s).toString("base64").slice(0, 24), Buffer.from(s).toString("base64url").slice(0, 24)];
}

/** The payload of a compact JWS, decoded: what a report really says. */
function decodeJwsPayload(text: string): string | null {
  const parts = text.trim().split(".");
  if (parts.length !== 3) return null;
  try {
    return Buffer.from(parts[1]!, "base64url").toString("utf8");
  } catch {
    return null;
  }
}

/**
 * Prompts and outputs never leave the device: the whole agent (AgentService + real runtime + local API with the tiny
 * model) runs generations carrying a marker while a subscriber on the test's nats-server sees every message on every
 * subject and every log line (trace level) is kept. The marker, and the generated text, must appear in none.
 */
describe("prompts and outputs never leave the device", () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let everything: Subscription;
  const wire: { subject: string; data: string }[] = [];
  const logLines: string[] = [];
  let cleanup: () => Promise<void>;
  let service: AgentService;
  let runtime: InferenceRuntime;
  let reader: ReportsReader;
  let token: string;
  let deviceId: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect(nats.connectOptions());
    everything = nc.subscribe(">");
    void (async () => {
      for await (const m of everything) wire.push({ subject: m.subject, data: Buffer.from(m.data).toString("utf8") });
    })();
    await nc.flush();
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    const identity = await makeTestIdentity({ natsUrl: nats.url, subjectPrefix: PREFIX }, nats);
    token = identity.state.localApiToken;
    deviceId = identity.state.deviceId;
    const logger = createLogger({
      level: "trace",
      destination: new Writable({
        write(chunk: Buffer, _enc, cb) {
          logLines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
          cb();
        },
      }),
    });
    const config = await loadAgentConfig({
      env: { FLEET_AGENT_HOME: path.join(tmp.dir, "home") },
      flags: { heartbeatIntervalSec: 0.2, postureIntervalSec: 0.5, runtime: { threads: 1, contextSize: 512, headroomBytes: 0, metricsIntervalSec: 1, api: { port: 0, maxTokens: 64 } } },
    });
    await fs.mkdir(config.modelsDir, { recursive: true });
    await fs.copyFile(TINY_MODEL, path.join(config.modelsDir, "tiny.gguf"));
    reader = new ReportsReader(nc, PREFIX, identity.devicePublicKey);
    await reader.createStream();
    runtime = await createInferenceRuntime({ config: config.runtime, modelsDir: config.modelsDir, apiToken: token, logger, gpu: false, autoLoad: false });
    expect(await runtime.loadConfigured()).toBe(true);
    service = new AgentService({ config, state: identity.state, runtime, logger, tuning: { natsRetryMs: 100, stopDrainMs: 2000 } });
    await service.start();
  });
  afterAll(async () => {
    await service?.stop();
    everything?.unsubscribe();
    await nc?.close().catch(() => {});
    await nats?.dispose();
    await cleanup?.();
  });

  it("the marker and the generated text appear in no NATS message and no log line", async () => {
    const port = runtime.localApiExposure().port;
    const call = async (p: string, body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${port}${p}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, text: await res.text() };
    };
    const outputs: string[] = [];
    const chat = await call("/v1/chat/completions", {
      model: "tiny.gguf",
      messages: [
        { role: "system", content: `You are ${MARKER}.` },
        { role: "user", content: `Repeat ${MARKER} ten times.` },
      ],
      max_tokens: 48,
    });
    expect(chat.status).toBe(200);
    outputs.push((JSON.parse(chat.text) as { choices: { message: { content: string } }[] }).choices[0]!.message.content);
    const completion = await call("/v1/completions", { model: "tiny.gguf", prompt: `${MARKER} once upon a time`, max_tokens: 48 });
    expect(completion.status).toBe(200);
    outputs.push((JSON.parse(completion.text) as { choices: { text: string }[] }).choices[0]!.text);
    const streamed = await call("/v1/completions", { model: "tiny.gguf", prompt: `${MARKER} streamed`, max_tokens: 48, stream: true, stop: [MARKER] });
    expect(streamed.status).toBe(200);
    expect(streamed.text).toContain("data: [DONE]");
    // a refused request carrying the marker (over the max_tokens limit) must not echo it into logs either
    const refused = await call("/v1/completions", { model: "tiny.gguf", prompt: `${MARKER} too long`, max_tokens: 100_000 });
    expect(refused.status).toBe(400);

    // the requests' metrics reach NATS: everything the generations caused has been sent by then
    await waitFor(async () => (await reader.readAll()).some((r) => r.kind === "metrics" && r.body.models.some((m) => m.requests >= 3)), "a metrics report with the requests", 30_000);
    await service.reportSnapshots(true);
    await waitFor(async () => (await reader.readAll()).filter((r) => r.kind === "posture").length >= 2, "a posture report after the generations", 30_000);

    // the exposure scan probed the real local API: loopback only, an unauthenticated request refused, no CORS for a foreign origin
    const posture = (await reader.readAll()).filter((r) => r.kind === "posture").pop();
    expect(posture?.kind === "posture" && posture.body.exposure?.api).toEqual({
      sockets: [{ address: "127.0.0.1", port, loopbackOnly: true }],
      authRequired: true,
      unauthenticatedStatus: 401,
      corsAllowOriginForForeign: null,
    });

    // the capture is real: it saw the device's signed reports
    const deviceMsgs = wire.filter((m) => m.subject.startsWith(`${PREFIX}.device.${deviceId}.`));
    expect(deviceMsgs.map((m) => m.subject.split(".").pop())).toEqual(expect.arrayContaining(["heartbeat", "metrics", "posture", "models", "inventory"]));
    expect(logLines.some((l) => l.includes('"component":"AgentService"'))).toBe(true);

    const needles = [...markerForms(MARKER), ...outputs.map((o) => o.trim()).filter((o) => o.length >= 12)];
    const leaks: string[] = [];
    for (const m of wire) {
      const texts = [m.data, decodeJwsPayload(m.data) ?? ""];
      for (const n of needles) if (texts.some((t) => t.includes(n))) leaks.push(`NATS ${m.subject}: ${n}`);
    }
    for (const l of logLines) for (const n of needles) if (l.includes(n)) leaks.push(`log: ${l.slice(0, 300)}`);
    expect(leaks).toEqual([]);
  });
});
