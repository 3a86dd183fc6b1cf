import type { NatsConnection } from "nats";
import type { CryptoKey } from "jose";
import { openReport, subjects, type TReportV1 } from "@fleet/protocol";

/**
 * Plays the server's side of reporting in tests: creates the report stream and reads every message in it,
 * verifying each with openReport() and the device's registered key, exactly as the server must.
 */
export class ReportsReader {
  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly devicePublicKey: CryptoKey,
    readonly stream = "FLEET_REPORTS",
  ) {}

  async createStream(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await jsm.streams.add({ name: this.stream, subjects: subjects(this.prefix).allReports() });
  }

  /** Every report in the stream, in stream order; throws if any fails verification. */
  async readAll(): Promise<TReportV1[]> {
    const jsm = await this.nc.jetstreamManager();
    const info = await jsm.streams.info(this.stream);
    const out: TReportV1[] = [];
    const subj = subjects(this.prefix);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(this.stream, { seq });
      const parsed = subj.parseReport(m.subject);
      if (!parsed) throw new Error(`not a report subject: ${m.subject}`);
      const opened = await openReport(m.data, { subject: parsed, resolveKey: async () => this.devicePublicKey });
      if (!opened.ok) throw new Error(`report ${seq} refused: ${opened.reason} ${opened.detail}`);
      out.push(opened.value);
    }
    return out;
  }
}
