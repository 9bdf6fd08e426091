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
      { skuId: 4, unitPrice: 100, quantity: 9, currency: "CNY" },
      { skuId: 1, unitPrice: 2500, quantity: 2, currency: "CNY" },
    ]).totals;
    expect(view.totals).toEqual({ ...expected, selectedCount: 2 });
    expect(view.totals).toMatchObject({ itemsTotal: 5900, shippingFee: 1000, payable: 6900 });
  });

  it("shows availability as unknown when inventory did not answer", () => {
    const view = buildView([{ skuId: 1, quantity: 2, selected: true, addedAt: 1 }], new Map([[1, sku(1, 100)]]), null);
    expect(view.items[0]).toMatchObject({ available: null, problem: null });
  });

  it("an empty cart costs nothing", () => {
    expect(buildView([], new Map(), new Map()).totals).toMatchObject({ itemsTotal: 0, shippingFee: 0, payable: 0, selectedCount: 0 });
  });
});
