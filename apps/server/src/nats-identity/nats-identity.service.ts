import { Inject, Injectable, type OnApplicationBootstrap } from "@nestjs/common";
import { connect, credsAuthenticator } from "nats";
import type { Logger } from "pino";
import { deviceCommandConsumer, devicePermissions, natsConnectionOptions } from "@fleet/protocol";
import { CONFIG, LOGGER, NATS_AUTHORITY } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import type { NatsAuthority } from "../nats/nats-authority.js";
import { NatsService } from "../nats/nats.service.js";
import { NatsIdentityRepository } from "./nats-identity.repository.js";

/** Missing command consumers created at once by the start-up check (each is a JetStream API request). */
const CONSUMER_CREATE_CONCURRENCY = 4;

export class AccountPushError extends Error {
  override name = "AccountPushError";
}

/**
 * Every device's own NATS identity: signs its user JWT at enrollment (limited by devicePermissions), creates its
 * command consumer (devices may not), and revokes it by pushing the fleet account JWT with the device's user key
 * in its revocation list to nats-server (live, through the system account), which drops the connection.
 * The account JWT is rebuilt from the database on every push and re-pushed at start and after every reconnect,
 * so a restarted nats-server (whose preloaded account has no revocations) gets them back.
 */
@Injectable()
export class NatsIdentityService implements OnApplicationBootstrap {
  private readonly log: Logger;

  constructor(
    private readonly repo: NatsIdentityRepository,
    private readonly nats: NatsService,
    @Inject(NATS_AUTHORITY) private readonly authority: NatsAuthority | null,
    @Inject(CONFIG) private readonly config: ServerConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ context: "NatsIdentityService" });
  }

  /** Whether NATS needs per-device identity (decentralized auth configured). */
  get enabled(): boolean {
    return this.authority !== null;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.authority) {
      await this.pushAccount();
      this.nats.onReconnect(() => void this.pushAccount().catch((err) => this.log.error({ err }, "could not re-push the fleet account after a NATS reconnect; revoked devices may connect until the next push")));
    }
    // In the background: with many devices, start-up must not wait for one request per device.
    void this.ensureCommandConsumers().catch((err) => this.log.error({ err }, "could not check the devices' command consumers"));
  }

  /** The device's user JWT for its public nkey, or null when NATS runs without per-device identity. */
  async issueDeviceJwt(deviceId: string, natsUserKey: string): Promise<string | null> {
    if (!this.authority) return null;
    const permissions = devicePermissions(this.config.subjectPrefix, deviceId, { commandStream: this.config.commandStream, assignmentBucket: this.config.assignmentBucket, policyBucket: this.config.policyBucket });
    return this.authority.deviceUserJwt(deviceId, natsUserKey, permissions);
  }

  /** After enrollment: the device's command consumer. A failure is logged; the consumer is re-created before a command is sent. */
  async deviceEnrolled(deviceId: string): Promise<void> {
    try {
      await this.nats.ensureDeviceConsumer(deviceId, "all");
    } catch (err) {
      this.log.warn({ err, deviceId }, "could not create the device's command consumer; it is created before its first command");
    }
  }

  /** After a revocation is committed: revoke the device's user JWT in nats-server now (its connection is dropped). */
  async deviceRevoked(deviceId: string): Promise<void> {
    if (!this.authority) return;
    try {
      await this.pushAccount();
      this.log.info({ deviceId }, "device's NATS user revoked");
    } catch (err) {
      this.log.error({ err, deviceId }, "could not push the revocation to NATS; it is pushed again on the next reconnect or start");
    }
  }

  /** Sign the fleet account with every revoked device's key and hand it to nats-server through the system account. */
  async pushAccount(): Promise<void> {
    const auth = this.authority;
    if (!auth) return;
    const revocations: Record<string, number> = {};
    for (const r of await this.repo.revokedUserKeys()) revocations[r.natsUserKey] = Math.ceil(r.updatedAt.getTime() / 1000);
    const jwt = await auth.accountJwt(revocations);
    const sys = await connect({
      ...natsConnectionOptions(this.config.natsUrl),
      authenticator: credsAuthenticator(new TextEncoder().encode(await auth.systemCreds())),
      name: "fleet-server-sys",
      reconnect: false,
      timeout: 5_000,
    });
    try {
      const reply = await sys.request(`$SYS.REQ.ACCOUNT.${auth.accountPublicKey}.CLAIMS.UPDATE`, new TextEncoder().encode(jwt), { timeout: 5_000 });
      const body = JSON.parse(new TextDecoder().decode(reply.data)) as { data?: { code?: number }; error?: { code?: number; description?: string } };
      if (body.data?.code !== 200) throw new AccountPushError(`nats-server refused the fleet account update: ${body.error?.description ?? JSON.stringify(body).slice(0, 300)}`);
    } finally {
      await sys.close();
    }
    this.log.debug({ revoked: Object.keys(revocations).length }, "fleet account pushed to NATS");
  }

  /**
   * Re-creates the command consumers missing for active devices (a nats-server that lost its store, devices enrolled
   * while NATS was down). The stream's consumer names are read a page at a time and only the missing consumers are
   * created, CONSUMER_CREATE_CONCURRENCY at once: at 50,000 devices one CONSUMER.INFO per device kept nats-server busy
   * for the first minutes after every start.
   */
  async ensureCommandConsumers(): Promise<{ devices: number; created: number }> {
    const [ids, existing] = await Promise.all([this.repo.activeDeviceIds(), this.nats.commandConsumerNames()]);
    const missing = ids.filter((id) => !existing.has(deviceCommandConsumer(id)));
    let created = 0;
    let next = 0;
    const worker = async () => {
      while (next < missing.length) {
        const id = missing[next++]!;
        if ((await this.nats.ensureDeviceConsumer(id, "new")) === "created") created++;
        if (created % 5_000 === 0 && created) this.log.info({ created, missing: missing.length }, "re-creating missing device command consumers");
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONSUMER_CREATE_CONCURRENCY, missing.length) }, worker));
    if (created) this.log.info({ created, devices: ids.length }, "re-created missing device command consumers");
    return { devices: ids.length, created };
  }
}
