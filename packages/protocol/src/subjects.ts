/** Report kinds a device publishes; each has its own subject and schema. */
export const REPORT_KINDS = ["inventory", "models", "heartbeat", "posture", "events", "metrics", "benchmark", "update", "egress"] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export const DEFAULT_SUBJECT_PREFIX = "fleet.v1";
export const DEFAULT_STREAM_NAME = "FLEET_REPORTS";

// Device ids become subject tokens: keep them to characters NATS treats literally.
const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function isValidDeviceId(id: string): boolean {
  return DEVICE_ID.test(id);
}

/**
 * Subject builders. `prefix` lets test runs and tenants use disjoint subject spaces
 * (e.g. `t1234.fleet.v1`), so runs never collide on a shared NATS server.
 */
export function subjects(prefix: string = DEFAULT_SUBJECT_PREFIX) {
  if (!PREFIX.test(prefix)) throw new Error(`invalid subject prefix "${prefix}"`);
  const device = (id: string) => {
    if (!isValidDeviceId(id)) throw new Error(`invalid device id "${id}"`);
    return `${prefix}.device.${id}`;
  };
  return {
    prefix,
    /** device -> server: `<prefix>.device.<id>.<kind>` */
    report: (deviceId: string, kind: ReportKind) => `${device(deviceId)}.${kind}`,
    /** every report of every device, for the stream and its consumer */
    allReports: () => REPORT_KINDS.map((k) => `${prefix}.device.*.${k}`),
    /** server -> device commands: `<prefix>.command.<id>` */
    command: (deviceId: string) => {
      if (!isValidDeviceId(deviceId)) throw new Error(`invalid device id "${deviceId}"`);
      return `${prefix}.command.${deviceId}`;
    },
    /** every command, for the server's command stream */
    allCommands: () => `${prefix}.command.*`,
    /** server -> servers (core NATS, no stream): a device was revoked, drop its cached key */
    deviceRevoked: () => `${prefix}.control.device-revoked`,
    /** server -> servers (core NATS, no stream): fleet events of one replica for the websocket clients of the others */
    fleetEvents: () => `${prefix}.control.fleet-events`,
    /** Parse a report subject back to its device id and kind, or null if it is not one. */
    parseReport(subject: string): { deviceId: string; kind: ReportKind } | null {
      if (!subject.startsWith(`${prefix}.device.`)) return null;
      const rest = subject.slice(prefix.length + ".device.".length).split(".");
      if (rest.length !== 2) return null;
      const [deviceId, kind] = rest as [string, string];
      if (!isValidDeviceId(deviceId) || !(REPORT_KINDS as readonly string[]).includes(kind)) return null;
      return { deviceId, kind: kind as ReportKind };
    },
  };
}

export type Subjects = ReturnType<typeof subjects>;
