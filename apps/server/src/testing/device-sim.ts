import { randomUUID } from "node:crypto";
import { connect, jwtAuthenticator, nkeys, type NatsConnection } from "nats";
import { deviceInboxPrefix, generateSigningKeyPair, importPrivateJwk, signReport, subjects, type ReportBody, type ReportKind, type TEnrollResponseV1, type TReportV1 } from "@fleet/protocol";
import type { CryptoKey, JWK } from "jose";

/** A device as a test sees it: its keys, its enrollment and a NATS connection to publish signed reports. */
export class SimDevice {
  seq = 0;
  private constructor(
    readonly enrollment: TEnrollResponseV1,
    readonly publicJwk: JWK,
    readonly privateKey: CryptoKey,
    readonly nc: NatsConnection,
    /** seed of the device's NATS user nkey */
    readonly natsSeed: Uint8Array,
  ) {}

  get id(): string {
    return this.enrollment.deviceId;
  }

  static async enroll(serverUrl: string, natsUrl: string, token: string, hostname = "ws-test"): Promise<SimDevice> {
    const { publicJwk, privateJwk } = await generateSigningKeyPair();
    // Like the agent: its own NATS nkey; only the public key travels, the server answers with a user JWT for it.
    const natsUser = nkeys.createUser();
    const res = await fetch(`${serverUrl}/api/v1/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, publicKeyJwk: publicJwk, hostname, agentVersion: "0.1.0-test", natsUserKey: natsUser.getPublicKey() }),
    });
    if (res.status !== 201) throw new Error(`enroll failed: ${res.status} ${await res.text()}`);
    const enrollment = (await res.json()) as TEnrollResponseV1;
    const nc = await connect({ servers: natsUrl, ...SimDevice.natsAuth(enrollment, natsUser.getSeed()) });
    return new SimDevice(enrollment, publicJwk, await importPrivateJwk(privateJwk), nc, natsUser.getSeed());
  }

  /** The device's NATS identity as connect options (none when the server's NATS has no per-device auth). */
  static natsAuth(enrollment: TEnrollResponseV1, seed: Uint8Array) {
    if (!enrollment.natsUserJwt) return {};
    return { authenticator: jwtAuthenticator(enrollment.natsUserJwt, seed), inboxPrefix: deviceInboxPrefix(enrollment.deviceId) };
  }

  /** Another connection as this device (its own NATS user), e.g. to try what its permissions forbid. */
  async connectAgain(natsUrl: string, opts: { maxReconnectAttempts?: number } = {}): Promise<NatsConnection> {
    return connect({ servers: natsUrl, ...SimDevice.natsAuth(this.enrollment, this.natsSeed), ...opts });
  }

  report<K extends ReportKind>(kind: K, body: ReportBody<K>, over: Partial<TReportV1> = {}): TReportV1 {
    return { v: 1, kind, deviceId: this.id, msgId: randomUUID(), seq: this.seq++, sentAt: new Date().toISOString(), body, ...over } as TReportV1;
  }

  async sign(report: TReportV1, key: CryptoKey = this.privateKey): Promise<string> {
    return signReport(report, key);
  }

  /** Publish raw bytes to a report subject through JetStream (as the agent does). */
  async publishRaw(kind: ReportKind, data: string | Uint8Array, deviceId = this.id): Promise<void> {
    const subject = subjects(this.enrollment.subjectPrefix).report(deviceId, kind);
    await this.nc.jetstream().publish(subject, typeof data === "string" ? new TextEncoder().encode(data) : data);
  }

  async publish(report: TReportV1): Promise<void> {
    await this.publishRaw(report.kind, await this.sign(report));
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}
