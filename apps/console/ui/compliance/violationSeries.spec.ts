import { describe, expect, it } from "vitest";
import { violationSeries } from "./violationSeries";

describe("violationSeries", () => {
  it("counts opened, resolved and open-at-day-end per UTC day", () => {
    const now = new Date("2026-03-10T12:00:00Z");
    const series = violationSeries(
      [
        { firstSeenAt: "2026-03-08T10:00:00.000Z", resolvedAt: "2026-03-09T10:00:00.000Z" },
        { firstSeenAt: "2026-03-09T23:59:00.000Z", resolvedAt: null },
        { firstSeenAt: "2025-12-01T00:00:00.000Z", resolvedAt: null },
      ],
      now,
      3,
    );
    expect(series).toEqual([
      { day: "2026-03-08", opened: 1, resolved: 0, open: 2 },
      { day: "2026-03-09", opened: 1, resolved: 1, open: 2 },
      { day: "2026-03-10", opened: 0, resolved: 0, open: 2 },
    ]);
  });
});
