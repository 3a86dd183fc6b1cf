// The server's own in-process harness: a real server on its own database and nats-server.
export { startTestServer, ADMIN_TOKEN, type TestServer } from "../../apps/server/src/testing/test-server.js";
