import { MAX_LINES, MAX_LINE_QUANTITY, SkuInfo, buildView, lineProblem } from "../../services/cart/domain/cart-rules";
import { priceOrder } from "../../services/orders/domain/pricing";

const sku = (skuId: number, price: number, status: "ON_SALE" | "OFF_SALE" = "ON_SALE"): SkuInfo => ({
  skuId,
  productId: 100 + skuId,
  skuCode: `S${skuId}`,
  title: `Product ${skuId}`,
  attrs: { size: "M" },
  price,
  currency: "CNY",
  status,
  imageUrl: null,
  categoryId: 7,
});

describe("cart: rules", () => {
  it("limits a line to 99 units and a cart to 100 lines", () => {
    expect(MAX_LINE_QUANTITY).toBe(99);
    expect(MAX_LINES).toBe(100);
  });

  it("flags off-sale, vanished and short lines", () => {
    expect(lineProblem(sku(1, 100), 2, 5)).toBeNull();
    expect(lineProblem(sku(1, 100), 2, null)).toBeNull();
    expect(lineProblem(sku(1, 100), 6, 5)).toBe("SHORT");
    expect(lineProblem(sku(1, 100, "OFF_SALE"), 1, 5)).toBe("OFF_SALE");
    expect(lineProblem(undefined, 1, 5)).toBe("UNAVAILABLE");
  });

  it("prices the selected, orderable lines with the order's pricing", () => {
    const lines = [
      { skuId: 1, quantity: 2, selected: true, addedAt: 1 },
      { skuId: 2, quantity: 1, selected: false, addedAt: 2 },
      { skuId: 3, quantity: 1, selected: true, addedAt: 3 },
      { skuId: 4, quantity: 9, selected: true, addedAt: 4 },
      { skuId: 5, quantity: 1, selected: true, addedAt: 5 },
    ];
    const skus = new Map([sku(1, 2500), sku(2, 9999), sku(3, 700, "OFF_SALE"), sku(4, 100)].map((s) => [s.skuId, s]));
    const view = buildView(lines, skus, new Map([[1, 10], [2, 10], [3, 10], [4, 3]]));
    // newest first
    expect(view.items.map((i) => i.skuId)).toEqual([5, 4, 3, 2, 1]);
    expect(view.items.map((i) => i.problem)).toEqual(["UNAVAILABLE", "SHORT", "OFF_SALE", null, null]);
    expect(view.items.find((i) => i.skuId === 1)).toMatchObject({ unitPrice: 2500, quantity: 2, subtotal: 5000, available: 10, selected: true, title: "Product 1" });
    expect(view.items.find((i) => i.skuId === 5)).toMatchObject({ unitPrice: null, subtotal: 0, title: null });
    // selected and on sale: SKU 1 and SKU 4 (short, but priced)
    const expected = priceOrder([
      { skuId: 1, productId: 101, categoryId: 7, unitPrice: 2500, quantity: 2, currency: "CNY" },
      { skuId: 4, productId: 104, categoryId: 7, unitPrice: 100, quantity: 9, currency: "CNY" },
    ]).totals;
    expect(view.totals).toEqual({ ...expected, selectedCount: 2 });
    expect(view.totals).toMatchObject({ itemsTotal: 5900, shippingFee: 1000, payable: 6900 });
  });

  it("takes the promotions off the selected lines they cover, never a coupon or points", () => {
    const lines = [
      { skuId: 1, quantity: 4, selected: true, addedAt: 1 },
      { skuId: 2, quantity: 1, selected: false, addedAt: 2 },
    ];
    const skus = new Map([sku(1, 2500), sku(2, 9999)].map((s) => [s.skuId, s]));
    const promotion = { id: 3, name: "100 off 10", type: "FULL_REDUCTION" as const, rules: [{ threshold: 10000, off: 1000 }], scope: { productIds: [101, 102] } };
    const view = buildView(lines, skus, null, [promotion]);
    // only the selected line counts: 100 yuan reaches the tier; 90 yuan left pays shipping
    expect(view.totals).toMatchObject({ itemsTotal: 10000, discount: 1000, pointsDeduction: 0, shippingFee: 1000, payable: 10000, selectedCount: 1 });
    expect(buildView(lines, skus, null, [{ ...promotion, scope: { productIds: [102] } }]).totals.discount).toBe(0);
  });

  it("shows availability as unknown when inventory did not answer", () => {
    const view = buildView([{ skuId: 1, quantity: 2, selected: true, addedAt: 1 }], new Map([[1, sku(1, 100)]]), null);
    expect(view.items[0]).toMatchObject({ available: null, problem: null });
  });

  it("an empty cart costs nothing", () => {
    expect(buildView([], new Map(), new Map()).totals).toMatchObject({ itemsTotal: 0, shippingFee: 0, payable: 0, selectedCount: 0 });
  });
});
