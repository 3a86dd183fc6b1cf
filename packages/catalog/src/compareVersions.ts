/** A version string that cannot be compared (neither "x.y.z[-pre]" nor a llama.cpp "b1234" build tag). */
export class VersionFormatError extends Error {
  override name = "VersionFormatError";
}

const SEMVER = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * Semver-ish order of node-llama-cpp versions: "3.22" = "3.22.0" < "3.22.1-beta.1" < "3.22.1".
 * Negative, zero or positive like a sort comparator.
 */
export function compareSemver(a: string, b: string): number {
  const pa = SEMVER.exec(a.trim());
  const pb = SEMVER.exec(b.trim());
  if (!pa) throw new VersionFormatError(`not a version: ${JSON.stringify(a)}`);
  if (!pb) throw new VersionFormatError(`not a version: ${JSON.stringify(b)}`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i] ?? 0) - Number(pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  const [prA, prB] = [pa[4], pb[4]];
  if (prA === prB) return 0;
  if (prA === undefined) return 1; // a release is newer than its pre-releases
  if (prB === undefined) return -1;
  const xs = prA.split(".");
  const ys = prB.split(".");
  for (let i = 0; i < Math.max(xs.length, ys.length); i++) {
    const [x, y] = [xs[i], ys[i]];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const [nx, ny] = [/^\d+$/.test(x), /^\d+$/.test(y)];
    const d = nx && ny ? Number(x) - Number(y) : nx ? -1 : ny ? 1 : x < y ? -1 : x > y ? 1 : 0;
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** llama.cpp release tags compare by build number: "b999" < "b6000". */
export function compareLlamaCppRelease(a: string, b: string): number {
  const num = (s: string) => {
    const m = /^b?(\d+)$/i.exec(s.trim());
    if (!m) throw new VersionFormatError(`not a llama.cpp release tag: ${JSON.stringify(s)}`);
    return Number(m[1]);
  };
  return Math.sign(num(a) - num(b));
}
