/**
 * Order pricing over integers (fen). The cart view, `POST /cart/quote` and checkout all call
 * `priceOrder`, so the number a buyer sees in the cart, in the quote and in the order is the same.
 *
 * Order of application (API.md "Marketing"):
 * 1. line subtotal = unitPrice × quantity; itemsTotal = Σ subtotals;
 * 2. promotions, on the lines in their scope. Each line gets at most one promotion: of the
 *    promotions still unused, the one giving the largest discount on the lines of its scope not
 *    yet taken wins them all (ties: the lower id); repeat over the remaining lines until no
 *    promotion gives anything. FULL_REDUCTION: the highest tier whose threshold the lines reach
 *    takes `off` (never more than the lines' amount). DISCOUNT: the highest tier reached pays
 *    `rateBp` / 10000; the discount is rounded down to the fen;
 * 3. the coupon, on its in-scope lines after their promotions: the threshold is checked against
 *    that amount; FIXED takes `value` (never more than the amount), PERCENT takes `value` basis
 *    points of it, rounded down to the fen;
 * 4. points (1 point = 1 fen), at most 50 % (rounded down) of the goods amount after discounts and
 *    never more than the balance;
 * 5. shipping: free when the goods amount after discounts (before points, which are a way of
 *    paying) is at least 99 yuan, else 10 yuan; nothing to ship, nothing to pay.
 * payable = itemsTotal − discount − pointsDeduction + shippingFee = Σ line payable + shippingFee.
 *
 * Each discount is split over the lines it applies to in proportion to what they still cost, by
 * the largest-remainder method: every line gets the floor of its exact share, and the fen left
 * over go one each to the lines with the largest remainders (ties: the earlier line). The shares
 * add up to the discount exactly and no line's share exceeds what the line costs.
 *
 * Failures are typed client errors (PricingError): CURRENCY_MISMATCH, PRICING_INVALID,
 * COUPON_NOT_APPLICABLE, INSUFFICIENT_POINTS, POINTS_CAP_EXCEEDED.
 */

import { Errors } from "moleculer";
import type { CouponOffer, OfferScope, PromotionOffer, PromotionRule, PromotionType, CouponType } from "../../marketing/marketing.contracts";
import { FEN_PER_POINT } from "../../marketing/marketing.contracts";
import { ERRORS } from "../../shared/errors";

export const DEFAULT_CURRENCY = "CNY";
/** Goods amount from which shipping is free: 99 yuan. */
export const FREE_SHIPPING_FROM = 99_00;
/** Flat shipping fee below that: 10 yuan. */
export const SHIPPING_FEE = 10_00;
/** Points may pay at most this share (basis points) of the goods amount after discounts. */
export const MAX_POINTS_SHARE_BP = 5000;
const BP = 10_000;

export interface PriceInput {
  skuId: number;
  productId: number;
  /** the SKU's own category */
  categoryId: number;
  /** the category and its ancestors (a scope naming a parent category covers its sub-categories); default [categoryId] */
  categoryPath?: number[];
  unitPrice: number;
  quantity: number;
  currency: string;
}

export interface Offers {
  promotions: PromotionOffer[];
  coupon: CouponOffer | null;
  /** points the buyer wants to spend */
  usePoints: number;
  /** points the buyer may spend */
  pointsBalance: number;
}

export const NO_OFFERS: Offers = Object.freeze({ promotions: [], coupon: null, usePoints: 0, pointsBalance: 0 }) as Offers;

export interface LineShares {
  /** the promotion applied to this line, if any */
  promotionId: number | null;
  promotionDiscount: number;
  couponDiscount: number;
  pointsDeduction: number;
  /** subtotal − promotionDiscount − couponDiscount − pointsDeduction */
  payable: number;
}

export type PricedLine<L extends PriceInput = PriceInput> = L & { subtotal: number } & LineShares;

export interface Totals {
  itemsTotal: number;
  /** promotions + coupon */
  discount: number;
  pointsDeduction: number;
  shippingFee: number;
  payable: number;
  currency: string;
}

export interface AppliedPromotion {
  id: number;
  name: string;
  type: PromotionType;
  discount: number;
  skuIds: number[];
}

export interface AppliedCoupon {
  id: number;
  templateId: number;
  name: string;
  type: CouponType;
  value: number;
  discount: number;
}

export interface PricedOrder<L extends PriceInput = PriceInput> {
  lines: PricedLine<L>[];
  totals: Totals;
  promotions: AppliedPromotion[];
  coupon: AppliedCoupon | null;
  /** points spent (= pointsDeduction / FEN_PER_POINT) */
  pointsUsed: number;
}

export type PricingErrorType = "CURRENCY_MISMATCH" | "PRICING_INVALID" | "COUPON_NOT_APPLICABLE" | "INSUFFICIENT_POINTS" | "POINTS_CAP_EXCEEDED";

/**
 * Lines and offers that cannot be priced together are an answer for the buyer (a typed 4xx from
 * cart, quote and checkout alike), not a crash.
 */
