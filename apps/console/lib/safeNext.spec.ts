import { describe, expect, it } from "vitest";
import { loginHref, safeNextPath } from "./safeNext";

describe("safeNextPath", () => {
  it.each<[string | null, string]>([
    ["/devices?status=online&page=2", "/devices?status=online&page=2"],
    ["/audit#top", "/audit#top"],
    [null, "/"],
    ["", "/"],
    ["//evil.example/x", "/"],
    ["/\\evil.example", "/"],
    ["https://evil.example/", "/"],
    ["javascript:alert(1)", "/"],
    ["devices", "/"],
    ["/a\nb", "/"],
    ["/%2F%2Fevil.example", "/%2F%2Fevil.example"],
  ])("%j -> %j", (raw, expected) => expect(safeNextPath(raw)).toBe(expected));

  it("builds the sign-in link", () => {
    expect(loginHref("/")).toBe("/login");
    expect(loginHref("/devices?q=ws 1")).toBe("/login?next=%2Fdevices%3Fq%3Dws%25201");
    expect(loginHref("//evil")).toBe("/login");
  });
});
