import { describe, expect, it } from "vitest";
import { firstParam, isoToLocalInput, localInputToIso, searchString, toggleSort } from "./query";

describe("searchString", () => {
  it("keeps non-empty values in order and encodes them", () => {
    expect(searchString({ actor: "ana@x", action: "", page: 2, targetId: undefined, to: null })).toBe("?actor=ana%40x&page=2");
    expect(searchString({})).toBe("");
    expect(searchString({ q: "a b&c" })).toBe("?q=a+b%26c");
  });
});

describe("firstParam", () => {
  it.each<[string | string[] | undefined, string | undefined]>([
    ["x", "x"],
    [["y", "z"], "y"],
    ["", undefined],
    [undefined, undefined],
  ])("%j -> %j", (v, expected) => expect(firstParam(v)).toBe(expected));
});

describe("datetime-local <-> ISO (UTC)", () => {
  it.each<[string | undefined, string | undefined]>([
    ["2026-01-31T09:30", "2026-01-31T09:30:00.000Z"],
    ["2026-01-31T09:30:15", "2026-01-31T09:30:15.000Z"],
    ["2026-01-31T09:30:00.000Z", "2026-01-31T09:30:00.000Z"],
    ["yesterday", undefined],
    ["2026-13-40T99:99", undefined],
    ["", undefined],
  ])("%j -> %j", (v, expected) => expect(localInputToIso(v)).toBe(expected));

  it("refills the form in UTC", () => {
    expect(isoToLocalInput("2026-01-31T09:30:00.000Z")).toBe("2026-01-31T09:30");
    expect(isoToLocalInput("nonsense")).toBe("");
    expect(isoToLocalInput(undefined)).toBe("");
  });
});

describe("toggleSort", () => {
  it("sorts ascending first, flips on the same column, and knows the default", () => {
    expect(toggleSort(undefined, "hostname", "hostname")).toEqual({ next: "-hostname", state: "ascending" });
    expect(toggleSort("-hostname", "hostname", "hostname")).toEqual({ next: "hostname", state: "descending" });
    expect(toggleSort("hostname", "lastSeenAt", "hostname")).toEqual({ next: "lastSeenAt", state: "none" });
    expect(toggleSort("lastSeenAt", "lastSeenAt", "hostname")).toEqual({ next: "-lastSeenAt", state: "ascending" });
  });
});
