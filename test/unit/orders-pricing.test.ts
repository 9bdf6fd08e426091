import type { CouponOffer, PromotionOffer } from "../../services/marketing/marketing.contracts";
import {
  FREE_SHIPPING_FROM,
  NO_OFFERS,
  Offers,
  PriceInput,
  PricingError,
  SHIPPING_FEE,
  maxPointsFor,
  priceOrder,
  shippingFeeFor,
  splitLargestRemainder,
} from "../../services/orders/domain/pricing";

const line = (skuId: number, unitPrice: number, quantity: number, opts: { currency?: string; productId?: number; categoryId?: number; categoryPath?: number[] } = {}): PriceInput => ({
  skuId,
  productId: opts.productId ?? skuId * 10,
  categoryId: opts.categoryId ?? 1,
  ...(opts.categoryPath ? { categoryPath: opts.categoryPath } : {}),
  unitPrice,
  quantity,
  currency: opts.currency ?? "CNY",
});
const offers = (o: Partial<Offers>): Offers => ({ ...NO_OFFERS, ...o });
const reduction = (id: number, tiers: [threshold: number, off: number][], scope: PromotionOffer["scope"] = {}): PromotionOffer => ({
  id,
  name: `reduction ${id}`,
  type: "FULL_REDUCTION",
  rules: tiers.map(([threshold, off]) => ({ threshold, off })),
  scope,
});
const rate = (id: number, tiers: [threshold: number, rateBp: number][], scope: PromotionOffer["scope"] = {}): PromotionOffer => ({
  id,
  name: `discount ${id}`,
  type: "DISCOUNT",
  rules: tiers.map(([threshold, rateBp]) => ({ threshold, rateBp })),
  scope,
});
const coupon = (type: "FIXED" | "PERCENT", value: number, threshold = 0, scope: CouponOffer["scope"] = {}): CouponOffer => ({
  id: 7,
  templateId: 3,
  name: "coupon",
  type,
  value,
  threshold,
  scope,
  validTo: "2099-01-01T00:00:00.000Z",
});
const thrown = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err as { code: number; type: string; data: unknown };
  }
  throw new Error("did not throw");
};

describe("orders: pricing without offers", () => {
  it("sums line subtotals in integer fen", () => {
    const { lines, totals } = priceOrder([line(1, 1999, 3), line(2, 10, 7)]);
    expect(lines.map((l) => l.subtotal)).toEqual([5997, 70]);
    expect(lines.map((l) => l.payable)).toEqual([5997, 70]);
    expect(totals).toEqual({ itemsTotal: 6067, discount: 0, pointsDeduction: 0, shippingFee: SHIPPING_FEE, payable: 6067 + SHIPPING_FEE, currency: "CNY" });
  });

  it("ships free from 99 yuan of goods, else charges 10 yuan; nothing to ship costs nothing", () => {
    expect(FREE_SHIPPING_FROM).toBe(9900);
    expect(SHIPPING_FEE).toBe(1000);
    expect(priceOrder([line(1, 9899, 1)]).totals).toMatchObject({ shippingFee: 1000, payable: 10899 });
    expect(priceOrder([line(1, 9900, 1)]).totals).toMatchObject({ shippingFee: 0, payable: 9900 });
    expect(priceOrder([line(1, 3300, 3)]).totals).toMatchObject({ itemsTotal: 9900, shippingFee: 0 });
    expect(priceOrder([]).totals).toEqual({ itemsTotal: 0, discount: 0, pointsDeduction: 0, shippingFee: 0, payable: 0, currency: "CNY" });
    expect(shippingFeeFor(0, 1)).toBe(1000);
  });

  it("refuses floats, non-positive quantities and mixed currencies", () => {
    expect(() => priceOrder([line(1, 10.5, 1)])).toThrow(PricingError);
    expect(() => priceOrder([line(1, 100, 0)])).toThrow(PricingError);
    expect(() => priceOrder([line(1, 100, 1.5)])).toThrow(PricingError);
    expect(() => priceOrder([line(1, -1, 1)])).toThrow(PricingError);
    expect(() => priceOrder([line(1, 100, 1), line(2, 100, 1, { currency: "USD" })])).toThrow(/mixed currencies/);
  });

  it("throws typed client errors (a 4xx with a stable type), never a bare Error", () => {
    expect(thrown(() => priceOrder([line(1, 100, 1), line(2, 100, 1, { currency: "USD" })]))).toMatchObject({ code: 409, type: "CURRENCY_MISMATCH", data: { currencies: ["CNY", "USD"], skuId: 2 } });
    expect(thrown(() => priceOrder([line(1, 100, 0)]))).toMatchObject({ code: 422, type: "PRICING_INVALID" });
    expect(thrown(() => priceOrder([line(1, -1, 1)]))).toMatchObject({ code: 422, type: "PRICING_INVALID" });
  });

  it("stays exact for large amounts", () => {
    const { totals } = priceOrder([line(1, 1_000_000_000_000, 99), line(2, 1, 1)]);
    expect(totals.itemsTotal).toBe(99_000_000_000_001);
    expect(Number.isSafeInteger(totals.payable)).toBe(true);
    // a percentage of an amount whose product with the rate is beyond 2^53 is still exact
    const big = priceOrder([line(1, 1_000_000_000_001, 99)], offers({ promotions: [rate(1, [[0, 9999]])] }));
    expect(big.totals.discount).toBe(Math.floor((99_000_000_000_099 * 1) / 10_000));
  });
});

