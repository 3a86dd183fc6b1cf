import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from "@nestjs/common";
import type { Logger } from "pino";
import {
  DEFAULT_DEVICE_POLICY_SETTINGS,
  signDevicePolicy,
  type TDevicePolicySettingsInputV1,
  type TDevicePolicySettingsV1,
  type TDevicePolicyViewV1,
  type TDevicePolicyV1,
} from "@fleet/protocol";
import { AppError } from "../common/app-error.js";
import { LOGGER, SERVER_KEY } from "../common/config.token.js";
import type { ServerKey } from "../common/server-key.js";
import { AuditRepository } from "../audit/audit.repository.js";
import { FleetEvent, FleetEventBus } from "../events/fleet-events.js";
import { DevicePolicyKv } from "./device-policy-kv.js";
import { DevicePolicyRepository, FLEET_DEFAULT_ID } from "./device-policy.repository.js";

const DAY_MS = 86_400_000;
/** A signed policy is valid this long; it is re-signed (new version) once half of it has passed. */
export const POLICY_VALIDITY_MS = 30 * DAY_MS;
const RENEW_CHECK_MS = 6 * 3600_000;

/**
 * The device policy (contract 2): an admin edits a fleet default and per-device overrides; each active device gets
 * its EFFECTIVE policy signed with the server key (as assignments are) in its own key of the policy KV bucket, with
 * a version that only grows, an expiry, and the remote-fallback consent recorded for it (who, when).
 */
