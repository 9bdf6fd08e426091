import { FREE_SHIPPING_FROM, PricingError, SHIPPING_FEE, priceOrder, shippingFeeFor } from "../../services/orders/domain/pricing";

const line = (skuId: number, unitPrice: number, quantity: number, currency = "CNY") => ({ skuId, unitPrice, quantity, currency });

describe("orders: pricing", () => {
  it("sums line subtotals in integer fen", () => {
    const { lines, totals } = priceOrder([line(1, 1999, 3), line(2, 10, 7)]);
    expect(lines.map((l) => l.subtotal)).toEqual([5997, 70]);
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

  it("applies discounts before the shipping threshold and caps points at half the goods", () => {
    // 120 yuan of goods, 30 off → 90 yuan: below the free-shipping line again
    const a = priceOrder([line(1, 12000, 1)], { discount: 3000 });
    expect(a.totals).toMatchObject({ itemsTotal: 12000, discount: 3000, shippingFee: 1000, payable: 10000 });
    const b = priceOrder([line(1, 10000, 1)], { pointsDeduction: 9000 });
    expect(b.totals).toMatchObject({ pointsDeduction: 5000, shippingFee: 0, payable: 5000 });
    // a discount larger than the goods never makes the amount negative
    const c = priceOrder([line(1, 500, 1)], { discount: 9999 });
    expect(c.totals).toMatchObject({ discount: 500, payable: 1000 });
  });

  it("refuses floats, non-positive quantities and mixed currencies", () => {
    expect(() => priceOrder([line(1, 10.5, 1)])).toThrow(PricingError);
    expect(() => priceOrder([line(1, 100, 0)])).toThrow(PricingError);
    expect(() => priceOrder([line(1, 100, 1.5)])).toThrow(PricingError);
    expect(() => priceOrder([line(1, -1, 1)])).toThrow(PricingError);
    expect(() => priceOrder([line(1, 100, 1), line(2, 100, 1, "USD")])).toThrow(/mixed currencies/);
    expect(() => priceOrder([line(1, 100, 1)], { discount: 0.5 })).toThrow(PricingError);
  });

  it("throws typed client errors (a 4xx with a stable type), never a bare Error", () => {
    const thrown = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err as { code: number; type: string; data: unknown };
      }
      throw new Error("did not throw");
    };
    expect(thrown(() => priceOrder([line(1, 100, 1), line(2, 100, 1, "USD")]))).toMatchObject({ code: 409, type: "CURRENCY_MISMATCH", data: { currencies: ["CNY", "USD"], skuId: 2 } });
    expect(thrown(() => priceOrder([line(1, 100, 0)]))).toMatchObject({ code: 422, type: "PRICING_INVALID" });
    expect(thrown(() => priceOrder([line(1, -1, 1)]))).toMatchObject({ code: 422, type: "PRICING_INVALID" });
  });

  it("stays exact for large amounts", () => {
    const { totals } = priceOrder([line(1, 1_000_000_000_000, 99), line(2, 1, 1)]);
    expect(totals.itemsTotal).toBe(99_000_000_000_001);
    expect(Number.isSafeInteger(totals.payable)).toBe(true);
  });
});
