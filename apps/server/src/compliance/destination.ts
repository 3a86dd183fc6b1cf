/** host[:port] of an endpoint URL, credentials and path left out: what the allowlist and the destination list compare. */
export function destinationOf(url: string): string {
  try {
    const u = new URL(url);
    return u.port ? `${u.hostname}:${u.port}` : u.hostname;
  } catch {
    return url.slice(0, 300);
  }
}

/** `host` matches any port, `host:port` that port, `*.domain` any subdomain of domain. */
export function matchesAllowlist(destination: string, allowlist: string[]): boolean {
  const host = destination.replace(/:\d+$/, "");
  return allowlist.some((entry) => {
    const e = entry.toLowerCase();
    if (e.startsWith("*.")) return host.toLowerCase().endsWith(e.slice(1));
    return e === destination.toLowerCase() || e === host.toLowerCase();
  });
}
