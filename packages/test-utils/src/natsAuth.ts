import { createAccount, createOperator, createUser, encodeAccount, encodeOperator, encodeUser, fmtCreds, fromPublic, fromSeed } from "@nats-io/jwt";

/**
 * Operator, SYS and FLEET accounts for a test nats-server with decentralized auth. The keys file has the format
 * the fleet server reads from FLEET_NATS_KEYS_FILE (apps/server/src/nats/nats-authority.ts, which
 * `fleet-server nats-config` writes); test-utils cannot import the server, so the few lines are repeated here.
 */
export interface TestNatsAuth {
  /** JSON for the fleet server's FLEET_NATS_KEYS_FILE */
  keysJson: string;
  /** nats-server config include (operator, system account, MEMORY resolver, preloaded accounts) */
  config: string;
  /** creds of the server's own user (all of the FLEET account) */
  serverCreds: string;
  /** a user JWT in the FLEET account for this public nkey, limited to these permissions (as the server issues devices) */
  userJwt(userPublicKey: string, permissions: { pub: { allow: string[] }; sub: { allow: string[] } }): Promise<string>;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, conn: -1, leaf: -1, wildcards: true } as const;

export async function createTestNatsAuth(): Promise<TestNatsAuth> {
  const operator = createOperator();
  const sys = createAccount();
  const fleet = createAccount();
  const server = createUser();
  const keys = { v: 1, operatorSeed: text(operator.getSeed()), systemAccountSeed: text(sys.getSeed()), accountSeed: text(fleet.getSeed()), serverUserSeed: text(server.getSeed()) };
  const signer = fromSeed(operator.getSeed());
  const operatorJwt = await encodeOperator("fleet-operator", operator, { system_account: sys.getPublicKey() });
  const sysJwt = await encodeAccount("SYS", sys, { limits: { ...UNLIMITED } }, { signer });
  const fleetJwt = await encodeAccount("FLEET", fleet, { limits: { ...UNLIMITED, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 } }, { signer });
  const serverJwt = await encodeUser("fleet-server", server, fleet);
  return {
    keysJson: JSON.stringify(keys, null, 2) + "\n",
    config: [
      `operator: "${operatorJwt}"`,
      `system_account: ${sys.getPublicKey()}`,
      "resolver: MEMORY",
      `resolver_preload: {\n  ${sys.getPublicKey()}: "${sysJwt}"\n  ${fleet.getPublicKey()}: "${fleetJwt}"\n}`,
      "",
    ].join("\n"),
    serverCreds: text(fmtCreds(serverJwt, server)),
    userJwt: (userPublicKey, permissions) => encodeUser("test-user", fromPublic(userPublicKey), fleet, { pub: permissions.pub, sub: permissions.sub }),
  };
}
