import { postureTelemetryOf, REPORT_KINDS_BY_TELEMETRY, type PolicyTelemetryMode, type TExposureScanV1, type TLocalApiExposureV1, type TPostureV1, type TResourcesAppliedV1 } from "@fleet/protocol";
import type { RuntimeHooks } from "../runtime/RuntimeHooks.js";

export interface PostureInputs {
  serverUrl: string;
  natsUrl: string;
  runtime?: RuntimeHooks;
  /** what the exposure scan observed (scanExposure); absent when it could not run */
  exposure?: TExposureScanV1;
  /** the resource policy as applied (ResourceGovernor.applied()) */
  resources?: TResourcesAppliedV1;
  /** the telemetry mode of the signed device policy in force (absent: no policy yet, the agent's default "minimal") */
  telemetry?: PolicyTelemetryMode;
}

const LOCAL_API_OFF: TLocalApiExposureV1 = {
  enabled: false,
  bindAddress: "127.0.0.1",
  port: 0,
  loopbackOnly: true,
  authRequired: true,
  corsAllowedOrigins: [],
};

/**
 * The privacy posture: every outbound endpoint this agent uses and what travels on it. The agent has no remote
 * inference fallback and no prompt telemetry, so those are constants here, not settings an admin could flip.
 */
export function buildPosture(inputs: PostureInputs): TPostureV1 {
  return {
    outbound: [
      { purpose: "control-plane", url: stripCredentials(inputs.serverUrl), carries: ["enrollment", "catalog-metadata-in", "model-download-in"] },
      { purpose: "messaging", url: stripCredentials(inputs.natsUrl), carries: [...REPORT_KINDS_BY_TELEMETRY[inputs.telemetry ?? "minimal"].map((k) => `report:${k}`), "commands-in"] },
    ],
    telemetry: postureTelemetryOf(inputs.telemetry ?? "minimal"),
    remoteFallback: { enabled: false, url: null },
    promptsLeaveDevice: false,
    localApi: inputs.runtime ? inputs.runtime.localApiExposure() : LOCAL_API_OFF,
    ...(inputs.exposure ? { exposure: inputs.exposure } : {}),
    ...(inputs.resources ? { resources: inputs.resources } : {}),
  };
}

/** A URL may carry user:password; the posture discloses where data goes, never the secret. */
function stripCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString().slice(0, 2048);
  } catch {
    return url.slice(0, 2048);
  }
}
