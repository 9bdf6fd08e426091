/**
 * Time arithmetic of the sales analytics, pure.
 *
 * The rollup (services/orders/stats-store.ts) keeps sums per UTC unit of four nested sizes:
 * quarter hour (Q), hour (H), day (D) and calendar month (M), each keyed by its start in epoch
 * minutes. Every time zone in use today is offset from UTC by a whole number of quarter hours, so
 * any local day or hour — DST days of 23 or 25 hours included — is an exact union of such units.
 * A period is answered by covering it with the fewest units (largest first) and summing them:
 * a year is about a dozen months plus a few days and hours, whatever the time zone.
 */

export const QUARTER_MS = 15 * 60_000;
export const HOUR_MS = 60 * 60_000;
export const DAY_MS = 24 * HOUR_MS;

export type Level = "Q" | "H" | "D" | "M";
export const LEVELS: readonly Level[] = ["Q", "H", "D", "M"];

export interface Unit {
  level: Level;
  /** start, epoch ms (UTC) */
  start: number;
  end: number;
}

/** A run of consecutive units of one level: [start, end). */
export type Run = Unit;

export interface Bucket {
  /** start, epoch ms */
  start: number;
  /** end (exclusive), epoch ms */
  end: number;
  /** the local day ("2026-03-01") or hour ("2026-03-01 13:00") in the period's time zone */
  label: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** An IANA time zone name this runtime knows ("Asia/Shanghai", "UTC", "America/New_York"). */
export function isTimeZone(tz: string): boolean {
  if (!tz || tz.length > 64) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

interface LocalTime {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

function localParts(tz: string, at: number): LocalTime {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(at))) if (part.type !== "literal") p[part.type] = Number(part.value);
  return { y: p.year, mo: p.month, d: p.day, h: p.hour, mi: p.minute, s: p.second };
}

/** local time − UTC at `at`, ms (+8 h in Asia/Shanghai). */
export function offsetAt(tz: string, at: number): number {
  const l = localParts(tz, at);
  const secondStart = Math.floor(at / 1000) * 1000;
  return Date.UTC(l.y, l.mo - 1, l.d, l.h, l.mi, l.s) - secondStart;
}

/**
 * The instant of a local wall-clock time. A time that does not exist (skipped by a DST change)
 * moves forward by the gap (02:30 → 03:30); a repeated one is its first occurrence.
 */
export function zonedToUtc(tz: string, y: number, mo: number, d: number, h = 0, mi = 0): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  const candidates = new Set<number>();
  for (const probe of [wall - DAY_MS, wall, wall + DAY_MS]) candidates.add(wall - offsetAt(tz, probe));
  const exact = [...candidates].filter((t) => t + offsetAt(tz, t) === wall).sort((a, b) => a - b);
  if (exact.length) return exact[0];
  // in a gap: read with the offset before the change, as clocks do (02:30 → 03:30); a day whose
  // midnight is skipped begins when its clocks start
  return Math.max(...candidates);
}

/** Local calendar date of an instant, "YYYY-MM-DD". */
export function localDate(tz: string, at: number): string {
  const l = localParts(tz, at);
  return `${l.y}-${pad(l.mo)}-${pad(l.d)}`;
}

const pad = (n: number) => String(n).padStart(2, "0");

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parse "YYYY-MM-DD" (a real calendar date) to its parts, else null. */
export function parseDate(v: string): { y: number; mo: number; d: number } | null {
  const m = DATE_RE.exec(v);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return null;
  return { y, mo, d };
}