@Injectable()
export class DevicePolicyService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log: Logger;
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** one issuing at a time per device, so two triggers cannot sign the same version twice */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly repo: DevicePolicyRepository,
    private readonly kv: DevicePolicyKv,
    private readonly audit: AuditRepository,
    private readonly bus: FleetEventBus,
    @Inject(SERVER_KEY) private readonly serverKey: ServerKey,
    @Inject(LOGGER) rootLog: Logger,
  ) {
    this.log = rootLog.child({ context: "DevicePolicyService" });
  }

  onApplicationBootstrap(): void {
    this.unsubscribe = this.bus.subscribe((m) => {
      if (m.type === FleetEvent.DeviceEnrolled && m.deviceId) void this.issueQuietly(m.deviceId);
    });
    // devices enrolled before this server had policies, and policies half way to expiry, get (re)issued
    const renew = () => void this.renewDue().catch((err) => this.log.error({ err }, "device policy renewal failed"));
    renew();
    this.timer = setInterval(renew, RENEW_CHECK_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
  }

  async fleetDefault(): Promise<TDevicePolicyViewV1> {
    const s = await this.repo.setting(FLEET_DEFAULT_ID);
    return { deviceId: null, source: s ? "fleet" : "default", settings: s?.settings ?? DEFAULT_DEVICE_POLICY_SETTINGS, issued: null, updatedAt: s?.updatedAt.toISOString() ?? null, updatedBy: s?.updatedBy ?? null };
  }

  async setFleetDefault(input: TDevicePolicySettingsInputV1, actor: string): Promise<TDevicePolicyViewV1> {
    await this.repo.saveSetting(FLEET_DEFAULT_ID, { ...input, privacy: { ...input.privacy, consent: null } }, actor);
    await this.audit.record({ actor, action: "device_policy.fleet_default.set", targetType: "device_policy", targetId: FLEET_DEFAULT_ID, details: input });
    await this.reissueAll();
    return this.fleetDefault();
  }

  async forDevice(deviceId: string): Promise<TDevicePolicyViewV1> {
    await this.requireDevice(deviceId);
    const [own, fleet, issued] = await Promise.all([this.repo.setting(deviceId), this.repo.setting(FLEET_DEFAULT_ID), this.repo.issued(deviceId)]);
    const chosen = own ?? fleet;
    return {
      deviceId,
      source: own ? "device" : fleet ? "fleet" : "default",
      settings: await this.effective(deviceId),
      issued: issued?.policy ?? null,
      updatedAt: chosen?.updatedAt.toISOString() ?? null,
      updatedBy: chosen?.updatedBy ?? null,
    };
  }

  async setOverride(deviceId: string, input: TDevicePolicySettingsInputV1, actor: string): Promise<TDevicePolicyViewV1> {
    await this.requireDevice(deviceId);
    await this.repo.saveSetting(deviceId, { ...input, privacy: { ...input.privacy, consent: null } }, actor);
    await this.audit.record({ actor, action: "device_policy.override.set", targetType: "device", targetId: deviceId, details: input });
    await this.issue(deviceId);
    return this.forDevice(deviceId);
  }

  async clearOverride(deviceId: string, actor: string): Promise<TDevicePolicyViewV1> {
    await this.requireDevice(deviceId);
    if (await this.repo.deleteSetting(deviceId)) {
      await this.audit.record({ actor, action: "device_policy.override.cleared", targetType: "device", targetId: deviceId });
      await this.issue(deviceId);
    }
    return this.forDevice(deviceId);
  }

  /** Record (or withdraw) remote fallback consent for a device: who and when, audited, shipped in its next policy. */
  async recordConsent(deviceId: string, granted: boolean, actor: string): Promise<TDevicePolicyViewV1> {
    await this.requireDevice(deviceId);
    const consent = granted ? { grantedBy: actor, grantedAt: new Date().toISOString() } : null;
    await this.repo.setConsent(deviceId, consent);
    await this.audit.record({ actor, action: granted ? "device_policy.consent.granted" : "device_policy.consent.withdrawn", targetType: "device", targetId: deviceId, details: consent ?? {} });
    await this.issue(deviceId);
    return this.forDevice(deviceId);
  }

  /** Sign the device's effective policy with the next version and put it in its KV key. */
  issue(deviceId: string): Promise<TDevicePolicyV1> {
    const prev = this.chains.get(deviceId) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.signAndPut(deviceId));
    this.chains.set(deviceId, next);
    void next.finally(() => this.chains.get(deviceId) === next && this.chains.delete(deviceId)).catch(() => undefined);
    return next;
  }

  private async signAndPut(deviceId: string): Promise<TDevicePolicyV1> {
    const settings = await this.effective(deviceId);
    const last = await this.repo.issued(deviceId);
    const now = new Date();
    const policy: TDevicePolicyV1 = {
      schema: "device-policy/v1",
      version: (last?.version ?? 0) + 1,
      issuedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + POLICY_VALIDITY_MS).toISOString(),
      deviceId,
      ...settings,
    };
    const jws = await signDevicePolicy(policy, this.serverKey.privateKey);
    if (!(await this.repo.saveIssued(deviceId, policy.version, jws, policy))) throw new AppError("conflict", `a newer policy was issued for ${deviceId} meanwhile`);
    await this.kv.put(deviceId, jws);
    this.log.info({ deviceId, version: policy.version, telemetry: policy.privacy.telemetry }, "device policy issued");
    return policy;
  }

  /** The device's override, else the fleet default, else the built-in default; consent only when fallback allows it. */
  private async effective(deviceId: string): Promise<TDevicePolicySettingsV1> {
    const [own, fleet, consent] = await Promise.all([this.repo.setting(deviceId), this.repo.setting(FLEET_DEFAULT_ID), this.repo.consent(deviceId)]);
    const s = own?.settings ?? fleet?.settings ?? DEFAULT_DEVICE_POLICY_SETTINGS;
    return { privacy: { ...s.privacy, consent: s.privacy.remoteFallback === "allowed-with-consent" ? consent : null }, resources: s.resources };
  }

  private async reissueAll(): Promise<void> {
    for (const id of await this.repo.activeDeviceIds()) await this.issueQuietly(id);
  }

  private async renewDue(): Promise<void> {
    for (const id of await this.repo.devicesToIssue(new Date(Date.now() - POLICY_VALIDITY_MS / 2))) await this.issueQuietly(id);
  }

  private async issueQuietly(deviceId: string): Promise<void> {
    await this.issue(deviceId).catch((err) => this.log.error({ err, deviceId }, "could not issue the device policy"));
  }

  private async requireDevice(deviceId: string): Promise<void> {
    const state = await this.repo.deviceState(deviceId);
    if (!state) throw new AppError("not_found", `no device ${deviceId}`);
  }
}
