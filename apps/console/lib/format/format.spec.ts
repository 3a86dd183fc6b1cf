import { describe, expect, it } from "vitest";
import { formatBytes } from "./formatBytes";
import { formatCount } from "./formatCount";
import { formatDateTime } from "./formatDateTime";
import { formatMeanSd } from "./formatMeanSd";
import { formatMs } from "./formatMs";
import { formatRelativeTime } from "./formatRelativeTime";
import { shortSha } from "./shortSha";

const GiB = 1024 ** 3;

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1_750_560, "1.7 MiB"],
    [8 * GiB, "8.0 GiB"],
    [34_359_738_368, "32.0 GiB"],
    [GiB - 1, "1.0 GiB"],
    [512_110_190_592, "476.9 GiB"],
    [3 * 1024 * GiB, "3.0 TiB"],
    [null, "—"],
    [undefined, "—"],
    [-1, "—"],
    [Number.NaN, "—"],
  ])("%s -> %s", (input, expected) => {
    expect(formatBytes(input)).toBe(expected);
  });
});

describe("formatRelativeTime", () => {
  const now = new Date("2026-11-25T12:00:00.000Z");
  it.each([
    ["2026-11-25T12:00:00.000Z", "just now"],
    ["2026-11-25T11:59:58.000Z", "just now"],
    ["2026-11-25T11:59:18.000Z", "42 s ago"],
    ["2026-11-25T11:55:00.000Z", "5 min ago"],
    ["2026-11-25T09:00:00.000Z", "3 h ago"],
    ["2026-11-23T12:00:00.000Z", "2 d ago"],
    ["2026-09-25T12:00:00.000Z", "2 mo ago"],
    ["2024-11-25T12:00:00.000Z", "2 y ago"],
    ["2026-11-25T12:00:30.000Z", "in 30 s"],
    [null, "never"],
    ["not a date", "—"],
  ])("%s -> %s", (iso, expected) => {
    expect(formatRelativeTime(iso, now)).toBe(expected);
  });
});

describe("formatDateTime", () => {
  it.each([
    ["2026-11-25T08:00:00.000Z", "2026-11-25 08:00:00 UTC"],
    ["2026-11-25T09:30:15.250+01:00", "2026-11-25 08:30:15 UTC"],
    [null, "—"],
    ["garbage", "—"],
  ])("%s -> %s", (iso, expected) => {
    expect(formatDateTime(iso)).toBe(expected);
  });
});

describe("shortSha", () => {
  it.each([
    ["81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb", "81f226c6"],
    [null, "—"],
  ])("%s -> %s", (sha, expected) => {
    expect(shortSha(sha)).toBe(expected);
  });
});

describe("formatMs", () => {
  it.each([
    [0.25, "250 µs"],
    [12.345, "12.3 ms"],
    [999.94, "999.9 ms"],
    [1240, "1.24 s"],
    [null, "—"],
    [-3, "—"],
  ])("%s -> %s", (ms, expected) => {
    expect(formatMs(ms)).toBe(expected);
  });
});

describe("formatMeanSd", () => {
  it.each([
    [{ mean: 123.456, stddev: 2.1 }, "123.46 ± 2.10"],
    [{ mean: 0, stddev: 0 }, "0.00 ± 0.00"],
    [null, "—"],
  ])("%j -> %s", (v, expected) => {
    expect(formatMeanSd(v)).toBe(expected);
  });
});

describe("formatCount", () => {
  it.each([
    [512, "512"],
    [1_000_000, "1.00 M"],
    [7_241_732_096, "7.24 B"],
    [1500, "1.50 K"],
    [null, "—"],
  ])("%s -> %s", (n, expected) => {
    expect(formatCount(n)).toBe(expected);
  });
});
