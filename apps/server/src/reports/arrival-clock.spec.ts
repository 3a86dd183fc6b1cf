import { describe, expect, it } from "vitest";
import type { TReportV1 } from "@fleet/protocol";
import { ArrivalClock } from "./arrival-clock.js";

const report = (deviceId: string, seq: number) => ({ deviceId, seq, msgId: `${deviceId}-${seq}` }) as TReportV1;
const times = (stampOf: ReadonlyMap<TReportV1, Date>, batch: TReportV1[]) => batch.map((r) => stampOf.get(r)!.getTime());

describe("ArrivalClock", () => {
  it("stamps a device's reports of a batch 1 ms apart in stream order, each device from the wall clock", () => {
    const clock = new ArrivalClock(() => 1_000);
    const batch = [report("a", 1), report("b", 1), report("a", 2), report("a", 3)];
    const { at, stampOf } = clock.stamp(batch);
    expect(at.getTime()).toBe(1_000);
    expect(times(stampOf, batch)).toEqual([1_000, 1_000, 1_001, 1_002]);
  });

  it("stamps a device's next batch after its last stamp when the wall clock has not passed it", () => {
    // the CI failure this guards: 19 reports of one device reached 18 ms ahead, and its next batch 5 ms later sorted first
    let wall = 1_000;
    const clock = new ArrivalClock(() => wall);
    const first = Array.from({ length: 19 }, (_, k) => report("a", k));
    const firstTimes = times(clock.stamp(first).stampOf, first);
    wall = 1_005;
    const next = [report("a", 19), report("b", 1), report("a", 20)];
    const { at, stampOf } = clock.stamp(next);
    expect(Math.max(...firstTimes)).toBe(1_018);
    expect(times(stampOf, next)).toEqual([1_019, 1_005, 1_020]); // b is not held back by a's lead
    expect(at.getTime()).toBe(1_005);
  });

  it("follows the wall clock again once it is ahead, and never repeats a device's stamp within a millisecond", () => {
    let wall = 1_000;
    const clock = new ArrivalClock(() => wall);
    clock.stamp([report("a", 1), report("a", 2)]);
    wall = 5_000;
    const later = [report("a", 3)];
    expect(times(clock.stamp(later).stampOf, later)).toEqual([5_000]);
    const same = [report("a", 4)];
    expect(times(clock.stamp(same).stampOf, same)).toEqual([5_001]);
  });
});
