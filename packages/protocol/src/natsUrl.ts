/**
 * nats.js ignores credentials written in a server URL, so `nats://user:pass@host:4222` (user + password) or
 * `nats://token@host:4222` (token) are split here into the connect options it does read. Several servers may be
 * given comma-separated; credentials are taken from the first URL that has them and removed from all.
 */
export function natsConnectionOptions(url: string): { servers: string[]; user?: string; pass?: string; token?: string } {
  let creds: { user?: string; pass?: string; token?: string } = {};
  const servers = url
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^([a-z]+:\/\/)([^@/]*)@(.+)$/i.exec(s);
      if (!m) return s;
      const [, scheme, userinfo, rest] = m as unknown as [string, string, string, string];
      if (!creds.user && !creds.token) {
        const i = userinfo.indexOf(":");
        creds = i >= 0
          ? { user: decodeURIComponent(userinfo.slice(0, i)), pass: decodeURIComponent(userinfo.slice(i + 1)) }
          : { token: decodeURIComponent(userinfo) };
      }
      return scheme + rest;
    });
  return { servers, ...creds };
}

/** The URL with any credentials replaced, for logs and posture reports. */
export function redactNatsUrl(url: string): string {
  return url.replace(/(^|,\s*)([a-z]+:\/\/)[^@/,]*@/gi, "$1$2***@");
}
