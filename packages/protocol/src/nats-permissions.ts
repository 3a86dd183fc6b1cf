import { subjects } from "./subjects.js";

/** The NATS permission lists of one user JWT (allow lists: everything else is denied). */
export interface NatsPermissions {
  pub: { allow: string[] };
  sub: { allow: string[] };
}

export interface DevicePermissionOptions {
  /** JetStream stream holding `<prefix>.command.<id>` (the server creates the durable `agent-<id>` on it) */
  commandStream: string;
  /** JetStream KV bucket holding each device's signed assignment under key = device id */
  assignmentBucket: string;
  /** JetStream KV bucket holding each device's signed device policy under key = device id */
  policyBucket: string;
}

const NAME = /^[A-Za-z0-9_-]+$/;

/** Inbox prefix a device must connect with: its subscribe permission covers only `<prefix>.>`. */
export function deviceInboxPrefix(deviceId: string): string {
  subjects().command(deviceId); // validates the id (subject-safe characters)
  return `_INBOX_${deviceId}`;
}

/** Durable pull consumer on the command stream that only this device may read. */
export function deviceCommandConsumer(deviceId: string): string {
  deviceInboxPrefix(deviceId);
  return `agent-${deviceId}`;
}

/**
 * What a device's NATS user may do, and nothing more: publish its own reports, read its own command consumer
 * (info, next, ack: no create/delete, no other consumer, no stream API), read its own assignment key and its own
 * device-policy key in their KV buckets (direct get + live updates), and receive replies on its own inbox prefix. Extend here, in one place.
 */
export function devicePermissions(prefix: string, deviceId: string, opts: DevicePermissionOptions): NatsPermissions {
  const subj = subjects(prefix);
  const consumer = deviceCommandConsumer(deviceId);
  for (const [k, v] of Object.entries(opts)) if (!NAME.test(v)) throw new Error(`invalid ${k} "${v}"`);
  const { commandStream: cs, assignmentBucket: kv, policyBucket: pb } = opts;
  return {
    pub: {
      allow: [
        `${subj.prefix}.device.${deviceId}.>`,
        `$JS.API.CONSUMER.INFO.${cs}.${consumer}`,
        `$JS.API.CONSUMER.MSG.NEXT.${cs}.${consumer}`,
        `$JS.ACK.${cs}.${consumer}.>`,
        `$JS.API.DIRECT.GET.KV_${kv}.$KV.${kv}.${deviceId}`,
        `$JS.API.DIRECT.GET.KV_${pb}.$KV.${pb}.${deviceId}`,
      ],
    },
    sub: {
      allow: [`${deviceInboxPrefix(deviceId)}.>`, `$KV.${kv}.${deviceId}`, `$KV.${pb}.${deviceId}`],
    },
  };
}
