import { randomUUID } from "node:crypto";
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from "@nestjs/common";
import type { CryptoKey } from "jose";
import type { Subscription } from "nats";
import type { Logger } from "pino";
import { importPublicJwk, openDeviceRevoked, signDeviceRevoked, subjects, type TDeviceRevokedV1 } from "@fleet/protocol";
import { CONFIG, LOGGER, SERVER_KEY } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import type { ServerKey } from "../common/server-key.js";
import { withTimeout } from "../common/with-timeout.js";
import { FleetEvent, FleetEventBus } from "../events/fleet-events.js";
import { NatsService } from "../nats/nats.service.js";
import { DeviceKeyCache } from "./device-key.cache.js";
import { PresenceService } from "./presence.service.js";

/**
 * Tells every server instance that a device was revoked, so each drops the key it cached (core NATS,
 * `<prefix>.control.device-revoked`). A lost announcement is no hole: storing a report re-checks the
 * device is active in the same transaction; the cache drop makes the rejection happen at verification.
 * Announcements are signed with the server key and others are ignored: with per-device NATS identity only the
 * server's user may publish there, and on a NATS without auth the signature is what keeps devices out.
 */
@Injectable()
export class RevocationBroadcast implements OnApplicationBootstrap, OnModuleDestroy {
  /** this process's id in announcements: it skips its own (it already acted) */
  readonly instanceId = randomUUID();
  private readonly subject: string;
  private sub: Subscription | null = null;
  private readonly log: Logger;
  private verifyKey: Promise<CryptoKey> | null = null;

  constructor(
    private readonly nats: NatsService,
    private readonly keys: DeviceKeyCache,
    private readonly presence: PresenceService,
    private readonly events: FleetEventBus,
    @Inject(SERVER_KEY) private readonly serverKey: ServerKey,
    @Inject(CONFIG) config: ServerConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.subject = subjects(config.subjectPrefix).deviceRevoked();
    this.log = log.child({ context: "RevocationBroadcast", instanceId: this.instanceId });
  }

  onApplicationBootstrap(): void {
    this.sub = this.nats.nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (err) return this.log.warn({ err }, "device-revoked subscription error");
        this.receive(msg.data).catch((e: unknown) => this.log.error({ err: e }, "device-revoked announcement not handled"));
      },
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.sub?.unsubscribe();
    this.sub = null;
  }

  /** Announce a revocation this instance just committed. Never throws: the database already holds the truth. */
  async announce(deviceId: string): Promise<void> {
    const msg: TDeviceRevokedV1 = { v: 1, deviceId, revokedAt: new Date().toISOString(), origin: this.instanceId };
    try {
      this.nats.nc.publish(this.subject, new TextEncoder().encode(await signDeviceRevoked(msg, this.serverKey.privateKey)));
      // Bounded: while NATS reconnects, the message waits in the client's buffer; the revoke request must not.
      await withTimeout(this.nats.nc.flush(), 2_000, "device-revoked flush");
    } catch (err) {
      this.log.warn({ err, deviceId }, "could not announce a revocation; other instances refuse the device's reports when storing them");
    }
  }

  private async receive(data: Uint8Array): Promise<void> {
    this.verifyKey ??= importPublicJwk({ ...this.serverKey.publicJwk });
    const opened = await openDeviceRevoked(data, await this.verifyKey);
    if (!opened.ok) {
      this.log.warn({ subject: this.subject, detail: opened.detail }, "invalid or unsigned device-revoked announcement ignored");
      return;
    }
    const { deviceId, origin } = opened.value;
    if (origin === this.instanceId) return;
    this.keys.forget(deviceId);
    this.presence.forget(deviceId);
    this.log.info({ deviceId, origin }, "device revoked by another instance; cached key dropped");
    // Websocket clients of this instance learn it too, as if the revoke had happened here.
    this.events.publish(FleetEvent.DeviceRevoked, deviceId, {});
  }
}
