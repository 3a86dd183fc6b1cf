import { afterAll, describe, expect, it } from "vitest";
import { connect } from "nats";
import { startNatsServer, type TestNatsServer } from "./natsServer.js";

describe("startNatsServer", () => {
  let srv: TestNatsServer;
  afterAll(async () => srv?.dispose());

  it("runs JetStream and keeps a stream across a restart", async () => {
    srv = await startNatsServer();
    let nc = await connect({ servers: srv.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "T", subjects: ["t.>"] });
    await nc.jetstream().publish("t.a", new TextEncoder().encode("x"));
    await nc.close();
    await srv.stop();
    await srv.start();
    nc = await connect({ servers: srv.url });
    const info = await (await nc.jetstreamManager()).streams.info("T");
    expect(info.state.messages).toBe(1);
    await nc.close();
  });
});
