/** One satisfiable byte range of a file of `size` bytes, inclusive ends. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parse a Range header (RFC 9110 section 14.2) for one range. null = serve the whole file (no header, another
 * unit, several ranges, or syntax we ignore as the RFC allows); "unsatisfiable" = answer 416.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null;
  const [, a, b] = m;
  if (a === "" && b === "") return null;
  if (a === "") {
    // suffix: the last N bytes
    const n = Number(b);
    if (n === 0) return "unsatisfiable";
    return size === 0 ? "unsatisfiable" : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  if (!Number.isSafeInteger(start) || start >= size || (b !== "" && Number(b) < start)) return "unsatisfiable";
  return { start, end };
}
