/**
 * What other services may call on `marketing` (coupons, promotions, points) and what it consumes.
 * Checkout asks for the offers that apply to its lines (`OFFERS`), prices them with the pure
 * pricing module (services/orders/domain/pricing.ts), then takes the holds marketing owns, keyed by
 * the order number and idempotent both ways: a coupon lock (UNUSED → LOCKED) and frozen points.
 * Payment turns them final (coupon USED, points spent, points earned) through `order.paid`;
 * cancellation and expiry give them back through `order.cancelled`; refunds return points through
 * `order.refunded`. Callers branch on `err.type` (COUPON_NOT_FOUND, COUPON_NOT_APPLICABLE,
 * INSUFFICIENT_POINTS, …).
 */

export const MarketingActions = {
  /** the promotions, the caller's coupon and points balance that apply to some lines */
  OFFERS: "marketing.offers",
  LOCK_COUPON: "marketing.lockCoupon",
  RELEASE_COUPON: "marketing.releaseCoupon",
  FREEZE_POINTS: "marketing.freezePoints",
  UNFREEZE_POINTS: "marketing.unfreezePoints",
} as const;

/** Consumer groups of marketing on the order channels (each runs its handlers once per event). */
export const MarketingGroups = { COUPONS: "marketing-coupons", POINTS: "marketing-points" } as const;

/** Which goods an offer applies to; absent or both empty: every product. */
export interface OfferScope {
  categoryIds?: number[];
  productIds?: number[];
}

export type CouponType = "FIXED" | "PERCENT";
export type CouponStatus = "UNUSED" | "LOCKED" | "USED" | "EXPIRED";
export type PromotionType = "FULL_REDUCTION" | "DISCOUNT";

/** FULL_REDUCTION: spend `threshold`, get `off` (fen) off. DISCOUNT: spend `threshold`, pay `rateBp` / 10000. */
export type PromotionRule = { threshold: number; off: number } | { threshold: number; rateBp: number };

export interface PromotionOffer {
  id: number;
  name: string;
  type: PromotionType;
  /** tiers; the highest threshold reached applies */
  rules: PromotionRule[];
  scope: OfferScope;
}

export interface CouponOffer {
  /** the user coupon's id (what checkout's `couponId` names) */
  id: number;
  templateId: number;
  name: string;
  type: CouponType;
  /** FIXED: fen off; PERCENT: basis points off (1500 = 15 % off) */
  value: number;
  /** minimum in-scope amount (after promotions), fen */
  threshold: number;
  scope: OfferScope;
  validTo: string;
}

export interface OffersParams {
  userId: number;
  /** a coupon the caller wants to use: must be theirs, UNUSED and valid now (else COUPON_NOT_FOUND / COUPON_NOT_APPLICABLE) */
  couponId?: number;
  productIds: number[];
  categoryIds: number[];
}

export interface OffersResult {
  /** active, enabled promotions whose scope touches the given products or categories */
  promotions: PromotionOffer[];
  coupon: CouponOffer | null;
  /** spendable points (frozen points excluded) */
  pointsBalance: number;
}

export interface LockCouponParams {
  userId: number;
  couponId: number;
  orderNo: string;
}
export interface ReleaseCouponParams {
  orderNo: string;
  reason: string;
}
export interface FreezePointsParams {
  userId: number;
  points: number;
  orderNo: string;
}
export interface UnfreezePointsParams {
  orderNo: string;
  reason: string;
}

/** Points: 100 points = 1 yuan (100 fen), so one point is worth one fen. */
export const FEN_PER_POINT = 1;
/** Points earned per whole yuan paid. */
export const POINTS_PER_YUAN = 1;
