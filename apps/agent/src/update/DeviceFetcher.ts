import { importJWK, type CryptoKey } from "jose";
import { BaseFetcher } from "tuf-js";
import { DownloadHTTPError } from "tuf-js/dist/error.js";
import { deviceAuthorization } from "@fleet/protocol";
import type { AgentState } from "../state/ZAgentState.js";
import type { Egress } from "../egress/Egress.js";

/**
 * tuf-js fetcher that proves who the device is (`Authorization: FleetDevice <jws>` bound to method and path),
 * and the ranged GET the resumable artifact download uses.
 */
export class DeviceFetcher extends BaseFetcher {
  private key: Promise<CryptoKey> | null = null;

  constructor(
    private readonly state: Pick<AgentState, "deviceId" | "privateJwk">,
    private readonly timeoutMs = 30_000,
    /** the agent's egress layer: metadata and artifact sockets are accounted in the outbound ledger */
    private readonly egress?: Egress,
  ) {
    super();
  }

  private async authorization(url: string): Promise<string> {
    this.key ??= importJWK({ ...this.state.privateJwk, alg: "EdDSA" }, "EdDSA") as Promise<CryptoKey>;
    return deviceAuthorization(this.state.deviceId, "GET", new URL(url).pathname, await this.key);
  }

  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    const res = await this.fetchFor("catalog-metadata")(url, { headers: { authorization: await this.authorization(url) }, signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new DownloadHTTPError(`GET ${new URL(url).pathname} failed`, res.status);
    }
    return res.body as ReadableStream<Uint8Array<ArrayBuffer>>;
  }

  /** GET from byte `offset` on (a Range request when offset > 0); the caller checks the status. */
  async fetchFrom(url: string, offset: number, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { authorization: await this.authorization(url) };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    return this.fetchFor("model-download")(url, { headers, signal });
  }

  private fetchFor(purpose: "catalog-metadata" | "model-download"): typeof fetch {
    return this.egress ? this.egress.fetch(purpose) : fetch;
  }
}
