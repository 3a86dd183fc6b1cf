import type { TRuntimeInfoV1 } from "@fleet/protocol";

/** What fleet planning knows about a device's hardware (from its last inventory). */
export interface DeviceHardware {
  ramTotalBytes: number;
  /** vramBytes null: the driver does not say (integrated GPUs); such a GPU gets no offload */
  gpus: { vendor: string; model: string; vramBytes: number | null }[];
  /** null: an agent older than the catalog, runtime unknown */
  runtime: TRuntimeInfoV1 | null;
}
