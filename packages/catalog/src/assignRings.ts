import { createHash } from "node:crypto";

/**
 * Ring of every device for a rollout: devices sorted by sha256(rolloutId + deviceId) (a stable shuffle, so
 * the canary is not always the same machine across rollouts), then ring i takes the devices up to
 * ceil(percent_i % of N) (percents are cumulative). The first ring gets at least one device when N > 0;
 * the last ring reaches every device whatever its percent, so each device is in exactly one ring.
 * Throws RangeError on duplicate ids, no rings, or percents that decrease or leave 0..100.
 */
export function assignRings(deviceIds: readonly string[], rolloutId: string, rings: readonly { percent: number }[]): Map<string, number> {
  if (rings.length === 0) throw new RangeError("assignRings needs at least one ring");
  rings.forEach((r, i) => {
    if (!(r.percent >= 0 && r.percent <= 100)) throw new RangeError(`ring ${i} percent ${r.percent} is not within 0..100`);
    if (i > 0 && r.percent < rings[i - 1]!.percent) throw new RangeError(`ring ${i} percent ${r.percent} is below ring ${i - 1}'s ${rings[i - 1]!.percent} (percents are cumulative)`);
  });
  if (new Set(deviceIds).size !== deviceIds.length) throw new RangeError("assignRings got a device id twice");

  const n = deviceIds.length;
  const order = deviceIds
    .map((id) => ({ id, key: createHash("sha256").update(rolloutId + id).digest("hex") }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // percent/100 * n in floating point can land a hair above an integer (e.g. 0.07 * 100): round away the noise.
  const cutoffs = rings.map((r, i) => (i === rings.length - 1 ? n : Math.ceil(Math.round(r.percent * n * 1e6) / 1e8)));
  if (n > 0) cutoffs[0] = Math.max(1, cutoffs[0]!);

  const result = new Map<string, number>();
  let ring = 0;
  order.forEach(({ id }, position) => {
    while (position >= cutoffs[ring]!) ring++;
    result.set(id, ring);
  });
  return result;
}
