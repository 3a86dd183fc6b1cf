export { freePort } from "./freePort.js";
export { startNatsServer, type TestNatsServer } from "./natsServer.js";
export { waitFor } from "./waitFor.js";
