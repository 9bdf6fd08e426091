import { resolvePeriod } from "../../services/orders/domain/stats-period";
import {
  DAY_MS,
  HOUR_MS,
  QUARTER_MS,
  cover,
  dayBuckets,
  dayStart,
  hourBuckets,
  isTimeZone,
  localDate,
  runs,
  unitsAt,
  zonedToUtc,
} from "../../services/orders/domain/stats-time";

const iso = (t: number) => new Date(t).toISOString();
const rules = { defaultTz: "Asia/Shanghai", defaultCurrency: "CNY", defaultDays: 30, maxDays: 366, now: Date.parse("2026-03-10T20:00:00Z") };

describe("orders: analytics time arithmetic", () => {
  it("local days begin at local midnight, in any zone", () => {
    expect(iso(dayStart("Asia/Shanghai", "2026-03-01"))).toBe("2026-02-28T16:00:00.000Z");
    expect(iso(dayStart("UTC", "2026-03-01"))).toBe("2026-03-01T00:00:00.000Z");
    expect(iso(dayStart("Asia/Kolkata", "2026-03-01"))).toBe("2026-02-28T18:30:00.000Z");
    expect(iso(dayStart("America/New_York", "2026-07-01"))).toBe("2026-07-01T04:00:00.000Z");
    // 23:30 UTC is already the next day in Shanghai
    expect(localDate("Asia/Shanghai", Date.parse("2026-03-01T23:30:00Z"))).toBe("2026-03-02");
    expect(localDate("UTC", Date.parse("2026-03-01T23:30:00Z"))).toBe("2026-03-01");
  });

  it("a DST day has 23 or 25 hours, and the repeated hour is two buckets", () => {
    const spring = hourBuckets("America/New_York", "2026-03-08", "2026-03-08");
    expect(spring).toHaveLength(23);
    expect(spring.map((b) => b.label)).not.toContain("2026-03-08 02:00");
    const autumn = hourBuckets("America/New_York", "2026-11-01", "2026-11-01");
    expect(autumn).toHaveLength(25);
    expect(autumn.filter((b) => b.label.startsWith("2026-11-01 01:00")).map((b) => b.label)).toEqual(["2026-11-01 01:00 -04:00", "2026-11-01 01:00 -05:00"]);
    for (const b of [...spring, ...autumn]) expect(b.end - b.start).toBe(HOUR_MS);
    const days = dayBuckets("America/New_York", "2026-03-07", "2026-03-09");
    expect(days.map((d) => (d.end - d.start) / HOUR_MS)).toEqual([24, 23, 24]);
    // Lord Howe moves by half an hour
    const lh = dayBuckets("Australia/Lord_Howe", "2026-04-05", "2026-04-05");
    expect((lh[0].end - lh[0].start) / 60_000).toBe(24 * 60 + 30);
  });

  it("a wall time skipped by DST moves forward by the gap; a repeated one is its first occurrence", () => {
    expect(iso(zonedToUtc("America/New_York", 2026, 3, 8, 2, 30))).toBe("2026-03-08T07:30:00.000Z"); // 03:30 EDT
    // Santiago skips midnight: the day begins at 01:00
    expect(iso(dayStart("America/Santiago", "2026-09-06"))).toBe("2026-09-06T04:00:00.000Z");
    expect(iso(zonedToUtc("America/New_York", 2026, 11, 1, 1, 30))).toBe("2026-11-01T05:30:00.000Z");
  });

  it("covers a period with the fewest units, months first, and nothing outside it", () => {
    const p = resolvePeriod({ from: "2025-03-01", to: "2026-02-28" }, rules);
    if (!("period" in p)) throw new Error("period");
    const units = cover(p.period.start, p.period.end);
    const total = units.reduce((n, u) => n + (u.end - u.start), 0);
    expect(total).toBe(p.period.end - p.period.start);
    for (let i = 1; i < units.length; i++) expect(units[i].start).toBe(units[i - 1].end);
    // +08:00: 8 hours of Feb 28 2025 (UTC), 11 whole months, Feb 1..27 2026 as days, 16 hours of Feb 28
    const levels = units.map((u) => u.level).join("");
    expect(levels).toBe("H".repeat(8) + "M".repeat(11) + "D".repeat(27) + "H".repeat(16));
    expect(runs(units).map((r) => r.level)).toEqual(["H", "H", "D", "M"]);
    const india = cover(dayStart("Asia/Kolkata", "2026-03-01"), dayStart("Asia/Kolkata", "2026-03-02"));
    expect(india.filter((u) => u.level === "Q")).toHaveLength(4);
    expect(() => cover(1, DAY_MS)).toThrow(RangeError);
  });

  it("counts an instant in exactly one unit of each level", () => {
    const at = Date.parse("2026-01-31T23:59:59.999Z");
    const u = unitsAt(at);
    expect(u.map((x) => [x.level, iso(x.start), iso(x.end)])).toEqual([
      ["Q", "2026-01-31T23:45:00.000Z", "2026-02-01T00:00:00.000Z"],
      ["H", "2026-01-31T23:00:00.000Z", "2026-02-01T00:00:00.000Z"],
      ["D", "2026-01-31T00:00:00.000Z", "2026-02-01T00:00:00.000Z"],
      ["M", "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"],
    ]);
    expect(QUARTER_MS * 4).toBe(HOUR_MS);
  });

  it("checks the period: dates, order, length and the time zone", () => {
    const ok = resolvePeriod({}, rules);
    expect("period" in ok && [ok.period.from, ok.period.to, ok.period.tz, ok.period.currency]).toEqual(["2026-02-10", "2026-03-11", "Asia/Shanghai", "CNY"]);
    expect(resolvePeriod({ from: "2026-02-30" }, rules)).toEqual({ errors: [{ field: "from", message: expect.any(String) }] });
    expect(resolvePeriod({ from: "2026-03-02", to: "2026-03-01" }, rules)).toEqual({ errors: [{ field: "from", message: expect.any(String) }] });
    expect(resolvePeriod({ from: "2024-01-01", to: "2026-03-01" }, rules)).toEqual({ errors: [{ field: "to", message: expect.any(String) }] });
    expect(resolvePeriod({ tz: "Mars/Olympus" }, rules)).toEqual({ errors: [{ field: "tz", message: expect.any(String) }] });
    expect(isTimeZone("Europe/Paris")).toBe(true);
    // local mean time of 1900 is not a quarter-hour offset
    expect(resolvePeriod({ from: "1900-01-01", to: "1900-01-02", tz: "Asia/Shanghai" }, rules)).toEqual({ errors: [{ field: "tz", message: expect.any(String) }] });
  });
});