export class PricingError extends Errors.MoleculerClientError {
  constructor(type: PricingErrorType, message: string, data: Record<string, unknown> = {}) {
    super(message, ERRORS[type].status, type, data);
  }
}

function assertAmount(v: number, what: string) {
  if (!Number.isSafeInteger(v) || v < 0) throw new PricingError("PRICING_INVALID", `${what} must be a non-negative integer amount, got ${v}`);
}

/** floor(a × b / c) exactly, for safe integers whose product is not. */
function mulDiv(a: number, b: number, c: number): number {
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/** Shipping fee for a goods amount (after discounts). */
export function shippingFeeFor(goodsAmount: number, lineCount: number): number {
  if (lineCount === 0) return 0;
  return goodsAmount >= FREE_SHIPPING_FROM ? 0 : SHIPPING_FEE;
}

/**
 * Split `total` over `weights` in proportion, by the largest-remainder method: the shares add up
 * to `total` exactly, and with total ≤ Σ weights no share exceeds its weight. Ties in the
 * remainder go to the earlier index.
 */
export function splitLargestRemainder(total: number, weights: readonly number[]): number[] {
  assertAmount(total, "amount to split");
  weights.forEach((w, i) => assertAmount(w, `weight ${i}`));
  const sum = weights.reduce((s, w) => s + w, 0);
  if (total === 0) return weights.map(() => 0);
  if (sum === 0) throw new PricingError("PRICING_INVALID", `cannot split ${total} over nothing`);
  const W = BigInt(sum);
  const T = BigInt(total);
  const shares = weights.map((w) => (T * BigInt(w)) / W);
  const remainders = weights.map((w, i) => ({ i, r: (T * BigInt(w)) % W }));
  let left = T - shares.reduce((s, x) => s + x, 0n);
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left === 0n) break;
    shares[i] += 1n;
    left -= 1n;
  }
  return shares.map(Number);
}

/** Does an offer's scope cover the line? No scope (or an empty one): every line. */
export function inScope(scope: OfferScope | undefined, line: Pick<PriceInput, "productId" | "categoryId" | "categoryPath">): boolean {
  const products = scope?.productIds ?? [];
  const categories = scope?.categoryIds ?? [];
  if (!products.length && !categories.length) return true;
  if (products.includes(line.productId)) return true;
  const path = line.categoryPath?.length ? line.categoryPath : [line.categoryId];
  return path.some((c) => categories.includes(c));
}

const isReduction = (r: PromotionRule): r is { threshold: number; off: number } => "off" in r;

/** What a promotion takes off `amount` (fen): its highest tier reached, never more than the amount. */
export function promotionDiscount(p: PromotionOffer, amount: number): number {
  let best = 0;
  let bestThreshold = -1;
  for (const r of p.rules) {
    assertAmount(r.threshold, `threshold of promotion ${p.id}`);
    if (amount < r.threshold || r.threshold <= bestThreshold) continue;
    bestThreshold = r.threshold;
    if (p.type === "FULL_REDUCTION" && isReduction(r)) {
      assertAmount(r.off, `off of promotion ${p.id}`);
      best = Math.min(r.off, amount);
    } else if (p.type === "DISCOUNT" && !isReduction(r)) {
      if (!Number.isSafeInteger(r.rateBp) || r.rateBp < 0 || r.rateBp > BP) throw new PricingError("PRICING_INVALID", `rate of promotion ${p.id} must be 0-10000 basis points`);
      best = mulDiv(amount, BP - r.rateBp, BP);
    } else {
      throw new PricingError("PRICING_INVALID", `promotion ${p.id} has a rule that does not fit its type ${p.type}`);
    }
  }
  return best;
}

/** What a coupon takes off the in-scope `amount` (after promotions), or why it does not apply. */
export function couponDiscount(c: CouponOffer, amount: number): number {
  assertAmount(c.value, `value of coupon ${c.id}`);
  assertAmount(c.threshold, `threshold of coupon ${c.id}`);
  if (amount === 0) throw new PricingError("COUPON_NOT_APPLICABLE", "the coupon applies to none of these items", { couponId: c.id });
  if (amount < c.threshold) {
    throw new PricingError("COUPON_NOT_APPLICABLE", `the coupon needs ${c.threshold} fen of eligible items; these come to ${amount}`, { couponId: c.id, threshold: c.threshold, amount });
  }
  if (c.type === "FIXED") return Math.min(c.value, amount);
  if (c.value > BP) throw new PricingError("PRICING_INVALID", `coupon ${c.id} takes more than 100 %`);
  return mulDiv(amount, c.value, BP);
}

interface Work<L extends PriceInput> {
  line: L;
  subtotal: number;
  promotionId: number | null;
  promotionDiscount: number;
  couponDiscount: number;
  pointsDeduction: number;
}

const remaining = (w: Work<PriceInput>) => w.subtotal - w.promotionDiscount - w.couponDiscount - w.pointsDeduction;

/** Hand a discount out over `lines` by what each still costs; returns the shares. */
function spread<L extends PriceInput>(lines: Work<L>[], total: number): number[] {
  return splitLargestRemainder(total, lines.map(remaining));
}

