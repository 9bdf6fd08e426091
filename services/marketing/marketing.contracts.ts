/**
 * What other services may call on `marketing` (coupons, promotions, points) and what it consumes.
 * Checkout asks for the offers that apply to its lines (`OFFERS`), prices them with the pure
 * pricing module (services/orders/domain/pricing.ts), then takes the holds marketing owns, keyed by
 * the order number and idempotent both ways: a coupon lock (UNUSED → LOCKED) and frozen points.
 * Payment turns them final (coupon USED, points spent, points earned) through `order.paid`;
 * cancellation and expiry give them back through `order.cancelled`; refunds return points through
 * `order.refunded`. Callers branch on `err.type` (COUPON_NOT_FOUND, COUPON_NOT_APPLICABLE,
 * COUPON_EXPIRED, INSUFFICIENT_POINTS, …).
 */
import { Page, s, schemaOf } from "../shared/schema";
import { action } from "../shared/actions";
import type { PointsHoldResult } from "./points.contracts";

export const MarketingActions = {
  /** the promotions, the caller's coupon and points balance that apply to some lines */
  OFFERS: "marketing.offers",
  LOCK_COUPON: "marketing.lockCoupon",
  RELEASE_COUPON: "marketing.releaseCoupon",
  FREEZE_POINTS: "marketing.freezePoints",
  UNFREEZE_POINTS: "marketing.unfreezePoints",
  EXPIRING_COUPONS: "marketing.expiringCoupons",
} as const;

/** Durable channels marketing publishes through its outbox. */
export const CouponEvents = {
  /** a user claimed a coupon (messages tells them it is in their account) */
  CLAIMED: "coupon.claimed",
} as const;

export interface CouponClaimedEvent {
  couponId: number;
  templateId: number;
  userId: number;
  name: string;
  validTo: string;
}

