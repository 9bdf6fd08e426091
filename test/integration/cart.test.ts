/**
 * The cart through the gateway, in both shapes: embedded (cart lines in SQLite) and cluster
 * (cart lines in a Redis hash, catalog/inventory on other nodes). Live prices and availability,
 * flags for lines that went off sale or short, totals from the order's pricing, the 99-unit and
 * 100-line limits (also under concurrency), and bad input changing nothing.
 */
import { Shop, client, loginAdmin, newCustomer, startShop } from "../helpers/shop";
import { StockedSku, stockedProduct } from "../helpers/checkout";

const shapes: [string, Parameters<typeof startShop>[0]][] = [
  ["embedded", { shape: "embedded" }],
  ["cluster", { shape: "cluster", nodes: [["api"], ["users", "catalog", "cart"], ["inventory"]] }],
];

describe.each(shapes)("cart (%s)", (_name, opts) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;
  let skus: StockedSku[];

  beforeAll(async () => {
    shop = await startShop(opts);
    http = client(shop);
    admin = await loginAdmin(shop);
    skus = await stockedProduct(shop, admin, [
      { price: 2500, stock: 10 },
      { price: 9900, stock: 3 },
      { price: 100, stock: 0 },
    ]);
  }, 120_000);
  afterAll(async () => {
    await shop?.stop();
  });

  const cart = async (token: string) => {
    const r = await http.get("cart", { token });
    expect(r.status).toBe(200);
    return r.body.data;
  };

  it("keeps lines in Redis in the cluster and in SQL when embedded", () => {
    const svc = shop.brokerFor("cart").getLocalService("cart") as unknown as { store: { kind: string } };
    expect(svc.store.kind).toBe(shop.shape === "cluster" ? "redis" : "sql");
  });

  it("needs a login", async () => {
    expect((await http.get("cart")).status).toBe(401);
    expect((await http.post("cart/items", { skuId: skus[0].skuId, quantity: 1 })).status).toBe(401);
  });

  it("adds, merges into the existing line and shows live prices, availability and totals", async () => {
    const c = await newCustomer(shop);
    expect(await cart(c.token)).toMatchObject({ items: [], totals: { itemsTotal: 0, shippingFee: 0, payable: 0 } });
    const first = await http.post("cart/items", { skuId: skus[0].skuId, quantity: 2 }, { token: c.token });
    expect(first.status).toBe(200);
    expect(first.body.data.items).toHaveLength(1);
    const again = await http.post("cart/items", { skuId: skus[0].skuId, quantity: 3 }, { token: c.token });
    expect(again.body.data.items).toHaveLength(1);
    expect(again.body.data.items[0]).toMatchObject({
      skuId: skus[0].skuId,
      productId: skus[0].productId,
      unitPrice: 2500,
      quantity: 5,
      selected: true,
      available: 10,
      subtotal: 12500,
      problem: null,
    });
    expect(again.body.data.items[0].title).toMatch(/Checkout item/);
    // 125 yuan of goods: free shipping
    expect(again.body.data.totals).toMatchObject({ itemsTotal: 12500, discount: 0, shippingFee: 0, payable: 12500, currency: "CNY" });

    await http.post("cart/items", { skuId: skus[1].skuId, quantity: 1 }, { token: c.token });
    const view = await cart(c.token);
    expect(view.items.map((i: { skuId: number }) => i.skuId)).toEqual([skus[1].skuId, skus[0].skuId]); // newest first
    expect(view.totals).toMatchObject({ itemsTotal: 22400, payable: 22400, selectedCount: 2 });
  });

  it("selects, deselects, changes quantity, removes and clears", async () => {
    const c = await newCustomer(shop);
    await http.post("cart/items", { skuId: skus[0].skuId, quantity: 1 }, { token: c.token });
    await http.post("cart/items", { skuId: skus[1].skuId, quantity: 1 }, { token: c.token });

    const off = await http.patch(`cart/items/${skus[1].skuId}`, { selected: false }, { token: c.token });
    expect(off.status).toBe(200);
    // only the 25 yuan line counts now: below 99 yuan, so 10 yuan shipping
    expect(off.body.data.totals).toMatchObject({ itemsTotal: 2500, shippingFee: 1000, payable: 3500, selectedCount: 1 });

    const qty = await http.patch(`cart/items/${skus[0].skuId}`, { quantity: 4 }, { token: c.token });
    expect(qty.body.data.items.find((i: { skuId: number }) => i.skuId === skus[0].skuId).quantity).toBe(4);
    expect(qty.body.data.totals).toMatchObject({ itemsTotal: 10000, shippingFee: 0 });

    const none = await http.patch("cart/items", { selected: false }, { token: c.token });
    expect(none.body.data.totals).toMatchObject({ itemsTotal: 0, payable: 0, selectedCount: 0 });
    const all = await http.patch("cart/items", { selected: true }, { token: c.token });
    expect(all.body.data.totals.selectedCount).toBe(2);

    const del = await http.del(`cart/items/${skus[1].skuId}`, { token: c.token });
    expect(del.status).toBe(200);
    expect(del.body.data.items.map((i: { skuId: number }) => i.skuId)).toEqual([skus[0].skuId]);
    const gone = await http.del(`cart/items/${skus[1].skuId}`, { token: c.token });
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ type: "CART_LINE_NOT_FOUND", code: 50001 });

    const cleared = await http.del("cart", { token: c.token });
    expect(cleared.status).toBe(200);
    expect(cleared.body.data.items).toEqual([]);
  });

  it("refuses bad input with the envelope and changes nothing", async () => {
    const c = await newCustomer(shop);
    await http.post("cart/items", { skuId: skus[0].skuId, quantity: 95 }, { token: c.token });
    const before = await cart(c.token);

    const over = await http.post("cart/items", { skuId: skus[0].skuId, quantity: 5 }, { token: c.token });
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({ code: 50003, type: "CART_QUANTITY_INVALID", data: { current: 95, max: 99 } });
    expect(over.body.traceId).toBeTruthy();

    for (const body of [
      { skuId: skus[0].skuId, quantity: 0 },
      { skuId: skus[0].skuId, quantity: 100 },
      { skuId: skus[0].skuId, quantity: 1.5 },
      { skuId: skus[0].skuId },
      { skuId: skus[0].skuId, quantity: 1, price: 1 },
    ]) {
      const r = await http.post("cart/items", body, { token: c.token });
      expect([r.status, r.body.type]).toEqual([422, "VALIDATION_ERROR"]);
    }
    expect((await http.patch(`cart/items/${skus[0].skuId}`, { quantity: 1000 }, { token: c.token })).status).toBe(422);
    expect((await http.patch(`cart/items/${skus[0].skuId}`, {}, { token: c.token })).status).toBe(422);
    const unknown = await http.post("cart/items", { skuId: 99_999_999, quantity: 1 }, { token: c.token });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ type: "SKU_NOT_FOUND", code: 20002 });
    const notMine = await http.patch(`cart/items/${skus[1].skuId}`, { quantity: 2 }, { token: c.token });
    expect(notMine.status).toBe(404);
    expect(notMine.body.type).toBe("CART_LINE_NOT_FOUND");

    expect(await cart(c.token)).toEqual(before);
  });

  it("carts are per user", async () => {
    const a = await newCustomer(shop);
    const b = await newCustomer(shop);
    await http.post("cart/items", { skuId: skus[0].skuId, quantity: 1 }, { token: a.token });
    expect((await cart(b.token)).items).toEqual([]);
    expect((await http.del(`cart/items/${skus[0].skuId}`, { token: b.token })).status).toBe(404);
    expect((await cart(a.token)).items).toHaveLength(1);
  });

  it("flags lines that went off sale or short, and follows price changes", async () => {
    const [own] = await stockedProduct(shop, admin, [{ price: 1000, stock: 5 }]);
    const c = await newCustomer(shop);
    await http.post("cart/items", { skuId: own.skuId, quantity: 3 }, { token: c.token });
    await http.post("cart/items", { skuId: skus[0].skuId, quantity: 1 }, { token: c.token });
    // the zero-stock SKU can be added but is flagged short
    await http.post("cart/items", { skuId: skus[2].skuId, quantity: 1 }, { token: c.token });
    let view = await cart(c.token);
    expect(view.items.find((i: { skuId: number }) => i.skuId === skus[2].skuId)).toMatchObject({ available: 0, problem: "SHORT" });

    expect((await http.patch(`products/${own.productId}/skus/${own.skuId}`, { price: 1200 }, { token: admin })).status).toBe(200);
    view = await cart(c.token);
    expect(view.items.find((i: { skuId: number }) => i.skuId === own.skuId)).toMatchObject({ unitPrice: 1200, subtotal: 3600, problem: null });

    expect((await http.post(`inventory/${own.skuId}/adjust`, { delta: -3, reason: "damaged" }, { token: admin })).status).toBe(200);
    view = await cart(c.token);
    expect(view.items.find((i: { skuId: number }) => i.skuId === own.skuId)).toMatchObject({ available: 2, problem: "SHORT" });

    expect((await http.patch(`products/${own.productId}`, { status: "OFF_SALE" }, { token: admin })).status).toBe(200);
    view = await cart(c.token);
    const line = view.items.find((i: { skuId: number }) => i.skuId === own.skuId);
    expect(line.problem).toBe("OFF_SALE");
    // off-sale lines are not priced into the totals: 25 yuan line + the short 1 yuan line
    expect(view.totals).toMatchObject({ itemsTotal: 2600, selectedCount: 2 });
    const refused = await http.post("cart/items", { skuId: own.skuId, quantity: 1 }, { token: c.token });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe("PRODUCT_OFF_SALE");
  });

  it("holds at most 100 lines, even when 105 different SKUs are added at once", async () => {
    const many = [
      ...(await stockedProduct(shop, admin, Array.from({ length: 100 }, () => ({ price: 100, stock: 1 })))),
      ...(await stockedProduct(shop, admin, Array.from({ length: 5 }, () => ({ price: 100, stock: 1 })))),
    ];
    const c = await newCustomer(shop);
    const results = await Promise.all(many.map((s) => http.post("cart/items", { skuId: s.skuId, quantity: 1 }, { token: c.token })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(100);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(5);
    expect(refused.every((r) => r.status === 409 && r.body.type === "CART_FULL" && r.body.code === 50002)).toBe(true);
    expect((await cart(c.token)).items).toHaveLength(100);
  }, 120_000);

  it("merges concurrent adds of one SKU exactly and never past 99", async () => {
    const c = await newCustomer(shop);
    const results = await Promise.all(Array.from({ length: 30 }, () => http.post("cart/items", { skuId: skus[0].skuId, quantity: 4 }, { token: c.token })));
    // 24 × 4 = 96 fit; the other 6 would pass 99
    expect(results.filter((r) => r.status === 200)).toHaveLength(24);
    expect(results.filter((r) => r.status === 422 && r.body.type === "CART_QUANTITY_INVALID")).toHaveLength(6);
    expect((await cart(c.token)).items[0].quantity).toBe(96);
  });
});
