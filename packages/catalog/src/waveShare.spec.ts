import { describe, expect, it } from "vitest";
import { WAVE_FULL_RATE_BEHIND_MS, WAVE_MIN_RATE_BEHIND_MS, WAVE_MIN_SHARE, waveShare } from "./waveShare.js";

describe("waveShare", () => {
  it("keeps the full rate while ingest keeps up (and when nothing is known)", () => {
    for (const ms of [0, 120, WAVE_FULL_RATE_BEHIND_MS, -5, Number.NaN]) expect(waveShare(ms)).toBe(1);
  });

  it("slows down linearly as ingest falls behind, to the floor and no lower", () => {
    const mid = (WAVE_FULL_RATE_BEHIND_MS + WAVE_MIN_RATE_BEHIND_MS) / 2;
    expect(waveShare(mid)).toBeCloseTo((1 + WAVE_MIN_SHARE) / 2, 10);
    expect(waveShare(WAVE_MIN_RATE_BEHIND_MS)).toBe(WAVE_MIN_SHARE);
    expect(waveShare(60_000)).toBe(WAVE_MIN_SHARE);
    let prev = 1;
    for (let ms = WAVE_FULL_RATE_BEHIND_MS; ms <= WAVE_MIN_RATE_BEHIND_MS + 100; ms += 50) {
      const s = waveShare(ms);
      expect(s).toBeLessThanOrEqual(prev);
      expect(s).toBeGreaterThanOrEqual(WAVE_MIN_SHARE);
      prev = s;
    }
  });
});
