import { nkeys } from "nats";
import type { TestNatsServer } from "@fleet/test-utils";
import { DEFAULT_DEVICE_POLICY_BUCKET, devicePermissions, generateSigningKeyPair, importPrivateJwk, importPublicJwk, type TEd25519PublicJwk } from "@fleet/protocol";
import { newLocalApiToken } from "../state/stateFile.js";
import type { AgentState } from "../state/ZAgentState.js";

/**
 * A device identity plus the server key pair that signs its commands, as enrollment would leave them. With a test
 * NATS running decentralized auth, the device also gets its own NATS user, with the permissions the server gives.
 */
export async function makeTestIdentity(over: Partial<AgentState> = {}, nats?: TestNatsServer) {
  const device = await generateSigningKeyPair();
  const server = await generateSigningKeyPair();
  const pub = (j: typeof device.publicJwk) => ({ kty: "OKP", crv: "Ed25519", x: j.x }) as TEd25519PublicJwk;
  const state: AgentState = {
    v: 1,
    deviceId: `dev-${Math.random().toString(36).slice(2, 10)}`,
    privateJwk: { kty: "OKP", crv: "Ed25519", x: device.privateJwk.x!, d: device.privateJwk.d! },
    publicJwk: pub(device.publicJwk),
    serverPublicJwk: pub(server.publicJwk),
    subjectPrefix: "fleet.v1",
    natsUrl: null,
    serverUrl: "http://127.0.0.1:9",
    heartbeatIntervalSec: 30,
    localApiToken: newLocalApiToken(),
    enrolledAt: new Date().toISOString(),
    ...over,
  };
  if (nats) {
    const user = nkeys.createUser();
    const perms = devicePermissions(state.subjectPrefix, state.deviceId, { commandStream: "FLEET_COMMANDS", assignmentBucket: "FLEET_ASSIGNMENTS", policyBucket: DEFAULT_DEVICE_POLICY_BUCKET });
    const jwt = await nats.userJwt(user.getPublicKey(), perms);
    state.natsCreds = jwt ? { jwt, seed: new TextDecoder().decode(user.getSeed()) } : null;
  }
  return {
    state,
    devicePublicKey: await importPublicJwk(device.publicJwk),
    serverPrivateKey: await importPrivateJwk(server.privateJwk),
  };
}
