/** The first 8 hex digits of a sha256: enough to tell models apart in a table. */
export function shortSha(sha256: string | null | undefined): string {
  return sha256 ? sha256.slice(0, 8) : "—";
}