describe("orders: largest-remainder split", () => {
  it("hands the fen left over to the largest remainders, earlier lines first on a tie", () => {
    expect(splitLargestRemainder(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(splitLargestRemainder(10, [3, 3, 3, 1])).toEqual([3, 3, 3, 1]);
    expect(splitLargestRemainder(5, [1000, 3000, 6000])).toEqual([1, 1, 3]);
    expect(splitLargestRemainder(7, [2, 0, 5])).toEqual([2, 0, 5]);
    expect(splitLargestRemainder(0, [0, 0])).toEqual([0, 0]);
    expect(splitLargestRemainder(1, [1, 1])).toEqual([1, 0]);
  });

  it("refuses to split something over nothing", () => {
    expect(thrown(() => splitLargestRemainder(1, [0, 0]))).toMatchObject({ type: "PRICING_INVALID" });
  });
});

describe("orders: promotions", () => {
  it("FULL_REDUCTION: the highest tier reached applies, split over the lines in scope by their subtotals", () => {
    const p = reduction(1, [
      [10000, 1000],
      [20000, 3000],
      [50000, 9000],
    ]);
    const r = priceOrder([line(1, 15000, 1), line(2, 7000, 1)], offers({ promotions: [p] }));
    // 220 yuan reaches the 200 tier: 30 yuan off, split 15000 : 7000
    expect(r.totals).toMatchObject({ itemsTotal: 22000, discount: 3000, shippingFee: 0, payable: 19000 });
    expect(r.lines.map((l) => l.promotionDiscount)).toEqual([2045, 955]);
    expect(r.lines.map((l) => l.promotionId)).toEqual([1, 1]);
    expect(r.promotions).toEqual([{ id: 1, name: "reduction 1", type: "FULL_REDUCTION", discount: 3000, skuIds: [1, 2] }]);
    // below every tier: nothing
    expect(priceOrder([line(1, 9999, 1)], offers({ promotions: [p] })).totals.discount).toBe(0);
  });

  it("DISCOUNT: pays rateBp of the amount, the discount rounded down to the fen", () => {
    const r = priceOrder([line(1, 999, 1), line(2, 1, 1)], offers({ promotions: [rate(1, [[0, 8500]])] }));
    // 10.00 × 15 % = 1.50 → 150 off
    expect(r.totals.discount).toBe(150);
    const odd = priceOrder([line(1, 333, 1)], offers({ promotions: [rate(1, [[0, 9000]])] }));
    // 33.3 fen off → 33
    expect(odd.totals.discount).toBe(33);
    const tiers = rate(2, [
      [0, 9500],
      [10000, 8000],
    ]);
    expect(priceOrder([line(1, 10000, 1)], offers({ promotions: [tiers] })).totals.discount).toBe(2000);
    expect(priceOrder([line(1, 9999, 1)], offers({ promotions: [tiers] })).totals.discount).toBe(499);
  });

  it("covers a line by product, by its category or by an ancestor category", () => {
    const lines = [line(1, 1000, 1, { productId: 100, categoryId: 5, categoryPath: [5, 2] }), line(2, 1000, 1, { productId: 200, categoryId: 6 })];
    const byProduct = priceOrder(lines, offers({ promotions: [reduction(1, [[0, 100]], { productIds: [200] })] }));
    expect(byProduct.lines.map((l) => l.promotionDiscount)).toEqual([0, 100]);
    const byParent = priceOrder(lines, offers({ promotions: [reduction(1, [[0, 100]], { categoryIds: [2] })] }));
    expect(byParent.lines.map((l) => l.promotionDiscount)).toEqual([100, 0]);
    const byOwn = priceOrder(lines, offers({ promotions: [reduction(1, [[0, 100]], { categoryIds: [6] })] }));
    expect(byOwn.lines.map((l) => l.promotionDiscount)).toEqual([0, 100]);
    const none = priceOrder(lines, offers({ promotions: [reduction(1, [[0, 100]], { categoryIds: [99], productIds: [99] })] }));
    expect(none.totals.discount).toBe(0);
  });

  it("gives each line at most one promotion, the largest discount first, then the next on the lines left", () => {
    const shoes = { productId: 100 };
    const lines = [line(1, 10000, 1, shoes), line(2, 10000, 1), line(3, 5000, 1)];
    const everything = reduction(1, [[20000, 2500]]); // all lines: 250 yuan → 25 off
    const onlyShoes = rate(2, [[0, 7000]]); // shoes pay 70 %: 30 off
    onlyShoes.scope = { productIds: [100] };
    const r = priceOrder(lines, offers({ promotions: [everything, onlyShoes] }));
    // shoes take 30 off first; the other two (150 yuan) no longer reach the 200 threshold
    expect(r.promotions.map((p) => [p.id, p.discount, p.skuIds])).toEqual([[2, 3000, [1]]]);
    expect(r.lines.map((l) => [l.promotionId, l.promotionDiscount])).toEqual([
      [2, 3000],
      [null, 0],
      [null, 0],
    ]);
    const lower = reduction(3, [[10000, 1000]]);
    const r2 = priceOrder(lines, offers({ promotions: [everything, onlyShoes, lower] }));
    expect(r2.promotions.map((p) => [p.id, p.discount, p.skuIds])).toEqual([
      [2, 3000, [1]],
      [3, 1000, [2, 3]],
    ]);
    expect(r2.totals.discount).toBe(4000);
  });

  it("breaks a tie between equal discounts by the lower promotion id, whatever order they come in", () => {
    const a = reduction(9, [[0, 500]]);
    const b = reduction(4, [[0, 500]]);
    expect(priceOrder([line(1, 2000, 1)], offers({ promotions: [a, b] })).lines[0].promotionId).toBe(4);
    expect(priceOrder([line(1, 2000, 1)], offers({ promotions: [b, a] })).lines[0].promotionId).toBe(4);
  });

  it("never takes more than the lines cost", () => {
    const r = priceOrder([line(1, 300, 1)], offers({ promotions: [reduction(1, [[0, 9999]])] }));
    expect(r.totals).toMatchObject({ discount: 300, shippingFee: 1000, payable: 1000 });
    expect(r.lines[0]).toMatchObject({ promotionDiscount: 300, payable: 0 });
  });

  it("refuses a rule that does not fit the promotion's type or a rate beyond 100 %", () => {
    const bad = { ...reduction(1, [[0, 100]]), type: "DISCOUNT" as const };
    expect(thrown(() => priceOrder([line(1, 1000, 1)], offers({ promotions: [bad] })))).toMatchObject({ type: "PRICING_INVALID" });
    expect(thrown(() => priceOrder([line(1, 1000, 1)], offers({ promotions: [rate(1, [[0, 10001]])] })))).toMatchObject({ type: "PRICING_INVALID" });
  });
});

describe("orders: coupons", () => {
  it("applies after promotions: the threshold is checked on the in-scope amount left", () => {
    const promo = reduction(1, [[0, 2000]]);
    // 100 yuan − 20 = 80 yuan < the coupon's 90-yuan threshold
    const e = thrown(() => priceOrder([line(1, 10000, 1)], offers({ promotions: [promo], coupon: coupon("FIXED", 1000, 9000) })));
    expect(e).toMatchObject({ code: 409, type: "COUPON_NOT_APPLICABLE", data: { couponId: 7, threshold: 9000, amount: 8000 } });
    const ok = priceOrder([line(1, 10000, 1)], offers({ promotions: [promo], coupon: coupon("FIXED", 1000, 8000) }));
    expect(ok.totals).toMatchObject({ discount: 3000, shippingFee: 1000, payable: 8000 });
    expect(ok.lines[0]).toMatchObject({ promotionDiscount: 2000, couponDiscount: 1000, payable: 7000 });
    expect(ok.coupon).toEqual({ id: 7, templateId: 3, name: "coupon", type: "FIXED", value: 1000, discount: 1000 });
  });

  it("FIXED is clamped to the in-scope amount; only lines in scope share it", () => {
    const r = priceOrder([line(1, 500, 1, { productId: 100 }), line(2, 8000, 1)], offers({ coupon: coupon("FIXED", 2000, 0, { productIds: [100] }) }));
    expect(r.lines.map((l) => l.couponDiscount)).toEqual([500, 0]);
    expect(r.totals.discount).toBe(500);
  });

  it("PERCENT takes basis points of the in-scope amount, rounded down to the fen", () => {
    const r = priceOrder([line(1, 333, 1), line(2, 334, 1)], offers({ coupon: coupon("PERCENT", 1500) }));
    // 667 × 15 % = 100.05 → 100
    expect(r.totals.discount).toBe(100);
    expect(r.lines.map((l) => l.couponDiscount)).toEqual([50, 50]);
  });

  it("a coupon whose scope covers none of the lines does not apply", () => {
    expect(thrown(() => priceOrder([line(1, 5000, 1)], offers({ coupon: coupon("FIXED", 100, 0, { categoryIds: [42] }) })))).toMatchObject({ type: "COUPON_NOT_APPLICABLE" });
  });
});

describe("orders: points", () => {
  it("1 point is 1 fen, at most half the goods after discounts, shipping decided before points", () => {
    expect(maxPointsFor(10001)).toBe(5000);
    const r = priceOrder([line(1, 10000, 1), line(2, 3000, 1)], offers({ coupon: coupon("FIXED", 3000), usePoints: 5000, pointsBalance: 9000 }));
    // goods 130 − 30 = 100 yuan: free shipping; 50 yuan of points is exactly the cap
    expect(r.totals).toMatchObject({ itemsTotal: 13000, discount: 3000, pointsDeduction: 5000, shippingFee: 0, payable: 5000 });
    expect(r.pointsUsed).toBe(5000);
    expect(r.lines.reduce((s, l) => s + l.pointsDeduction, 0)).toBe(5000);
  });

  it("more than the balance is INSUFFICIENT_POINTS (409), beyond the cap POINTS_CAP_EXCEEDED (422)", () => {
    expect(thrown(() => priceOrder([line(1, 10000, 1)], offers({ usePoints: 101, pointsBalance: 100 })))).toMatchObject({
      code: 409,
      type: "INSUFFICIENT_POINTS",
      data: { requested: 101, balance: 100 },
    });
    expect(thrown(() => priceOrder([line(1, 10000, 1)], offers({ usePoints: 5001, pointsBalance: 99999 })))).toMatchObject({
      code: 422,
      type: "POINTS_CAP_EXCEEDED",
      data: { requested: 5001, max: 5000 },
    });
    expect(thrown(() => priceOrder([line(1, 10000, 1)], offers({ usePoints: 1.5, pointsBalance: 99 })))).toMatchObject({ type: "PRICING_INVALID" });
  });
});

/** mulberry32: a small seeded generator, so a failing cart can be replayed from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("orders: pricing properties over random carts", () => {
  it("shares add up exactly, no line goes negative, payable is the sum of the lines plus shipping", () => {
    const rand = rng(20261209);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    const pick = <T>(xs: T[]) => xs[int(0, xs.length - 1)];
    const scope = () => (rand() < 0.4 ? {} : { productIds: rand() < 0.5 ? [int(1, 6)] : [], categoryIds: [int(1, 4)] });
    let priced = 0;
    let withCoupon = 0;
    let withPoints = 0;
    for (let n = 0; n < 3000; n++) {
      const lines = Array.from({ length: int(1, 8) }, (_, i) =>
        line(i + 1, pick([1, 3, 99, 1999, int(1, 50000)]), int(1, 99), { productId: int(1, 6), categoryId: int(1, 4), categoryPath: rand() < 0.5 ? [int(1, 4), int(1, 4)] : undefined }),
      );
      const promotions: PromotionOffer[] = Array.from({ length: int(0, 4) }, (_, i) =>
        rand() < 0.5
          ? reduction(i + 1, [[int(0, 30000), int(1, 20000)], [int(0, 90000), int(1, 40000)]], scope())
          : rate(i + 1, [[int(0, 30000), int(0, 10000)], [int(0, 90000), int(0, 10000)]], scope()),
      );
      const c = rand() < 0.5 ? { ...coupon(rand() < 0.5 ? "FIXED" : "PERCENT", 0, int(0, 20000), scope()), value: 0 } : null;
      if (c) c.value = c.type === "FIXED" ? int(1, 30000) : int(1, 10000);
      const balance = int(0, 200000);
      let result;
      try {
        result = priceOrder(lines, offers({ promotions, coupon: c, usePoints: rand() < 0.5 ? int(0, 60000) : 0, pointsBalance: balance }));
      } catch (err) {
        expect(err).toBeInstanceOf(PricingError);
        expect(["COUPON_NOT_APPLICABLE", "INSUFFICIENT_POINTS", "POINTS_CAP_EXCEEDED"]).toContain((err as PricingError).type);
        continue;
      }
      priced++;
      const { lines: out, totals } = result;
      const sum = (f: (l: (typeof out)[number]) => number) => out.reduce((s, l) => s + f(l), 0);
      expect(sum((l) => l.subtotal)).toBe(totals.itemsTotal);
      expect(sum((l) => l.promotionDiscount + l.couponDiscount)).toBe(totals.discount);
      expect(sum((l) => l.pointsDeduction)).toBe(totals.pointsDeduction);
      expect(sum((l) => l.payable) + totals.shippingFee).toBe(totals.payable);
      expect(totals.itemsTotal - totals.discount - totals.pointsDeduction + totals.shippingFee).toBe(totals.payable);
      for (const p of result.promotions) {
        expect(out.filter((l) => l.promotionId === p.id).reduce((s, l) => s + l.promotionDiscount, 0)).toBe(p.discount);
      }
      expect(new Set(out.filter((l) => l.promotionId !== null).map((l) => l.skuId)).size).toBe(result.promotions.reduce((s, p) => s + p.skuIds.length, 0));
      if (result.coupon) {
        withCoupon++;
        expect(sum((l) => l.couponDiscount)).toBe(result.coupon.discount);
      }
      if (totals.pointsDeduction) withPoints++;
      expect(totals.pointsDeduction).toBeLessThanOrEqual(Math.min(balance, maxPointsFor(totals.itemsTotal - totals.discount)));
      for (const l of out) {
        expect(l.payable).toBeGreaterThanOrEqual(0);
        expect(Math.min(l.promotionDiscount, l.couponDiscount, l.pointsDeduction)).toBeGreaterThanOrEqual(0);
        expect(l.payable).toBe(l.subtotal - l.promotionDiscount - l.couponDiscount - l.pointsDeduction);
        if (l.promotionId === null) expect(l.promotionDiscount).toBe(0);
      }
      expect(totals.shippingFee).toBe(shippingFeeFor(totals.itemsTotal - totals.discount, out.length));
    }
    // the generator exercises every path, not just the errors
    expect(priced).toBeGreaterThan(1000);
    expect(withCoupon).toBeGreaterThan(200);
    expect(withPoints).toBeGreaterThan(200);
  });
});
