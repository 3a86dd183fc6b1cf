import { Inject, Injectable } from "@nestjs/common";
import { calculateJwkThumbprint } from "jose";
import type { Logger } from "pino";
import { ErrorCode, type TEnrollRequestV1, type TEnrollResponseV1 } from "@fleet/protocol";
import { AppError } from "../common/app-error.js";
import { CONFIG, LOGGER, SERVER_KEY } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import type { ServerKey } from "../common/server-key.js";
import { isUniqueViolation } from "../common/prisma.js";
import { FleetEvent, FleetEventBus } from "../events/fleet-events.js";
import { NatsIdentityService } from "../nats-identity/nats-identity.service.js";
import { TufRepositoryService } from "../trust/tuf-repository.service.js";
import { MetricsService } from "../common/metrics.service.js";
import { EnrollmentRepository, type TokenRefusal } from "./enrollment.repository.js";
import { issueEnrollmentToken } from "./issue-token.js";
import { hashEnrollmentSecret, newDeviceId } from "./token-hash.js";
import { actingAs } from "../common/request-context.js";

const REFUSAL: Record<TokenRefusal, { code: ErrorCode; message: string }> = {
  invalid: { code: ErrorCode.TokenInvalid, message: "enrollment token is not valid" },
  expired: { code: ErrorCode.TokenExpired, message: "enrollment token has expired" },
  used: { code: ErrorCode.TokenUsed, message: "enrollment token was already used" },
};

@Injectable()
export class EnrollmentService {
  private readonly log: Logger;

  constructor(
    private readonly repo: EnrollmentRepository,
    private readonly events: FleetEventBus,
    private readonly natsIdentity: NatsIdentityService,
    private readonly tuf: TufRepositoryService,
    private readonly metrics: MetricsService,
    @Inject(CONFIG) private readonly config: ServerConfig,
    @Inject(SERVER_KEY) private readonly serverKey: ServerKey,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ context: "EnrollmentService" });
  }

  /** Issue a one-time token; the secret is returned once and only its hash is stored. */
  async createToken(ttlSeconds: number, note: string | undefined, actorName = "admin") {
    const actor = actingAs(actorName); // the signed-in user behind a console request, else the caller's name
    const issued = await issueEnrollmentToken(this.repo, ttlSeconds, note, actor);
    this.log.info({ tokenId: issued.id, expiresAt: issued.expiresAt }, "enrollment token created");
    return issued;
  }

  async enroll(req: TEnrollRequestV1): Promise<TEnrollResponseV1> {
    const publicKeyJwk = { kty: req.publicKeyJwk.kty, crv: req.publicKeyJwk.crv, x: req.publicKeyJwk.x };
    const thumbprint = await calculateJwkThumbprint(publicKeyJwk, "sha256");
    // NATS with per-device identity: a device that cannot present its own NATS key could never connect. A bad token
    // is still refused as such first (the token is not spent either way).
    if (this.natsIdentity.enabled && !req.natsUserKey) {
      const reason = await this.repo.tokenRefusal(hashEnrollmentSecret(req.token), new Date());
      if (reason) await this.refuse(reason, req.hostname);
      throw new AppError(ErrorCode.ValidationFailed, "this server's NATS gives every device its own identity: the agent must send natsUserKey (upgrade the agent)");
    }
    const deviceId = newDeviceId();
    let result;
    try {
      result = await this.repo.consumeTokenAndCreateDevice(hashEnrollmentSecret(req.token), new Date(), {
        id: deviceId,
        hostname: req.hostname,
        agentVersion: req.agentVersion,
        publicKeyJwk,
        publicKeyThumbprint: thumbprint,
        natsUserKey: req.natsUserKey ?? null,
      });
    } catch (err) {
      // The transaction rolled back, so the token is still unused.
      if (isUniqueViolation(err)) throw new AppError(ErrorCode.Conflict, "this public key is already enrolled as another device");
      throw err;
    }
    if (!result.ok) await this.refuse(result.reason, req.hostname);
    const natsUserJwt = req.natsUserKey ? await this.natsIdentity.issueDeviceJwt(deviceId, req.natsUserKey) : null;
    await this.natsIdentity.deviceEnrolled(deviceId);
    this.log.info({ deviceId, hostname: req.hostname, thumbprint }, "device enrolled");
    this.events.publish(FleetEvent.DeviceEnrolled, deviceId, { hostname: req.hostname });
    return {
      deviceId,
      subjectPrefix: this.config.subjectPrefix,
      natsUrl: this.config.publicNatsUrl,
      serverPublicKeyJwk: this.serverKey.publicJwk,
      heartbeatIntervalSec: this.config.heartbeatIntervalSec,
      natsUserJwt,
      catalogTrustedRoot: await this.tuf.currentRootJson(),
      assignmentBucket: this.config.assignmentBucket,
      policyBucket: this.config.policyBucket,
    };
  }

  private async refuse(reason: TokenRefusal, hostname: string): Promise<never> {
    const refusal = REFUSAL[reason];
    this.log.warn({ reason, hostname }, "enrollment refused");
    this.metrics.enrollmentsRefused.inc({ reason });
    await this.repo.recordRefusal(reason, { hostname: hostname.slice(0, 255) });
    throw new AppError(refusal.code, refusal.message);
  }
}