/** "YYYY-MM-DD" plus `days` (calendar arithmetic, no time zone involved). */
export function addDays(date: string, days: number): string {
  const p = parseDate(date)!;
  const t = new Date(Date.UTC(p.y, p.mo - 1, p.d + days));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

/** Days from `from` to `to` inclusive (1 for one day). */
export function daysBetween(from: string, to: string): number {
  const a = parseDate(from)!;
  const b = parseDate(to)!;
  return Math.round((Date.UTC(b.y, b.mo - 1, b.d) - Date.UTC(a.y, a.mo - 1, a.d)) / DAY_MS) + 1;
}

/** The instant local `date` begins in `tz`. */
export function dayStart(tz: string, date: string): number {
  const p = parseDate(date)!;
  return zonedToUtc(tz, p.y, p.mo, p.d);
}

/** Local days `from`..`to` (inclusive) as buckets. */
export function dayBuckets(tz: string, from: string, to: string): Bucket[] {
  const out: Bucket[] = [];
  let start = dayStart(tz, from);
  let offset = offsetAt(tz, start);
  for (let date = from; date <= to; ) {
    const next = addDays(date, 1);
    // most days keep yesterday's offset: two probes confirm it, a DST day takes the long way
    const p = parseDate(next)!;
    const guess = Date.UTC(p.y, p.mo - 1, p.d) - offset;
    const same = offsetAt(tz, guess - 1) === offset && offsetAt(tz, guess) === offset;
    const end = same ? guess : dayStart(tz, next);
    if (!same) offset = offsetAt(tz, end);
    out.push({ start, end, label: date });
    date = next;
    start = end;
  }
  return out;
}

/**
 * Local hours of the days `from`..`to` as buckets. Built from quarter hours, so a DST change (of
 * an hour or of 30 minutes) gives the day its real number of hours; the repeated hour of an
 * autumn change is two buckets (their labels carry the offset).
 */
export function hourBuckets(tz: string, from: string, to: string): Bucket[] {
  const start = dayStart(tz, from);
  const end = dayStart(tz, addDays(to, 1));
  const out: Bucket[] = [];
  let cur: { key: string; bucket: Bucket } | null = null;
  // a day whose offset is the same at both ends has no change inside (zones change at most
  // twice a year): one probe per day instead of one per quarter hour
  const days = dayBuckets(tz, from, to);
  const steady = new Map<number, number>();
  for (const d of days) {
    const o = offsetAt(tz, d.start);
    if (o === offsetAt(tz, d.end - 1)) steady.set(d.start, o);
  }
  let day = 0;
  for (let t = start; t < end; t += QUARTER_MS) {
    while (t >= days[day].end) day++;
    const offset = steady.get(days[day].start) ?? offsetAt(tz, t);
    const local = new Date(t + offset);
    const label = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:00`;
    const key = `${label}|${offset}`;
    if (cur && cur.key === key) cur.bucket.end = t + QUARTER_MS;
    else {
      cur = { key, bucket: { start: t, end: t + QUARTER_MS, label } };
      out.push(cur.bucket);
    }
  }
  const labels = new Map<string, number>();
  for (const b of out) labels.set(b.label, (labels.get(b.label) ?? 0) + 1);
  for (const b of out) if (labels.get(b.label)! > 1) b.label += ` ${formatOffset(offsetAt(tz, b.start))}`;
  return out;
}

export function formatOffset(ms: number): string {
  const sign = ms < 0 ? "-" : "+";
  const m = Math.abs(ms) / 60_000;
  return `${sign}${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}

const monthStart = (t: number) => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};
const nextMonth = (t: number) => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};

/** The units of each level that contain instant `at` (where one event is counted). */
export function unitsAt(at: number): Unit[] {
  const q = Math.floor(at / QUARTER_MS) * QUARTER_MS;
  const h = Math.floor(at / HOUR_MS) * HOUR_MS;
  const d = Math.floor(at / DAY_MS) * DAY_MS;
  const m = monthStart(at);
  return [
    { level: "Q", start: q, end: q + QUARTER_MS },
    { level: "H", start: h, end: h + HOUR_MS },
    { level: "D", start: d, end: d + DAY_MS },
    { level: "M", start: m, end: nextMonth(m) },
  ];
}

/**
 * The fewest units that exactly cover [a, b), largest first: months, then days, hours and
 * quarter hours at the edges. Both ends must fall on a quarter hour.
 */
export function cover(a: number, b: number): Unit[] {
  if (a % QUARTER_MS !== 0 || b % QUARTER_MS !== 0) throw new RangeError("period ends must fall on a quarter hour");
  const out: Unit[] = [];
  let t = a;
  while (t < b) {
    let u: Unit;
    if (t === monthStart(t) && nextMonth(t) <= b) u = { level: "M", start: t, end: nextMonth(t) };
    else if (t % DAY_MS === 0 && t + DAY_MS <= b) u = { level: "D", start: t, end: t + DAY_MS };
    else if (t % HOUR_MS === 0 && t + HOUR_MS <= b) u = { level: "H", start: t, end: t + HOUR_MS };
    else u = { level: "Q", start: t, end: t + QUARTER_MS };
    out.push(u);
    t = u.end;
  }
  return out;
}

/** Units merged into runs of consecutive units of one level (few ranges to query). */
export function runs(units: Unit[]): Run[] {
  const out: Run[] = [];
  for (const level of LEVELS) {
    const list = units.filter((u) => u.level === level).sort((x, y) => x.start - y.start);
    let last: Run | null = null;
    for (const u of list) {
      if (last && last.end === u.start) last.end = u.end;
      else out.push((last = { ...u }));
    }
  }
  return out;
}

/** epoch ms → the rollup's key (epoch minutes) */
export const toKey = (ms: number) => Math.floor(ms / 60_000);
export const fromKey = (key: number) => key * 60_000;
