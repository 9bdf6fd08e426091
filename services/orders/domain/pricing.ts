/**
 * Order pricing over integers (fen). The cart view and checkout both call `priceOrder`, so the
 * totals a buyer sees in the cart are the totals the order gets.
 *
 * Rules:
 * - line subtotal = unitPrice × quantity; itemsTotal = Σ subtotals;
 * - discount (promotions + coupon) and pointsDeduction come from marketing (a later issue: 0 now);
 *   both are clamped so the goods amount never goes negative, points to at most 50 % of it;
 * - shipping: free when the goods amount (itemsTotal − discount) is at least 99 yuan (9900 fen),
 *   else a flat 10 yuan (1000 fen); nothing to ship, nothing to pay;
 * - payable = itemsTotal − discount − pointsDeduction + shippingFee.
 * No division happens here, so there is no rounding; a future proration of the discount over
 * lines must split with largest remainders so the shares add up exactly.
 */

import { Errors } from "moleculer";
import { ERRORS } from "../../shared/errors";

export const DEFAULT_CURRENCY = "CNY";
/** Goods amount from which shipping is free: 99 yuan. */
export const FREE_SHIPPING_FROM = 99_00;
/** Flat shipping fee below that: 10 yuan. */
export const SHIPPING_FEE = 10_00;
/** Points may pay at most this share (basis points) of the goods amount. */
export const MAX_POINTS_SHARE_BP = 5000;

export interface PriceInput {
  skuId: number;
  unitPrice: number;
  quantity: number;
  currency: string;
}

export interface PricedLine extends PriceInput {
  subtotal: number;
}

export interface Totals {
  itemsTotal: number;
  discount: number;
  pointsDeduction: number;
  shippingFee: number;
  payable: number;
  currency: string;
}

export interface Adjustments {
  /** promotions + coupon, fen (marketing.quote); 0 until marketing exists */
  discount?: number;
  /** value of the points spent, fen; 0 until marketing exists */
  pointsDeduction?: number;
}

/**
 * Lines that cannot be priced together are an answer for the buyer (a typed 4xx from cart and
 * checkout alike), not a crash: CURRENCY_MISMATCH for mixed currencies, PRICING_INVALID for
 * amounts or quantities that are not whole numbers in range.
 */
export class PricingError extends Errors.MoleculerClientError {
  constructor(type: "CURRENCY_MISMATCH" | "PRICING_INVALID", message: string, data: Record<string, unknown> = {}) {
    super(message, ERRORS[type].status, type, data);
  }
}

function assertAmount(v: number, what: string) {
  if (!Number.isSafeInteger(v) || v < 0) throw new PricingError("PRICING_INVALID", `${what} must be a non-negative integer amount, got ${v}`);
}

/** Shipping fee for a goods amount (after discounts). */
export function shippingFeeFor(goodsAmount: number, lineCount: number): number {
  if (lineCount === 0) return 0;
  return goodsAmount >= FREE_SHIPPING_FROM ? 0 : SHIPPING_FEE;
}

export function priceOrder(lines: readonly PriceInput[], adj: Adjustments = {}): { lines: PricedLine[]; totals: Totals } {
  const currency = lines[0]?.currency ?? DEFAULT_CURRENCY;
  const priced = lines.map((l) => {
    assertAmount(l.unitPrice, `unit price of SKU ${l.skuId}`);
    if (!Number.isSafeInteger(l.quantity) || l.quantity <= 0) throw new PricingError("PRICING_INVALID", `quantity of SKU ${l.skuId} must be a positive integer`);
    if (l.currency !== currency) {
      throw new PricingError("CURRENCY_MISMATCH", `mixed currencies (${currency}, ${l.currency}) in one order`, { currencies: [currency, l.currency].sort(), skuId: l.skuId });
    }
    const subtotal = l.unitPrice * l.quantity;
    assertAmount(subtotal, `subtotal of SKU ${l.skuId}`);
    return { ...l, subtotal };
  });
  const itemsTotal = priced.reduce((s, l) => s + l.subtotal, 0);
  assertAmount(itemsTotal, "items total");
  const wantDiscount = adj.discount ?? 0;
  const wantPoints = adj.pointsDeduction ?? 0;
  assertAmount(wantDiscount, "discount");
  assertAmount(wantPoints, "points deduction");
  const discount = Math.min(wantDiscount, itemsTotal);
  const goods = itemsTotal - discount;
  const pointsDeduction = Math.min(wantPoints, Math.floor((goods * MAX_POINTS_SHARE_BP) / 10_000));
  const shippingFee = shippingFeeFor(goods, priced.length);
  const payable = goods - pointsDeduction + shippingFee;
  return { lines: priced, totals: { itemsTotal, discount, pointsDeduction, shippingFee, payable, currency } };
}
