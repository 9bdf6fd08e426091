/** Pure rules of a flash sale: its phase at a time, and what an admin may publish. */
import type { EventPhase } from "../seckill.contracts";
import { formatMoney } from "../../shared/money";

export type StoredStatus = "SCHEDULED" | "ENDING" | "ENDED" | "CANCELLED";

export function phaseOf(e: { status: string; startAt: Date; endAt: Date }, now = Date.now()): EventPhase {
  if (e.status === "CANCELLED") return "cancelled";
  if (e.status !== "SCHEDULED" || now >= e.endAt.getTime()) return "ended";
  return now < e.startAt.getTime() ? "upcoming" : "active";
}

/**
 * `phaseOf` as a SQL condition over seckill_events at `now` (the admin list pages in the
 * database). Keep the two in step: test/unit covers both on the same rows.
 */
export function phaseCondition(phase: EventPhase, now: Date): { sql: string; args: unknown[] } {
  switch (phase) {
    case "cancelled":
      return { sql: "status = 'CANCELLED'", args: [] };
    case "ended":
      return { sql: "status NOT IN ('CANCELLED', 'PENDING') AND (status <> 'SCHEDULED' OR end_at <= ?)", args: [now] };
    case "upcoming":
      return { sql: "status = 'SCHEDULED' AND end_at > ? AND start_at > ?", args: [now, now] };
    case "active":
    default:
      return { sql: "status = 'SCHEDULED' AND end_at > ? AND start_at <= ?", args: [now, now] };
  }
}

export interface DraftSale {
  price: number;
  quantity: number;
  perUserLimit: number;
  startAt: Date;
  endAt: Date;
}

/** Field problems of a draft (422), in the validator's shape. */
export function draftProblems(d: DraftSale, now = Date.now()): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  if (d.quantity < 1) out.push({ field: "quantity", message: "a sale needs at least one unit" });
  if (d.perUserLimit < 1) out.push({ field: "perUserLimit", message: "each buyer must be allowed at least one unit" });
  if (d.endAt.getTime() <= d.startAt.getTime()) out.push({ field: "endAt", message: "the sale must end after it starts" });
  if (d.endAt.getTime() <= now) out.push({ field: "endAt", message: "the sale would already be over" });
  return out;
}

/** Warnings an admin sees in the answer (the sale is still created). */
export function draftWarnings(d: DraftSale, skuPrice: number, currency = "CNY"): string[] {
  const w: string[] = [];
  if (d.price >= skuPrice) w.push(`the sale price ${formatMoney(d.price, currency)} is not below the SKU's price ${formatMoney(skuPrice, currency)}`);
  if (d.perUserLimit > d.quantity) w.push(`the per-user limit ${d.perUserLimit} is above the sale's quantity ${d.quantity}`);
  return w;
}

/** Do two windows overlap (half-open [start, end))? */
export function overlaps(a: { startAt: Date; endAt: Date }, b: { startAt: Date; endAt: Date }): boolean {
  return a.startAt.getTime() < b.endAt.getTime() && b.startAt.getTime() < a.endAt.getTime();
}
