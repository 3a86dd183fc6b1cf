/**
 * The path to return to after sign-in, only when it is a path on this console: "/x?y" yes;
 * "//evil.example", "/\\evil", "https://evil.example", "javascript:" no (open-redirect guard). Anything else is "/".
 */
export function safeNextPath(raw: string | null | undefined): string {
  if (!raw || raw.length > 2000) return "/";
  if (!raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) return "/";
  if (/[\u0000-\u001f\\]/.test(raw)) return "/";
  try {
    const resolved = new URL(raw, "http://console.invalid");
    if (resolved.origin !== "http://console.invalid") return "/";
    return `${resolved.pathname}${resolved.search}${resolved.hash}`;
  } catch {
    return "/";
  }
}

/** The sign-in URL that returns to `path` afterwards. */
export function loginHref(path: string): string {
  const next = safeNextPath(path);
  return next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`;
}
