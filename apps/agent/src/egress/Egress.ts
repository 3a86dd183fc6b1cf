import { AsyncLocalStorage } from "node:async_hooks";
import diagnostics from "node:diagnostics_channel";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { Readable } from "node:stream";
import tls from "node:tls";
import type { EgressPurpose } from "@fleet/protocol";
import { EgressLedger, type EgressDestination } from "./EgressLedger.js";

/** A destination whose port (and host) the socket itself tells: the exposure scan's probes of many local ports. */
const FROM_SOCKET = 0;

interface Scope {
  egress: Egress;
  dest: EgressDestination;
}

const scopes = new AsyncLocalStorage<Scope>();
// Every egress shares one subscription: node publishes each net.connect()/createConnection() socket on this
// channel, synchronously in the caller's async context, so the scope says which agent opened it and why.
const subscribers = new Set<Egress>();
function onClientSocket(message: unknown): void {
  const socket = (message as { socket?: net.Socket }).socket;
  if (!socket) return;
  const scope = scopes.getStore();
  if (scope) scope.egress.ledger.track(socket, scope.dest);
  else for (const e of subscribers) e.unattributed(socket);
}

export interface EgressOptions {
  ledger: EgressLedger;
  /**
   * Also record sockets opened outside any egress scope (purpose "other", host = the address): right for an agent
   * in its own process (fleet-agent run), wrong where other code shares the process (the server in a test).
   */
  captureUnattributed?: boolean;
  /** extra PEM trust anchors for https (added to node's roots; NODE_EXTRA_CA_CERTS works as well) */
  ca?: string;
}

/**
 * The agent's one way out: NATS, enrollment, catalog metadata, artifact downloads (and any telemetry or remote
 * fallback) open their sockets inside `run()` or through `fetch()`, and every socket is accounted in the ledger.
 */
export class Egress {
  readonly ledger: EgressLedger;
  private readonly captureUnattributed: boolean;
  private readonly ca: string[] | undefined;

  constructor(opts: EgressOptions) {
    this.ledger = opts.ledger;
    this.captureUnattributed = opts.captureUnattributed ?? false;
    this.ca = opts.ca ? [...tls.rootCertificates, opts.ca] : undefined;
    if (subscribers.size === 0) diagnostics.subscribe("net.client.socket", onClientSocket);
    subscribers.add(this);
  }

  close(): void {
    subscribers.delete(this);
    if (subscribers.size === 0) diagnostics.unsubscribe("net.client.socket", onClientSocket);
  }

  /** Run fn so that every socket it opens (now or later, e.g. nats.js reconnects) is recorded against dest. */
  run<T>(dest: EgressDestination, fn: () => T): T {
    return scopes.run({ egress: this, dest }, fn);
  }

  /** Run the exposure scan's loopback probes: each socket is recorded under the port it knocked on. */
  probes<T>(fn: () => T): T {
    return this.run({ host: "", port: FROM_SOCKET, purpose: "local-probe" }, fn);
  }

  /** A fetch for one purpose: node's http(s) over a socket this layer opened (no pooling: each request is counted). */
  fetch(purpose: EgressPurpose): typeof fetch {
    return (input, init) => this.request(purpose, input, init);
  }

  /** @internal a socket opened outside any scope */
  unattributed(socket: net.Socket): void {
    if (this.captureUnattributed) this.ledger.track(socket, { host: "", port: FROM_SOCKET, purpose: "other" });
  }

  private async request(purpose: EgressPurpose, input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    if (input instanceof Request) throw new TypeError("egress fetch takes a URL");
    const url = new URL(input);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`egress fetch: unsupported protocol ${url.protocol}`);
    const secure = url.protocol === "https:";
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const port = Number(url.port || (secure ? 443 : 80));
    const body = init.body === undefined || init.body === null ? undefined : typeof init.body === "string" ? Buffer.from(init.body) : init.body instanceof Uint8Array ? Buffer.from(init.body) : null;
    if (body === null) throw new TypeError("egress fetch: body must be a string or bytes");
    const headers = new Headers(init.headers);
    if (body) headers.set("content-length", String(body.byteLength));
    const dest = { host, port, purpose };
    const createConnection = () =>
      this.run(dest, () => {
        const raw = net.connect({ host, port });
        // host: the name (or IP) the certificate is checked against; SNI only for names
        return secure ? tls.connect({ socket: raw, host, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ["http/1.1"], ca: this.ca }) : raw;
      });
    const options: http.RequestOptions = {
      method: init.method ?? "GET",
      host,
      port,
      path: `${url.pathname}${url.search}`,
      headers: { ...Object.fromEntries(headers.entries()), connection: "close" },
      // no agent + createConnection: node uses our socket (agent: false would make a fresh Agent and ignore it)
      createConnection,
      signal: init.signal ?? undefined,
    };
    return new Promise<Response>((resolve, reject) => {
      const req = (secure ? https : http).request(options, (res) => {
        const status = res.statusCode ?? 0;
        const out = new Headers();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        const noBody = options.method === "HEAD" || status === 204 || status === 205 || status === 304;
        if (noBody) res.resume();
        resolve(new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage ?? "", headers: out }));
      });
      req.on("error", reject);
      req.end(body);
    });
  }
}
