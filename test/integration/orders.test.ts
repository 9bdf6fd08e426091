/**
 * Checkout and the order life cycle through the gateway, in both shapes: the saga (price →
 * reserve → write), Idempotency-Key, ordering the cart, bad input changing nothing, owner checks,
 * cancel, ship and confirm, and the concurrency claims: 100 checkouts racing for 10 units give
 * exactly 10 orders; 20 requests with one key give one order.
 */
import crypto from "node:crypto";
import type { Sequelize } from "sequelize";
import { QueryTypes } from "sequelize";
import { Buyer, StockedSku, newBuyer, stockedProduct } from "../helpers/checkout";
import { Shop, client, loginAdmin, startShop } from "../helpers/shop";

const shapes: [string, Parameters<typeof startShop>[0]][] = [
  // no marketing node in either shape: a coupon or points answer 503 (the marketing suites cover them)
  ["embedded", { shape: "embedded", nodes: [["api", "users", "catalog", "cart", "inventory", "payments", "orders", "ops"]] }],
  ["cluster", { shape: "cluster", nodes: [["api"], ["users", "catalog", "cart"], ["inventory"], ["orders"]] }],
];

describe.each(shapes)("orders (%s)", (_name, opts) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;
  let skus: StockedSku[];
  let buyer: Buyer;
  let db: Sequelize;

  beforeAll(async () => {
    shop = await startShop(opts);
    http = client(shop);
    admin = await loginAdmin(shop);
    skus = await stockedProduct(shop, admin, [
      { price: 2500, stock: 50 },
      { price: 9900, stock: 20 },
    ]);
    buyer = await newBuyer(shop);
    db = (shop.brokerFor("orders").getLocalService("orders") as unknown as { sequelize: Sequelize }).sequelize;
  }, 120_000);
  afterAll(async () => {
    await shop?.stop();
  });

  const key = () => crypto.randomUUID();
  const order = (b: Buyer, body: Record<string, unknown>, idem: string | null = key()) =>
    http.post("orders", { addressId: b.addressId, ...body }, { token: b.token, headers: idem ? { "Idempotency-Key": idem } : {} });
  const stock = async (skuId: number) => (await http.get(`inventory/${skuId}`, { token: admin })).body.data as { onHand: number; reserved: number; available: number };
  const count = async (sql: string, replacements: unknown[] = []) =>
    Number((await db.query<{ n: number }>(sql, { replacements, type: QueryTypes.SELECT }))[0].n);

  it("places an order: 201 with price and address snapshots, a timeline, reserved stock and order.created", async () => {
    const before = await stock(skus[0].skuId);
    const r = await order(buyer, { items: [{ skuId: skus[0].skuId, quantity: 2 }], remark: "leave at the door" });
    expect(r.status).toBe(201);
    const o = r.body.data;
    expect(o.orderNo).toMatch(/^\d{14}[0-9A-Z]{10}$/);
    expect(o).toMatchObject({
      status: "PENDING_PAYMENT",
      userId: buyer.id,
      itemsTotal: 5000,
      discount: 0,
      pointsDeduction: 0,
      shippingFee: 1000,
      payable: 6000,
      currency: "CNY",
      couponId: null,
      remark: "leave at the door",
      paidAt: null,
      address: { id: buyer.addressId, name: "Buyer", city: "Hangzhou", detail: "1 Test Road" },
    });
    expect(o.items).toEqual([
      expect.objectContaining({ skuId: skus[0].skuId, productId: skus[0].productId, unitPrice: 2500, quantity: 2, subtotal: 5000, title: expect.stringMatching(/Checkout item/) }),
    ]);
    expect(o.timeline).toEqual([expect.objectContaining({ status: "PENDING_PAYMENT", from: null, note: "order placed", actor: `buyer:${buyer.id}` })]);
    const ttl = new Date(o.expiresAt).getTime() - new Date(o.createdAt).getTime();
    expect(ttl).toBeGreaterThanOrEqual(899_000);
    expect(ttl).toBeLessThanOrEqual(901_000);
    const after = await stock(skus[0].skuId);
    expect(after.reserved - before.reserved).toBe(2);
    expect(await count("SELECT COUNT(*) AS n FROM outbox WHERE channel = 'order.created' AND payload LIKE ?", [`%${o.orderNo}%`])).toBe(1);

    const got = await http.get(`orders/${o.orderNo}`, { token: buyer.token });
    expect(got.status).toBe(200);
    expect(got.body.data).toEqual(o);
    const list = await http.get("orders?status=PENDING_PAYMENT", { token: buyer.token });
    expect(list.body.data.items.map((x: { orderNo: string }) => x.orderNo)).toContain(o.orderNo);
  });

  it("later price changes do not touch the order's snapshot", async () => {
    const [own] = await stockedProduct(shop, admin, [{ price: 1000, stock: 5 }]);
    const o = (await order(buyer, { items: [{ skuId: own.skuId, quantity: 1 }] })).body.data;
    await http.patch(`products/${own.productId}/skus/${own.skuId}`, { price: 5000 }, { token: admin });
    const again = (await http.get(`orders/${o.orderNo}`, { token: buyer.token })).body.data;
    expect(again.items[0].unitPrice).toBe(1000);
    expect(again.payable).toBe(2000);
  });

  it("orders the selected cart lines and then removes them from the cart", async () => {
    const b = await newBuyer(shop);
    await http.post("cart/items", { skuId: skus[0].skuId, quantity: 1 }, { token: b.token });
    await http.post("cart/items", { skuId: skus[1].skuId, quantity: 1 }, { token: b.token });
    const cartView = (await http.get("cart", { token: b.token })).body.data;
    const r = await order(b, {});
    expect(r.status).toBe(201);
    // the cart's totals are exactly what the order charges
    expect(r.body.data).toMatchObject({ itemsTotal: cartView.totals.itemsTotal, shippingFee: cartView.totals.shippingFee, payable: cartView.totals.payable });
    expect(r.body.data.items.map((i: { skuId: number }) => i.skuId).sort()).toEqual([skus[0].skuId, skus[1].skuId].sort());
    expect((await http.get("cart", { token: b.token })).body.data.items).toEqual([]);

    // only selected lines are ordered; the rest stay
    await http.post("cart/items", { skuId: skus[0].skuId, quantity: 3 }, { token: b.token });
    await http.post("cart/items", { skuId: skus[1].skuId, quantity: 1 }, { token: b.token });
    await http.patch(`cart/items/${skus[1].skuId}`, { selected: false }, { token: b.token });
    const r2 = await order(b, {});
    expect(r2.body.data.items).toEqual([expect.objectContaining({ skuId: skus[0].skuId, quantity: 3 })]);
    expect((await http.get("cart", { token: b.token })).body.data.items.map((i: { skuId: number }) => i.skuId)).toEqual([skus[1].skuId]);

    const empty = await order(b, {});
    expect(empty.status).toBe(409);
    expect(empty.body).toMatchObject({ type: "CART_EMPTY", code: 30006 });
  });

  it("Idempotency-Key: required; the same key returns the same order; another body is a 409", async () => {
    const none = await order(buyer, { items: [{ skuId: skus[0].skuId, quantity: 1 }] }, null);
    expect(none.status).toBe(400);
    expect(none.body.type).toBe("IDEMPOTENCY_KEY_REQUIRED");

    const k = key();
    const first = await order(buyer, { items: [{ skuId: skus[0].skuId, quantity: 1 }] }, k);
    const again = await order(buyer, { items: [{ skuId: skus[0].skuId, quantity: 1 }] }, k);
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body.data.orderNo).toBe(first.body.data.orderNo);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const other = await order(buyer, { items: [{ skuId: skus[0].skuId, quantity: 2 }] }, k);
    expect(other.status).toBe(409);
    expect(other.body.type).toBe("IDEMPOTENCY_CONFLICT");
    expect(await count("SELECT COUNT(*) AS n FROM orders WHERE order_no = ?", [first.body.data.orderNo])).toBe(1);

    // keys belong to their user: another buyer may use the same key for their own order
    const b2 = await newBuyer(shop);
    const theirs = await order(b2, { items: [{ skuId: skus[0].skuId, quantity: 1 }] }, k);
    expect(theirs.status).toBe(201);
    expect(theirs.body.data.orderNo).not.toBe(first.body.data.orderNo);
  });

  it("a failed checkout frees its key and compensates: the retry with the same key can succeed", async () => {
    const [scarce] = await stockedProduct(shop, admin, [{ price: 500, stock: 1 }]);
    const k = key();
    const body = { items: [{ skuId: scarce.skuId, quantity: 2 }] };
    const fail = await order(buyer, body, k);
    expect(fail.status).toBe(409);
    expect(fail.body).toMatchObject({ type: "OUT_OF_STOCK", code: 30005, data: { skuId: scarce.skuId, requested: 2, available: 1 } });
    expect(await stock(scarce.skuId)).toMatchObject({ reserved: 0, available: 1 });
    await http.post(`inventory/${scarce.skuId}/adjust`, { delta: 1, reason: "restock" }, { token: admin });
    const retry = await order(buyer, body, k);
    expect(retry.status).toBe(201);
    expect(await stock(scarce.skuId)).toMatchObject({ reserved: 2, available: 0 });
  });

  it("when writing the order fails after stock was reserved, the reservation is released", async () => {
    const [own] = await stockedProduct(shop, admin, [{ price: 700, stock: 3 }]);
    const svc = shop.brokerFor("orders").getLocalService("orders") as unknown as { models: { OrderLine: { bulkCreate: (...a: unknown[]) => Promise<unknown> } } };
    const original = svc.models.OrderLine.bulkCreate;
    svc.models.OrderLine.bulkCreate = async () => {
      throw new Error("disk full");
    };
    let r;
    try {
      r = await order(buyer, { items: [{ skuId: own.skuId, quantity: 2 }] });
    } finally {
      svc.models.OrderLine.bulkCreate = original;
    }
    expect(r.status).toBe(500);
    expect(r.body.type).toBe("INTERNAL_ERROR");
    expect(r.text).not.toMatch(/disk full/);
    expect(await stock(own.skuId)).toMatchObject({ reserved: 0, available: 3 });
    const moves = (await http.get(`inventory/${own.skuId}/movements`, { token: admin })).body.data.items.map((m: { type: string }) => m.type);
    expect(moves.filter((t: string) => t === "reserve")).toHaveLength(1);
    expect(moves.filter((t: string) => t === "release")).toHaveLength(1);
    expect(await count("SELECT COUNT(*) AS n FROM order_lines WHERE sku_id = ?", [own.skuId])).toBe(0);
  });

  it("bad input gets the envelope with a clear type, and changes nothing", async () => {
    const [offSale] = await stockedProduct(shop, admin, [{ price: 300, stock: 5 }]);
    await http.patch(`products/${offSale.productId}`, { status: "OFF_SALE" }, { token: admin });
    const stranger = await newBuyer(shop);
    const ordersBefore = await count("SELECT COUNT(*) AS n FROM orders");
    const stockBefore = await stock(skus[0].skuId);
    const item = { skuId: skus[0].skuId, quantity: 1 };

    const cases: [Record<string, unknown>, number, string][] = [
      [{ addressId: stranger.addressId, items: [item] }, 404, "ADDRESS_NOT_FOUND"],
      [{ items: [{ skuId: offSale.skuId, quantity: 1 }] }, 409, "PRODUCT_OFF_SALE"],
      [{ items: [{ skuId: 99_999_999, quantity: 1 }] }, 404, "SKU_NOT_FOUND"],
      [{ items: [{ skuId: skus[0].skuId, quantity: 0 }] }, 422, "VALIDATION_ERROR"],
      [{ items: [{ skuId: skus[0].skuId, quantity: 1000 }] }, 422, "VALIDATION_ERROR"],
      [{ items: [] }, 422, "VALIDATION_ERROR"],
      [{ items: [item, item] }, 422, "VALIDATION_ERROR"],
      [{ items: [{ ...item, price: 1 }] }, 422, "VALIDATION_ERROR"],
      [{ items: [item], payable: 1 }, 422, "VALIDATION_ERROR"],
      // no node runs marketing here: a coupon or points cannot be used until one does (retryable)
      [{ items: [item], couponId: 1 }, 503, "SERVICE_UNAVAILABLE"],
      [{ items: [item], usePoints: 100 }, 503, "SERVICE_UNAVAILABLE"],
    ];
    for (const [body, status, type] of cases) {
      const r = await order(buyer, body);
      expect([JSON.stringify(body), r.status, r.body.type]).toEqual([JSON.stringify(body), status, type]);
      expect(r.body.code).toBeGreaterThan(0);
      expect(r.body.traceId).toBeTruthy();
    }
    expect((await order(buyer, { addressId: "x", items: [item] })).status).toBe(422);
    expect(await count("SELECT COUNT(*) AS n FROM orders")).toBe(ordersBefore);
    expect(await stock(skus[0].skuId)).toEqual(stockBefore);
  });

  it("another user's order is 404 everywhere; lists show only my orders", async () => {
    const mine = (await order(buyer, { items: [{ skuId: skus[0].skuId, quantity: 1 }] })).body.data;
    const other = await newBuyer(shop);
    for (const r of [
      await http.get(`orders/${mine.orderNo}`, { token: other.token }),
      await http.post(`orders/${mine.orderNo}/cancel`, {}, { token: other.token }),
      await http.post(`orders/${mine.orderNo}/confirm-receipt`, {}, { token: other.token }),
      await http.post(`orders/${mine.orderNo}/refund`, { reason: "mine now" }, { token: other.token }),
      await http.get(`orders/${mine.orderNo}/refunds`, { token: other.token }),
      await http.get(`orders/NOSUCHORDER`, { token: buyer.token }),
    ]) {
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ type: "ORDER_NOT_FOUND", code: 30001 });
    }
    expect((await http.get("orders", { token: other.token })).body.data).toMatchObject({ items: [], total: 0 });
    expect((await http.get(`orders/${mine.orderNo}`, { token: buyer.token })).body.data.status).toBe("PENDING_PAYMENT");
    // customers cannot use the admin routes
    expect((await http.get("admin/orders", { token: buyer.token })).status).toBe(403);
    expect((await http.post(`admin/orders/${mine.orderNo}/ship`, { carrier: "SF", trackingNo: "1" }, { token: buyer.token })).status).toBe(403);
  });

  it("buyer cancel releases the stock once; illegal moves are 409 ORDER_STATE_CONFLICT", async () => {
    const [own] = await stockedProduct(shop, admin, [{ price: 800, stock: 4 }]);
    const o = (await order(buyer, { items: [{ skuId: own.skuId, quantity: 3 }] })).body.data;
    expect(await stock(own.skuId)).toMatchObject({ reserved: 3, available: 1 });

    const confirm = await http.post(`orders/${o.orderNo}/confirm-receipt`, {}, { token: buyer.token });
    expect(confirm.status).toBe(409);
    expect(confirm.body).toMatchObject({ type: "ORDER_STATE_CONFLICT", code: 30004, data: { status: "PENDING_PAYMENT" } });
    const ship = await http.post(`admin/orders/${o.orderNo}/ship`, { carrier: "SF", trackingNo: "SF1" }, { token: admin });
    expect([ship.status, ship.body.type]).toEqual([409, "ORDER_STATE_CONFLICT"]);
    const refund = await http.post(`orders/${o.orderNo}/refund`, { reason: "changed my mind" }, { token: buyer.token });
    expect([refund.status, refund.body.type]).toEqual([409, "ORDER_STATE_CONFLICT"]);

    const cancels = await Promise.all([1, 2, 3].map(() => http.post(`orders/${o.orderNo}/cancel`, {}, { token: buyer.token })));
    expect(cancels.filter((r) => r.status === 200)).toHaveLength(1);
    expect(cancels.filter((r) => r.status === 409 && r.body.type === "ORDER_STATE_CONFLICT")).toHaveLength(2);
    const done = cancels.find((r) => r.status === 200)!.body.data;
    expect(done).toMatchObject({ status: "CANCELLED", cancelReason: "cancelled by buyer" });
    expect(done.timeline.map((e: { status: string }) => e.status)).toEqual(["PENDING_PAYMENT", "CANCELLED"]);
    expect(done.timeline[1]).toMatchObject({ from: "PENDING_PAYMENT", actor: `buyer:${buyer.id}` });
    expect(await stock(own.skuId)).toMatchObject({ reserved: 0, available: 4 });
    const moves = (await http.get(`inventory/${own.skuId}/movements`, { token: admin })).body.data.items;
    expect(moves.filter((m: { type: string }) => m.type === "release")).toHaveLength(1);
    expect(await count("SELECT COUNT(*) AS n FROM outbox WHERE channel = 'order.cancelled' AND payload LIKE ?", [`%${o.orderNo}%`])).toBe(1);
  });

  it("admin lists and filters all orders", async () => {
    const o = (await order(buyer, { items: [{ skuId: skus[0].skuId, quantity: 1 }] })).body.data;
    const r = await http.get(`admin/orders?userId=${buyer.id}&status=PENDING_PAYMENT&pageSize=100`, { token: admin });
    expect(r.status).toBe(200);
    expect(r.body.data.items.map((x: { orderNo: string }) => x.orderNo)).toContain(o.orderNo);
    expect(r.body.data.items.every((x: { userId: number; status: string }) => x.userId === buyer.id && x.status === "PENDING_PAYMENT")).toBe(true);
    expect((await http.get(`admin/orders/${o.orderNo}`, { token: admin })).body.data.orderNo).toBe(o.orderNo);
    expect((await http.get("admin/orders?status=LOST", { token: admin })).status).toBe(422);
  });

  it("100 concurrent checkouts of one unit against 10 in stock: exactly 10 orders, 90 clean 409s", async () => {
    const [hot] = await stockedProduct(shop, admin, [{ price: 1990, stock: 10 }]);
    const buyers = await Promise.all(Array.from({ length: 10 }, () => newBuyer(shop)));
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => order(buyers[i % 10], { items: [{ skuId: hot.skuId, quantity: 1 }] })),
    );
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    expect(created).toHaveLength(10);
    expect(refused).toHaveLength(90);
    for (const r of refused) {
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ type: "OUT_OF_STOCK", code: 30005, data: { skuId: hot.skuId, requested: 1 } });
    }
    expect(new Set(created.map((r) => r.body.data.orderNo)).size).toBe(10);
    expect(await stock(hot.skuId)).toMatchObject({ onHand: 10, reserved: 10, available: 0 });
    expect(await count("SELECT COUNT(*) AS n FROM order_lines WHERE sku_id = ?", [hot.skuId])).toBe(10);
    // every refused request let go of its key
    expect(await count("SELECT COUNT(*) AS n FROM idempotency_keys WHERE order_no IS NULL")).toBe(0);
  }, 120_000);

  it("20 concurrent POST /orders with one Idempotency-Key: one order, the same answer for all", async () => {
    const [own] = await stockedProduct(shop, admin, [{ price: 1200, stock: 50 }]);
    const b = await newBuyer(shop);
    const k = key();
    const results = await Promise.all(Array.from({ length: 20 }, () => order(b, { items: [{ skuId: own.skuId, quantity: 2 }] }, k)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(results.map((r) => r.body.data.orderNo)).size).toBe(1);
    expect(results.filter((r) => r.headers.get("idempotent-replayed") !== "true")).toHaveLength(1);
    expect(await count("SELECT COUNT(*) AS n FROM orders WHERE user_id = ?", [b.id])).toBe(1);
    expect(await stock(own.skuId)).toMatchObject({ reserved: 2, available: 48 });
  }, 60_000);
});
