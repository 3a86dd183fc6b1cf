import { afterAll, describe, expect, it } from "vitest";
import { connect, jwtAuthenticator, nkeys } from "nats";
import { startNatsServer, type TestNatsServer } from "./natsServer.js";

describe("startNatsServer", () => {
  let srv: TestNatsServer;
  afterAll(async () => srv?.dispose());

  it("runs JetStream and keeps a stream across a restart", async () => {
    srv = await startNatsServer();
    let nc = await connect(srv.connectOptions());
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "T", subjects: ["t.>"] });
    await nc.jetstream().publish("t.a", new TextEncoder().encode("x"));
    await nc.close();
    await srv.stop();
    await srv.start();
    nc = await connect(srv.connectOptions());
    const info = await (await nc.jetstreamManager()).streams.info("T");
    expect(info.state.messages).toBe(1);
    await nc.close();
  });

  it("in operator mode refuses anonymous clients, accepts the server's creds and signs limited users", async () => {
    const jwtSrv = await startNatsServer({ auth: "jwt" });
    try {
      await expect(connect({ servers: jwtSrv.url, reconnect: false })).rejects.toThrow(/authorization/i);
      const admin = await connect(jwtSrv.connectOptions());
      await (await admin.jetstreamManager()).streams.add({ name: "U", subjects: ["u.>"] });
      const user = nkeys.createUser();
      const jwt = await jwtSrv.userJwt(user.getPublicKey(), { pub: { allow: ["u.mine"] }, sub: { allow: ["_INBOX_u.>"] } });
      const limited = await connect({ servers: jwtSrv.url, authenticator: jwtAuthenticator(jwt!, user.getSeed()), inboxPrefix: "_INBOX_u" });
      await limited.jetstream().publish("u.mine", new TextEncoder().encode("ok"));
      await expect(limited.jetstream().publish("u.other", new TextEncoder().encode("no"))).rejects.toThrow(/permissions violation/i);
      await limited.close();
      await admin.close();
    } finally {
      await jwtSrv.dispose();
    }
  });
});
