import type { Prisma } from "@fleet/db";
import type { ReportBody } from "@fleet/protocol";
import type { Tx } from "../common/prisma.js";

/**
 * The outbound ledger: kept as history (EgressReport), and each destination's latest cumulative counters
 * (EgressDestination) for compliance and the fleet report. A report older than the one a destination already
 * reflects does not roll its counters back.
 */
export async function writeEgress({ tx, deviceId, msgId, sentAt }: { tx: Tx; deviceId: string; msgId: string; sentAt: Date }, l: ReportBody<"egress">): Promise<void> {
  const sum = (f: (e: (typeof l.entries)[number]) => number) => BigInt(l.entries.reduce((a, e) => a + f(e), 0));
  await tx.egressReport.create({
    data: {
      deviceId,
      msgId,
      since: new Date(l.since),
      collectedAt: new Date(l.collectedAt),
      bytesSent: sum((e) => e.bytesSent),
      bytesReceived: sum((e) => e.bytesReceived),
      entries: l.entries as unknown as Prisma.InputJsonValue,
    },
  });
  for (const e of l.entries) {
    const key = { deviceId, purpose: e.purpose, host: e.host, port: e.port, address: e.address ?? "" };
    const fields = {
      bytesSent: BigInt(e.bytesSent),
      bytesReceived: BigInt(e.bytesReceived),
      connections: e.connections,
      firstSeenAt: new Date(e.firstSeenAt),
      lastSeenAt: new Date(e.lastSeenAt),
      reportedAt: sentAt,
    };
    await tx.egressDestination.upsert({ where: { deviceId_purpose_host_port_address: key }, create: { ...key, ...fields }, update: {} });
    await tx.egressDestination.updateMany({ where: { ...key, reportedAt: { lte: sentAt } }, data: fields });
  }
}
