import { describe, expect, it } from "vitest";
import { FanOut } from "./fanOut";

describe("FanOut", () => {
  it("delivers to every listener and refuses beyond the cap until one leaves", () => {
    const fan = new FanOut<number>(2);
    const a: number[] = [];
    const b: number[] = [];
    const offA = fan.subscribe((v) => a.push(v));
    const offB = fan.subscribe((v) => b.push(v));
    expect(offA).not.toBeNull();
    expect(offB).not.toBeNull();
    expect(fan.subscribe(() => undefined)).toBeNull();
    fan.publish(1);
    offA!();
    expect(fan.size).toBe(1);
    const c: number[] = [];
    expect(fan.subscribe((v) => c.push(v))).not.toBeNull();
    fan.publish(2);
    expect([a, b, c]).toEqual([[1], [1, 2], [2]]);
  });

  it("keeps delivering when one listener throws, and counts it", () => {
    const fan = new FanOut<string>(3);
    const got: string[] = [];
    fan.subscribe(() => {
      throw new Error("closed stream");
    });
    fan.subscribe((v) => got.push(v));
    expect(fan.publish("x")).toBe(1);
    expect(got).toEqual(["x"]);
  });

  it("counts the same function subscribed twice as two streams", () => {
    const fan = new FanOut<number>(5);
    let n = 0;
    const f = () => n++;
    const off = fan.subscribe(f)!;
    fan.subscribe(f);
    fan.publish(0);
    off();
    fan.publish(0);
    expect(n).toBe(3);
  });

  it("refuses a nonsensical cap", () => {
    expect(() => new FanOut(0)).toThrow(RangeError);
  });
});
