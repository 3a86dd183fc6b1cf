import http from "node:http";

export interface ProbeResult {
  status: number;
  headers: http.IncomingHttpHeaders;
}

/**
 * One GET to 127.0.0.1 with a short timeout; the body is discarded unread beyond what the socket already got.
 * Loopback only on purpose: the scan looks at this machine, it never probes the network. null = no HTTP answer.
 */
export function probeHttp(port: number, path: string, opts: { timeoutMs: number; headers?: Record<string, string> }): Promise<ProbeResult | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path, headers: { ...opts.headers, connection: "close" }, timeout: opts.timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      res.destroy();
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    // Refused, reset or not HTTP: nothing answered this probe, which is what the result says.
    req.on("error", () => resolve(null));
  });
}