function applyPromotions<L extends PriceInput>(work: Work<L>[], promotions: readonly PromotionOffer[]): AppliedPromotion[] {
  const applied: AppliedPromotion[] = [];
  const unused = [...promotions].sort((a, b) => a.id - b.id);
  for (;;) {
    let best: { p: PromotionOffer; lines: Work<L>[]; discount: number } | null = null;
    for (const p of unused) {
      const lines = work.filter((w) => w.promotionId === null && inScope(p.scope, w.line));
      if (!lines.length) continue;
      const discount = promotionDiscount(p, lines.reduce((s, w) => s + w.subtotal, 0));
      if (discount > 0 && (!best || discount > best.discount)) best = { p, lines, discount };
    }
    if (!best) return applied;
    const shares = spread(best.lines, best.discount);
    best.lines.forEach((w, i) => {
      w.promotionId = best!.p.id;
      w.promotionDiscount = shares[i];
    });
    unused.splice(unused.indexOf(best.p), 1);
    applied.push({ id: best.p.id, name: best.p.name, type: best.p.type, discount: best.discount, skuIds: best.lines.map((w) => w.line.skuId) });
  }
}

function applyCoupon<L extends PriceInput>(work: Work<L>[], c: CouponOffer): AppliedCoupon {
  const lines = work.filter((w) => inScope(c.scope, w.line));
  const discount = couponDiscount(c, lines.reduce((s, w) => s + remaining(w), 0));
  spread(lines, discount).forEach((share, i) => (lines[i].couponDiscount = share));
  return { id: c.id, templateId: c.templateId, name: c.name, type: c.type, value: c.value, discount };
}

/** The most points these goods (after discounts) may be paid with. */
export function maxPointsFor(goodsAmount: number): number {
  return Math.floor(mulDiv(goodsAmount, MAX_POINTS_SHARE_BP, BP) / FEN_PER_POINT);
}

function applyPoints<L extends PriceInput>(work: Work<L>[], usePoints: number, balance: number): number {
  if (!Number.isSafeInteger(usePoints) || usePoints < 0) throw new PricingError("PRICING_INVALID", `points to use must be a non-negative integer, got ${usePoints}`);
  if (usePoints === 0) return 0;
  if (usePoints > balance) throw new PricingError("INSUFFICIENT_POINTS", `${usePoints} points asked for, ${balance} available`, { requested: usePoints, balance });
  const goods = work.reduce((s, w) => s + remaining(w), 0);
  const max = maxPointsFor(goods);
  if (usePoints > max) {
    throw new PricingError("POINTS_CAP_EXCEEDED", `points may pay at most half of the goods: ${max} points here`, { requested: usePoints, max });
  }
  const deduction = usePoints * FEN_PER_POINT;
  spread(work, deduction).forEach((share, i) => (work[i].pointsDeduction = share));
  return deduction;
}

export function priceOrder<L extends PriceInput>(lines: readonly L[], offers: Offers = NO_OFFERS): PricedOrder<L> {
  const currency = lines[0]?.currency ?? DEFAULT_CURRENCY;
  const work: Work<L>[] = lines.map((l) => {
    assertAmount(l.unitPrice, `unit price of SKU ${l.skuId}`);
    if (!Number.isSafeInteger(l.quantity) || l.quantity <= 0) throw new PricingError("PRICING_INVALID", `quantity of SKU ${l.skuId} must be a positive integer`);
    if (l.currency !== currency) {
      throw new PricingError("CURRENCY_MISMATCH", `mixed currencies (${currency}, ${l.currency}) in one order`, { currencies: [currency, l.currency].sort(), skuId: l.skuId });
    }
    const subtotal = l.unitPrice * l.quantity;
    assertAmount(subtotal, `subtotal of SKU ${l.skuId}`);
    return { line: l, subtotal, promotionId: null, promotionDiscount: 0, couponDiscount: 0, pointsDeduction: 0 };
  });
  const itemsTotal = work.reduce((s, w) => s + w.subtotal, 0);
  assertAmount(itemsTotal, "items total");

  const promotions = applyPromotions(work, offers.promotions);
  const coupon = offers.coupon ? applyCoupon(work, offers.coupon) : null;
  const discount = work.reduce((s, w) => s + w.promotionDiscount + w.couponDiscount, 0);
  const goods = itemsTotal - discount;
  const pointsDeduction = applyPoints(work, offers.usePoints, offers.pointsBalance);
  const shippingFee = shippingFeeFor(goods, work.length);
  const priced = work.map(
    (w): PricedLine<L> => ({
      ...w.line,
      subtotal: w.subtotal,
      promotionId: w.promotionId,
      promotionDiscount: w.promotionDiscount,
      couponDiscount: w.couponDiscount,
      pointsDeduction: w.pointsDeduction,
      payable: remaining(w),
    }),
  );
  return {
    lines: priced,
    totals: { itemsTotal, discount, pointsDeduction, shippingFee, payable: goods - pointsDeduction + shippingFee, currency },
    promotions,
    coupon,
    pointsUsed: pointsDeduction / FEN_PER_POINT,
  };
}
