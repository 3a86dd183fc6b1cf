import fs from "node:fs/promises";
import path from "node:path";
import { createAccount, createOperator, createUser, encodeAccount, encodeOperator, encodeUser, fmtCreds, fromPublic, fromSeed } from "@nats-io/jwt";
import type { NatsPermissions } from "@fleet/protocol";
import { z } from "zod";

/**
 * The keys of NATS decentralized auth, owned by the server: one operator, the system account (SYS) and the
 * fleet's account (FLEET, JetStream on), and the server's own user in FLEET. Stored as seeds in one JSON file
 * (mode 0600). packages/test-utils writes the same format for test NATS servers.
 */
export const ZNatsKeysFile = z.strictObject({
  v: z.literal(1),
  operatorSeed: z.string().regex(/^SO[A-Z2-7]{56}$/, "must be an operator seed (SO…)"),
  systemAccountSeed: z.string().regex(/^SA[A-Z2-7]{56}$/, "must be an account seed (SA…)"),
  accountSeed: z.string().regex(/^SA[A-Z2-7]{56}$/, "must be an account seed (SA…)"),
  serverUserSeed: z.string().regex(/^SU[A-Z2-7]{56}$/, "must be a user seed (SU…)"),
});
export type TNatsKeysFile = z.infer<typeof ZNatsKeysFile>;

export class NatsKeysError extends Error {
  override name = "NatsKeysError";
}

/** Unlimited account limits: encodeAccount sets none, and a missing `conn` means zero connections allowed. */
const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, conn: -1, leaf: -1, wildcards: true } as const;
/** JetStream is off for an account whose JWT has no storage limits. */
const JETSTREAM = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 } as const;

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Signs the operator, account and user JWTs of the fleet's NATS. */
export class NatsAuthority {
  private constructor(private readonly keys: TNatsKeysFile) {}

  /** Fresh keys (not stored). */
  static generate(): NatsAuthority {
    return new NatsAuthority({
      v: 1,
      operatorSeed: text(createOperator().getSeed()),
      systemAccountSeed: text(createAccount().getSeed()),
      accountSeed: text(createAccount().getSeed()),
      serverUserSeed: text(createUser().getSeed()),
    });
  }

  /** Read the keys file; a missing or malformed file is a NatsKeysError naming it. */
  static async load(file: string): Promise<NatsAuthority> {
    let raw: string;
    try {
      raw = await fs.readFile(file, "utf8");
    } catch (err) {
      const hint = (err as NodeJS.ErrnoException).code === "ENOENT" ? " (create it, and the nats-server config, with `fleet-server nats-config`)" : "";
      throw new NatsKeysError(`cannot read NATS keys ${file}: ${(err as Error).message}${hint}`, { cause: err });
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new NatsKeysError(`${file} is not JSON`);
    }
    const parsed = ZNatsKeysFile.safeParse(json);
    if (!parsed.success) throw new NatsKeysError(`${file} is not a NATS keys file: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    return new NatsAuthority(parsed.data);
  }

  /** Load the keys file, creating it (mode 0600, never overwriting) on first use. */
  static async loadOrCreate(file: string): Promise<NatsAuthority> {
    try {
      await fs.access(file);
    } catch {
      await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
      const fresh = NatsAuthority.generate();
      await fs.writeFile(file, JSON.stringify(fresh.keys, null, 2) + "\n", { mode: 0o600, flag: "wx" }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "EEXIST") throw e;
      });
    }
    return NatsAuthority.load(file);
  }

  get operatorPublicKey(): string {
    return fromSeed(new TextEncoder().encode(this.keys.operatorSeed)).getPublicKey();
  }
  get systemAccountPublicKey(): string {
    return this.kp(this.keys.systemAccountSeed).getPublicKey();
  }
  get accountPublicKey(): string {
    return this.kp(this.keys.accountSeed).getPublicKey();
  }

  operatorJwt(): Promise<string> {
    return encodeOperator("fleet-operator", this.kp(this.keys.operatorSeed), { system_account: this.systemAccountPublicKey });
  }

  systemAccountJwt(): Promise<string> {
    return encodeAccount("SYS", this.kp(this.keys.systemAccountSeed), { limits: { ...UNLIMITED } }, { signer: this.kp(this.keys.operatorSeed) });
  }

  /** The fleet account; `revocations` maps user public keys to the unix second up to which their JWTs are revoked. */
  accountJwt(revocations: Record<string, number> = {}): Promise<string> {
    return encodeAccount(
      "FLEET",
      this.kp(this.keys.accountSeed),
      { limits: { ...UNLIMITED, ...JETSTREAM }, revocations },
      { signer: this.kp(this.keys.operatorSeed) },
    );
  }

  /** The server's own user in FLEET: no permission section, so it may do everything in the account. */
  async serverCreds(): Promise<string> {
    const user = this.kp(this.keys.serverUserSeed);
    const jwt = await encodeUser("fleet-server", user, this.kp(this.keys.accountSeed));
    return text(fmtCreds(jwt, user));
  }

  /** A throw-away user of the system account, to push account updates (`$SYS.REQ.ACCOUNT.<acct>.CLAIMS.UPDATE`). */
  async systemCreds(): Promise<string> {
    const user = createUser();
    const jwt = await encodeUser("fleet-server-sys", user, this.kp(this.keys.systemAccountSeed));
    return text(fmtCreds(jwt, user));
  }

  /** A device's user JWT for its own public nkey (the seed stays on the device), limited to `permissions`. */
  deviceUserJwt(deviceId: string, userPublicKey: string, permissions: NatsPermissions): Promise<string> {
    const user = fromPublic(userPublicKey);
    if (!userPublicKey.startsWith("U")) throw new NatsKeysError("a device's NATS key must be a user key (U…)");
    return encodeUser(`device-${deviceId}`, user, this.kp(this.keys.accountSeed), { pub: permissions.pub, sub: permissions.sub });
  }

  private kp(seed: string) {
    return fromSeed(new TextEncoder().encode(seed));
  }
}

/** The nats-server configuration (an include) for this authority: operator mode, MEMORY resolver with both accounts preloaded. */
export async function renderNatsAuthConfig(auth: NatsAuthority, revocations: Record<string, number> = {}): Promise<string> {
  return [
    "# Written by `fleet-server nats-config`: NATS decentralized auth of this fleet (operator, SYS and FLEET accounts).",
    "# Include it from your nats-server config, or pass it with -c. The fleet server pushes account updates",
    "# (device revocations) live through the system account.",
    `operator: "${await auth.operatorJwt()}"`,
    `system_account: ${auth.systemAccountPublicKey}`,
    "resolver: MEMORY",
    "resolver_preload: {",
    `  ${auth.systemAccountPublicKey}: "${await auth.systemAccountJwt()}"`,
    `  ${auth.accountPublicKey}: "${await auth.accountJwt(revocations)}"`,
    "}",
    "",
  ].join("\n");
}