/** marketing.expiringCoupons (internal): UNUSED coupons ending within (now, before], paged by id. */
export interface ExpiringCouponsParams {
  before: string;
  afterId?: number;
  limit?: number;
}
export interface ExpiringCoupon {
  couponId: number;
  userId: number;
  templateId: number;
  name: string;
  validTo: string;
}

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
  /** a coupon the caller wants to use: must be theirs, UNUSED and valid now (else COUPON_NOT_FOUND / COUPON_EXPIRED / COUPON_NOT_APPLICABLE with `data.reason` IN_USE, USED or NOT_YET_VALID) */
  couponId?: number;
  /** the order being placed: a coupon already LOCKED for it counts as available (a retried checkout) */
  orderNo?: string;
  productIds: number[];
  /** the lines' categories with their ancestors: a scope naming a parent category covers its sub-categories */
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
/** lockCoupon's answer: the coupon is held for `orderNo` (LOCKED, or USED once that order was paid). */
export interface CouponHold {
  couponId: number;
  orderNo: string;
  status: CouponStatus;
}
export interface ReleaseCouponParams {
  orderNo: string;
  reason: string;
}
export interface ReleaseCouponResult {
  /** coupons that went back to UNUSED (0 when nothing was locked for the order: a repeat) */
  released: number;
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

// ── REST data (coupons and promotions) ───────────────────────────────────────────────────────

/** A coupon template as the admin sees it. */
export interface CouponTemplateDto {
  id: number;
  name: string;
  type: CouponType;
  /** FIXED: fen off; PERCENT: basis points off */
  value: number;
  /** minimum in-scope amount, fen; 0: no minimum */
  threshold: number;
  scope: OfferScope;
  validFrom: string;
  validTo: string;
  totalQuantity: number;
  claimed: number;
  remaining: number;
  perUserLimit: number;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

/** GET /coupon-templates: what a buyer may claim now. */
export interface ClaimableTemplateDto {
  id: number;
  name: string;
  type: CouponType;
  value: number;
  threshold: number;
  scope: OfferScope;
  validFrom: string;
  validTo: string;
  perUserLimit: number;
  remaining: number;
}

/** A coupon a user holds. EXPIRED is computed on read: an UNUSED coupon past its validTo. */
export interface UserCouponDto {
  id: number;
  templateId: number;
  name: string;
  type: CouponType;
  value: number;
  threshold: number;
  scope: OfferScope;
  status: CouponStatus;
  validFrom: string;
  validTo: string;
  /** the order that holds (LOCKED) or used (USED) it */
  orderNo: string | null;
  claimedAt: string;
}

export interface PromotionDto {
  id: number;
  name: string;
  type: PromotionType;
  rules: PromotionRule[];
  scope: OfferScope;
  startAt: string;
  endAt: string;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

/** GET /promotions: the promotions running now. */
export interface ActivePromotionDto {
  id: number;
  name: string;
  type: PromotionType;
  rules: PromotionRule[];
  scope: OfferScope;
  startAt: string;
  endAt: string;
}

// ── response schemas (OpenAPI), checked against the types above by tsc ─────────────────────

const id = s.integer({ minimum: 1 });
const couponType = s.enum(["FIXED", "PERCENT"]);
const promotionType = s.enum(["FULL_REDUCTION", "DISCOUNT"]);

const OfferScopeSchema = schemaOf<OfferScope>()(
  s.named("OfferScope", s.object({}, { categoryIds: s.array(s.integer({ minimum: 1 })), productIds: s.array(s.integer({ minimum: 1 })) })),
);
const PromotionRuleSchema = schemaOf<PromotionRule>()(
  s.named(
    "PromotionRule",
    s.oneOf(
      s.object({ threshold: s.money(), off: s.money() }),
      s.object({ threshold: s.money(), rateBp: s.integer({ minimum: 1, description: "share of the price paid, basis points (9000 = pay 90 %)" }) }),
    ),
  ),
);
const couponValue = s.integer({ minimum: 1, description: "FIXED: fen off; PERCENT: basis points off (1500 = 15 % off)" });
/** the terms a buyer and an admin both see */
const templateTerms = {
  name: s.string(),
  type: couponType,
  value: couponValue,
  threshold: s.money(),
  scope: OfferScopeSchema,
  validFrom: s.dateTime(),
  validTo: s.dateTime(),
};

export const CouponTemplateSchema = schemaOf<CouponTemplateDto>()(
  s.named(
    "CouponTemplate",
    s.object({
      id,
      ...templateTerms,
      totalQuantity: s.integer({ minimum: 1 }),
      claimed: s.integer({ minimum: 0 }),
      remaining: s.integer({ minimum: 0 }),
      perUserLimit: s.integer({ minimum: 1 }),
      enabled: s.boolean(),
      createdAt: s.dateTime(),
      updatedAt: s.dateTime(),
    }),
  ),
);
export const CouponTemplatePageSchema = schemaOf<Page<CouponTemplateDto>>()(s.page(CouponTemplateSchema));

export const ClaimableTemplateSchema = schemaOf<ClaimableTemplateDto>()(
  s.named(
    "ClaimableCouponTemplate",
    s.object({
      id,
      ...templateTerms,
      perUserLimit: s.integer({ minimum: 1 }),
      remaining: s.integer({ minimum: 0 }),
    }),
  ),
);
export const ClaimableTemplatePageSchema = schemaOf<Page<ClaimableTemplateDto>>()(s.page(ClaimableTemplateSchema));

export const UserCouponSchema = schemaOf<UserCouponDto>()(
  s.named(
    "UserCoupon",
    s.object({
      id,
      templateId: id,
      ...templateTerms,
      status: s.enum(["UNUSED", "LOCKED", "USED", "EXPIRED"]),
      orderNo: s.nullable(s.string()),
      claimedAt: s.dateTime(),
    }),
  ),
);
export const UserCouponPageSchema = schemaOf<Page<UserCouponDto>>()(s.page(UserCouponSchema));

/** what a promotion is, as the admin and the storefront both see it */
const promotionTerms = {
  name: s.string(),
  type: promotionType,
  rules: s.array(PromotionRuleSchema),
  scope: OfferScopeSchema,
  startAt: s.dateTime(),
  endAt: s.dateTime(),
};

export const PromotionSchema = schemaOf<PromotionDto>()(
  s.named(
    "Promotion",
    s.object({
      id,
      ...promotionTerms,
      enabled: s.boolean(),
      createdAt: s.dateTime(),
      updatedAt: s.dateTime(),
    }),
  ),
);
export const PromotionPageSchema = schemaOf<Page<PromotionDto>>()(s.page(PromotionSchema));

export const ActivePromotionSchema = schemaOf<ActivePromotionDto>()(
  s.named(
    "ActivePromotion",
    s.object({ id, ...promotionTerms }),
  ),
);

export const DeletedSchema = schemaOf<{ deleted: boolean }>()(s.object({ deleted: s.boolean() }));

/** Typed descriptors of the actions above (services/shared/actions.ts). */
export const MarketingCalls = {
  offers: action<OffersParams, OffersResult>(MarketingActions.OFFERS),
  lockCoupon: action<LockCouponParams, CouponHold>(MarketingActions.LOCK_COUPON),
  releaseCoupon: action<ReleaseCouponParams, ReleaseCouponResult>(MarketingActions.RELEASE_COUPON),
  freezePoints: action<FreezePointsParams, PointsHoldResult>(MarketingActions.FREEZE_POINTS),
  unfreezePoints: action<UnfreezePointsParams, PointsHoldResult>(MarketingActions.UNFREEZE_POINTS),
  expiringCoupons: action<ExpiringCouponsParams, ExpiringCoupon[]>(MarketingActions.EXPIRING_COUPONS),
} as const;
