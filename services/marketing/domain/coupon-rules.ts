/**
 * Coupon rules, pure: which template terms make sense, when a template can be claimed, what
 * status a coupon shows, and whether a coupon can be used by an order now.
 *
 * Life cycle of a coupon: UNUSED → LOCKED (checkout, for one order) → USED (that order paid);
 * LOCKED → UNUSED (the order was cancelled or expired). EXPIRED is not stored: an UNUSED coupon
 * whose validTo has passed shows as EXPIRED, so nothing has to sweep it. A refund leaves a USED
 * coupon USED.
 */
import type { ErrorType } from "../../shared/errors";
import type { CouponStatus, CouponType } from "../marketing.contracts";

/** 100 % in basis points. */
export const BP_WHOLE = 10_000;

export interface Violation {
  type: ErrorType;
  field: string;
  message: string;
}

export interface CouponTerms {
  type: CouponType;
  value: number;
  threshold: number;
  validFrom: Date;
  validTo: Date;
}

export function windowViolation(from: Date, to: Date, fields: [string, string]): Violation | null {
  if (to.getTime() > from.getTime()) return null;
  return { type: "OFFER_WINDOW_INVALID", field: fields[1], message: `${fields[1]} must come after ${fields[0]}` };
}

/**
 * The terms of a template, checked together (each field's own range is the params validator's job).
 * A FIXED coupon may not take more off than its threshold; threshold 0 means "no minimum" (the
 * pricing caps the discount at what it applies to).
 */
export function couponTermsViolation(t: CouponTerms): Violation | null {
  const window = windowViolation(t.validFrom, t.validTo, ["validFrom", "validTo"]);
  if (window) return window;
  if (t.type === "PERCENT" && (t.value < 1 || t.value > BP_WHOLE)) {
    return { type: "COUPON_TERMS_INVALID", field: "value", message: `a PERCENT coupon takes 1..${BP_WHOLE} basis points off (${BP_WHOLE} = 100 %), not ${t.value}` };
  }
  if (t.type === "FIXED" && t.threshold > 0 && t.value > t.threshold) {
    return { type: "COUPON_TERMS_INVALID", field: "threshold", message: `the threshold (${t.threshold}) is below the discount (${t.value}): a FIXED coupon cannot take more off than it requires` };
  }
  return null;
}

export interface ClaimWindow {
  enabled: boolean;
  validFrom: Date;
  validTo: Date;
}

/** Why a template cannot be claimed now (quantity aside), or null. */
export function claimViolation(t: ClaimWindow, now: Date): Violation | null {
  const why = !t.enabled
    ? "this coupon is no longer offered"
    : now < t.validFrom
      ? `this coupon can be claimed from ${t.validFrom.toISOString()}`
      : now >= t.validTo
        ? "this coupon has ended"
        : null;
  return why ? { type: "COUPON_NOT_CLAIMABLE", field: "id", message: why } : null;
}

/** The status a buyer sees. */
export function shownStatus(status: string, validTo: Date, now: Date): CouponStatus {
  return status === "UNUSED" && now >= validTo ? "EXPIRED" : (status as CouponStatus);
}

export interface CouponState {
  status: string;
  orderNo: string | null;
  validFrom: Date;
  validTo: Date;
}

export type Usability = { kind: "available" } | { kind: "held"; status: CouponStatus } | { kind: "refused"; type: ErrorType; reason: string; message: string };

/**
 * Can `orderNo` (or any order, without one) use this coupon now? A coupon already held by that
 * very order (LOCKED, or USED once it was paid) is `held`: taking it again is a no-op.
 */
export function usability(c: CouponState, now: Date, orderNo?: string): Usability {
  if (c.status !== "UNUSED") {
    if (orderNo && c.orderNo === orderNo) return { kind: "held", status: c.status as CouponStatus };
    return c.status === "LOCKED"
      ? { kind: "refused", type: "COUPON_NOT_APPLICABLE", reason: "IN_USE", message: "the coupon is held by another unpaid order" }
      : { kind: "refused", type: "COUPON_NOT_APPLICABLE", reason: "USED", message: "the coupon was already used" };
  }
  if (now >= c.validTo) return { kind: "refused", type: "COUPON_EXPIRED", reason: "EXPIRED", message: `the coupon expired at ${c.validTo.toISOString()}` };
  if (now < c.validFrom) return { kind: "refused", type: "COUPON_NOT_APPLICABLE", reason: "NOT_YET_VALID", message: `the coupon is valid from ${c.validFrom.toISOString()}` };
  return { kind: "available" };
}
