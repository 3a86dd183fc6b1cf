// keys whose values are secrets ("maxTokens" is not; "localApiToken", "privateJwk", "natsCreds", a JWK's "d" and an nkey seed are)
const SECRET_KEY = /(token|secret|password|passwd|credentials?|creds|seed|privatejwk|private_key|privatekey|apikey|api_key)$|^d$/i;
export const REDACTED = "[redacted]";

/** Strip user:password from URLs; keep scheme, host, port and path. */
function redactUrl(s: string): string {
  return s.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, `$1${REDACTED}@`);
}

/** Deep copy with secret-looking keys replaced and credentials removed from URLs. */
export function redactObject(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactObject);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? REDACTED : redactObject(v)]));
  }
  return typeof value === "string" ? redactUrl(value) : value;
}

/** Text (logs) with known secret values, bearer tokens and URL credentials removed. */
export function redactText(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join(REDACTED);
  out = out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, `$1${REDACTED}`);
  out = out.replace(/("(?:d|[A-Za-z_]*(?:[Tt]oken|[Ss]ecret|[Pp]assword|[Pp]asswd))"\s*:\s*)"[^"]*"/g, `$1"${REDACTED}"`);
  return redactUrl(out);
}
