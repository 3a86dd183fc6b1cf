import { z } from "zod";
import { ZIsoDate } from "./common.js";

// The outbound ledger: every connection the agent opened, recorded at the socket by its one egress layer
// (apps/agent/src/egress/), so bytes are what went over the wire (TLS and protocol framing included).
// "local-probe" is the exposure scan knocking on loopback ports; every other purpose leaves the machine.

export const EGRESS_PURPOSES = ["messaging", "enrollment", "control-plane", "catalog-metadata", "model-download", "telemetry", "remote-inference", "local-probe", "other"] as const;
export const ZEgressPurpose = z.enum(EGRESS_PURPOSES);
export type EgressPurpose = z.infer<typeof ZEgressPurpose>;

/** One destination (host, port, resolved address, purpose) and what travelled to and from it. */
export const ZEgressEntryV1 = z.object({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535),
  /** the address the socket actually connected to (after DNS); null if the connection never got that far */
  address: z.string().max(100).nullable(),
  purpose: ZEgressPurpose,
  bytesSent: z.number().int().nonnegative(),
  bytesReceived: z.number().int().nonnegative(),
  /** connections opened to it since the ledger began */
  connections: z.number().int().nonnegative(),
  /** connections open when the report was built */
  open: z.number().int().nonnegative(),
  firstSeenAt: ZIsoDate,
  lastSeenAt: ZIsoDate,
});
export type TEgressEntryV1 = z.infer<typeof ZEgressEntryV1>;

/** Body of the "egress" report (a control-plane report: it leaves under every telemetry mode). */
export const ZEgressLedgerV1 = z.object({
  /** when this ledger began counting (it is persisted across agent restarts) */
  since: ZIsoDate,
  collectedAt: ZIsoDate,
  entries: z.array(ZEgressEntryV1).max(1000),
});
export type TEgressLedgerV1 = z.infer<typeof ZEgressLedgerV1>;

/** Ledger identity of a destination: one row per host, port, resolved address and purpose. */
export function egressKey(e: Pick<TEgressEntryV1, "host" | "port" | "address" | "purpose">): string {
  return `${e.purpose}|${e.host}|${e.port}|${e.address ?? ""}`;
}
