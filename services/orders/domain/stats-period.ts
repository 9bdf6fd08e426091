/**
 * The period an analytics request asks for, checked: local days `from`..`to` in a time zone,
 * as instants [start, end). Pure; errors are returned as field messages for a 422.
 */
import { QUARTER_MS, addDays, dayStart, daysBetween, isTimeZone, localDate, parseDate } from "./stats-time";

export interface PeriodInput {
  from?: string;
  to?: string;
  tz?: string;
  currency?: string;
}

export interface Period {
  from: string;
  to: string;
  tz: string;
  currency: string;
  start: number;
  end: number;
  days: number;
}

export interface PeriodRules {
  /** shop time zone (SHOP_TIMEZONE) */
  defaultTz: string;
  defaultCurrency: string;
  /** days before `to` (inclusive) when `from` is absent: 1 = the day `to` alone */
  defaultDays: number;
  maxDays: number;
  now: number;
}

export type FieldError = { field: string; message: string };

export function resolvePeriod(input: PeriodInput, rules: PeriodRules): { period: Period } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const tz = input.tz ?? rules.defaultTz;
  if (!isTimeZone(tz)) return { errors: [{ field: "tz", message: `unknown time zone "${tz}" (use an IANA name such as Asia/Shanghai)` }] };
  for (const f of ["from", "to"] as const) {
    const v = input[f];
    if (v !== undefined && !parseDate(v)) errors.push({ field: f, message: `${f} must be a calendar date YYYY-MM-DD` });
  }
  if (errors.length) return { errors };
  const to = input.to ?? localDate(tz, rules.now);
  const from = input.from ?? addDays(to, -(rules.defaultDays - 1));
  const days = daysBetween(from, to);
  if (days < 1) return { errors: [{ field: "from", message: "from must not be after to" }] };
  if (days > rules.maxDays) return { errors: [{ field: "to", message: `the period is at most ${rules.maxDays} days` }] };
  const start = dayStart(tz, from);
  const end = dayStart(tz, addDays(to, 1));
  // zones of the past had offsets like +08:05:43 (local mean time); the rollup has quarter hours
  if (start % QUARTER_MS !== 0 || end % QUARTER_MS !== 0) {
    return { errors: [{ field: "tz", message: `${tz} was not offset from UTC by whole quarter hours in this period` }] };
  }
  return { period: { from, to, tz, currency: (input.currency ?? rules.defaultCurrency).toUpperCase(), start, end, days } };
}
