import fs from "node:fs/promises";
import { gzipSync } from "node:zlib";

export interface TarEntry {
  name: string;
  data: string | Buffer;
}

function header(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s.slice(0, len), off, len, "utf8");
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, "0") + "\0";
  put(name, 0, 100);
  put(octal(0o600, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(Math.floor(mtime / 1000), 12), 136, 12);
  h.fill(" ", 148, 156); // checksum field counts as spaces while summing
  put("0", 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  return h;
}

/** A small ustar + gzip writer (bundle files are few and small; no dependency for it). Mode 0600. */
export async function writeTarGz(file: string, entries: TarEntry[]): Promise<void> {
  const parts: Buffer[] = [];
  const now = Date.now();
  for (const e of entries) {
    if (Buffer.byteLength(e.name) > 100) throw new RangeError(`tar entry name too long: ${e.name}`);
    const data = typeof e.data === "string" ? Buffer.from(e.data, "utf8") : e.data;
    parts.push(header(e.name, data.length, now), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  await fs.writeFile(file, gzipSync(Buffer.concat(parts)), { mode: 0o600 });
}
