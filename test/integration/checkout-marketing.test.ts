/**
 * Checkout on the order pipeline with marketing, in both shapes, against a stub `marketing`
 * service that returns fixed offers and records every call (the real one is built elsewhere):
 * - without marketing the shop sells as before; a coupon or points are a 503;
 * - the cart, the quote and the order show the same totals and per-line shares;
 * - the holds (stock, coupon, points) are taken once, keyed by the order number, and given back
 *   exactly once when checkout fails; cancellation and expiry give them back through one
 *   `order.cancelled` that carries them; `order.paid` and `order.refunded` carry them too.
 */
import crypto from "node:crypto";
import type { ServiceBroker } from "moleculer";
import { QueryTypes, Sequelize } from "sequelize";
import type { EventEnvelope } from "../../mixins/outbox.mixin";
import type { CouponOffer, OffersParams, OffersResult, PromotionOffer } from "../../services/marketing/marketing.contracts";
import { bizError } from "../../services/shared/errors";
import { Buyer, newBuyer, openPayment } from "../helpers/checkout";
import { Shop, client, loginAdmin, startShop, waitFor } from "../helpers/shop";

jest.setTimeout(120_000);

const shapes: [string, Parameters<typeof startShop>[0]][] = [
  // without the real marketing service: the tests stand in their own (one node runs the rest)
  ["embedded", { shape: "embedded", nodes: [["api", "users", "catalog", "cart", "inventory", "payments", "orders", "ops"]] }],
  ["cluster", { shape: "cluster", nodes: [["api"], ["users", "catalog", "cart"], ["inventory", "payments"], ["orders"]] }],
];

interface Call {
  action: string;
  params: Record<string, any>;
}

describe.each(shapes)("checkout with marketing (%s)", (_name, opts) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;
  let db: Sequelize;
  // the stub marketing service: what it answers, what it was asked, what it received
  let calls: Call[] = [];
  let delivered: { channel: string; eventId: string; data: any }[] = [];
  let offers: (p: OffersParams) => OffersResult = () => ({ promotions: [], coupon: null, pointsBalance: 0 });
  let refuse: Partial<Record<string, () => Error>> = {};
  let catalog: { parent: number; child: number; a: Sku; b: Sku; other: Sku };

  interface Sku {
    skuId: number;
    productId: number;
  }

  beforeAll(async () => {
    shop = await startShop(opts);
    http = client(shop);
    admin = await loginAdmin(shop);
    db = (shop.brokerFor("orders").getLocalService("orders") as unknown as { sequelize: Sequelize }).sequelize;
    const ok = (r: { status: number; body: any; text: string }) => {
      if (r.status >= 300) throw new Error(r.text);
      return r.body.data;
    };
    const parent = ok(await http.post("categories", { name: `Shoes ${crypto.randomUUID().slice(0, 6)}` }, { token: admin }));
    const child = ok(await http.post("categories", { name: "Running", parentId: parent.id }, { token: admin }));
    const misc = ok(await http.post("categories", { name: `Misc ${crypto.randomUUID().slice(0, 6)}` }, { token: admin }));
    const product = async (categoryId: number, price: number) => {
      const tag = crypto.randomUUID().slice(0, 8);
      const p = ok(await http.post("products", { title: `Item ${tag}`, categoryId, skus: [{ skuCode: `MK-${tag}`, attrs: {}, price, stock: 100 }] }, { token: admin }));
      const d = ok(await http.get(`products/${p.id}`, { token: admin }));
      return { skuId: Number(d.skus[0].id), productId: Number(p.id) };
    };
    catalog = { parent: parent.id, child: child.id, a: await product(child.id, 6000), b: await product(child.id, 3333), other: await product(misc.id, 2001) };
  }, 120_000);
  afterAll(async () => {
    await shop?.stop();
  });
  beforeEach(() => {
    calls = [];
    delivered = [];
    refuse = {};
  });

  /** Start the stub on the node running inventory (any node would do) and wait until orders and cart see it. */
  async function startMarketing() {
    const record = (action: string) => async (ctx: { params: Record<string, any> }) => {
      calls.push({ action, params: ctx.params });
      const err = refuse[action]?.();
      if (err) throw err;
      return action === "offers" ? offers(ctx.params as OffersParams) : { ok: true };
    };
    const consume = (channel: string) => ({
      group: "marketing-test",
      async handler(env: EventEnvelope) {
        delivered.push({ channel, eventId: env.eventId, data: env.data });
      },
    });
    const node = shop.brokerFor("inventory");
    node.createService({
      name: "marketing",
      actions: Object.fromEntries(["offers", "lockCoupon", "releaseCoupon", "freezePoints", "unfreezePoints"].map((a) => [a, record(a)])),
      channels: { "order.cancelled": consume("order.cancelled"), "order.paid": consume("order.paid"), "order.refunded": consume("order.refunded") },
    } as never);
    for (const b of shop.brokers) await b.waitForServices(["marketing"], 20_000);
  }
  const stopMarketing = async () => {
    const node = shop.brokerFor("marketing");
    await node.destroyService(node.getLocalService("marketing")!);
    await waitFor(() => shop.brokers.every((b: ServiceBroker) => !b.registry.getActionEndpoints("marketing.offers")?.hasAvailable()), { what: "marketing gone" });
  };

  const key = () => ({ "idempotency-key": crypto.randomUUID() });
  const order = (b: Buyer, body: Record<string, unknown>) => http.post("orders", { addressId: b.addressId, ...body }, { token: b.token, headers: key() });
  const stock = async (skuId: number) => (await http.get(`inventory/${skuId}`, { token: admin })).body.data as { reserved: number; available: number };
  const outbox = async (channel: string, orderNo: string) =>
    (
      await db.query<{ payload: string }>("SELECT payload FROM outbox WHERE channel = ? AND payload LIKE ?", { replacements: [channel, `%${orderNo}%`], type: QueryTypes.SELECT })
    ).map((r) => JSON.parse(r.payload).data);
  const named = (action: string) => calls.filter((c) => c.action === action);

  const shoesPromotion: PromotionOffer = { id: 11, name: "Shoes: 30 off 100", type: "FULL_REDUCTION", rules: [{ threshold: 10000, off: 3000 }], scope: { categoryIds: [] } };
  const couponOffer: CouponOffer = { id: 501, templateId: 50, name: "10 % off", type: "PERCENT", value: 1000, threshold: 5000, scope: {}, validTo: "2099-01-01T00:00:00.000Z" };
  /** the promotion covers the parent category (so the SKUs of its sub-category); the coupon only when asked for */
  const standardOffers = () => {
    shoesPromotion.scope = { categoryIds: [catalog.parent] };
    offers = (p) => ({ promotions: [shoesPromotion], coupon: p.couponId === couponOffer.id ? couponOffer : null, pointsBalance: 5000 });
  };

  it("without marketing: checkout and the quote price without promotions; a coupon or points are a 503 that changes nothing", async () => {
    const b = await newBuyer(shop);
    const items = [{ skuId: catalog.a.skuId, quantity: 2 }];
    const q = await http.post("cart/quote", { items }, { token: b.token });
    expect(q.status).toBe(200);
    expect(q.body.data).toEqual({
      lines: [expect.objectContaining({ skuId: catalog.a.skuId, subtotal: 12000, promotionId: null, promotionDiscount: 0, couponDiscount: 0, pointsDeduction: 0, payable: 12000 })],
      totals: { itemsTotal: 12000, discount: 0, pointsDeduction: 0, shippingFee: 0, payable: 12000, currency: "CNY" },
      promotions: [],
    });
    const before = await stock(catalog.a.skuId);
    for (const body of [{ items, couponId: 1 }, { items, usePoints: 10 }]) {
      const r = await order(b, body);
      expect([r.status, r.body.type, r.body.data]).toEqual([503, "SERVICE_UNAVAILABLE", { retryable: true }]);
      const rq = await http.post("cart/quote", body, { token: b.token });
      expect([rq.status, rq.body.type]).toEqual([503, "SERVICE_UNAVAILABLE"]);
    }
    expect(await stock(catalog.a.skuId)).toEqual(before);
    const placed = await order(b, { items });
    expect(placed.status).toBe(201);
    expect(placed.body.data).toMatchObject({ itemsTotal: 12000, discount: 0, payable: 12000, couponId: null, source: "NORMAL" });
  });

  it("cart, quote and order show the same totals and line shares; the holds are taken once, keyed by the order", async () => {
    await startMarketing();
    standardOffers();
    const b = await newBuyer(shop);
    await http.post("cart/items", { skuId: catalog.a.skuId, quantity: 2 }, { token: b.token });
    await http.post("cart/items", { skuId: catalog.b.skuId, quantity: 1 }, { token: b.token });
    await http.post("cart/items", { skuId: catalog.other.skuId, quantity: 1 }, { token: b.token });

    // the cart shows promotions, never a coupon or points
    const cart = (await http.get("cart", { token: b.token })).body.data;
    expect(cart.totals).toEqual({ itemsTotal: 17334, discount: 3000, pointsDeduction: 0, shippingFee: 0, payable: 14334, currency: "CNY", selectedCount: 3 });
    const plain = (await http.post("cart/quote", {}, { token: b.token })).body.data;
    expect(plain.totals).toEqual({ itemsTotal: 17334, discount: 3000, pointsDeduction: 0, shippingFee: 0, payable: 14334, currency: "CNY" });
    expect(plain.promotions).toEqual([{ id: 11, name: shoesPromotion.name, type: "FULL_REDUCTION", discount: 3000, skuIds: [catalog.a.skuId, catalog.b.skuId].sort((x, y) => x - y) }]);

    const asked = { couponId: couponOffer.id, usePoints: 4000 };
    const q = await http.post("cart/quote", asked, { token: b.token });
    expect(q.status).toBe(200);
    // 173.34 − 30 (shoes) = 143.34; coupon 10 % of that = 14.33; points 40 yuan; free shipping
    expect(q.body.data.totals).toEqual({ itemsTotal: 17334, discount: 4433, pointsDeduction: 4000, shippingFee: 0, payable: 8901, currency: "CNY" });
    expect(q.body.data.coupon).toEqual({ id: couponOffer.id, templateId: 50, name: couponOffer.name, type: "PERCENT", value: 1000, discount: 1433 });
    // the quote took nothing
    expect(named("lockCoupon").concat(named("freezePoints"))).toEqual([]);
    const offersAsked = named("offers").at(-1)!.params;
    expect(offersAsked).toMatchObject({ userId: b.id, couponId: couponOffer.id });
    expect(offersAsked.categoryIds).toEqual(expect.arrayContaining([catalog.parent, catalog.child]));

    const placed = await order(b, asked);
    expect(placed.status).toBe(201);
    const o = placed.body.data;
    expect({ itemsTotal: o.itemsTotal, discount: o.discount, pointsDeduction: o.pointsDeduction, shippingFee: o.shippingFee, payable: o.payable, currency: o.currency }).toEqual(q.body.data.totals);
    expect(o.couponId).toBe(couponOffer.id);
    const shares = (l: Record<string, unknown>) => [l.skuId, l.promotionId, l.promotionDiscount, l.couponDiscount, l.pointsDeduction, l.payable];
    expect(o.items.map(shares).sort()).toEqual(q.body.data.lines.map(shares).sort());
    for (const f of ["promotionDiscount", "couponDiscount", "pointsDeduction"]) {
      expect(o.items.reduce((s: number, l: Record<string, number>) => s + l[f], 0)).toBe(f === "pointsDeduction" ? 4000 : f === "couponDiscount" ? 1433 : 3000);
    }
    expect((await http.get(`orders/${o.orderNo}`, { token: b.token })).body.data).toEqual(o);
    const [row] = await db.query<{ coupon_id: number; points_used: number }>("SELECT coupon_id, points_used FROM orders WHERE order_no = ?", { replacements: [o.orderNo], type: QueryTypes.SELECT });
    expect([Number(row.coupon_id), Number(row.points_used)]).toEqual([couponOffer.id, 4000]);

    expect(named("lockCoupon").map((c) => c.params)).toEqual([{ userId: b.id, couponId: couponOffer.id, orderNo: o.orderNo }]);
    expect(named("freezePoints").map((c) => c.params)).toEqual([{ userId: b.id, points: 4000, orderNo: o.orderNo }]);
    expect(named("releaseCoupon").concat(named("unfreezePoints"))).toEqual([]);
    expect((await http.get("cart", { token: b.token })).body.data.items).toEqual([]);
  });

  it("checkout fails after the holds: each is given back exactly once, in reverse, and no order is left", async () => {
    standardOffers();
    const b = await newBuyer(shop);
    const items = [{ skuId: catalog.a.skuId, quantity: 2 }];
    const before = await stock(catalog.a.skuId);
    const svc = shop.brokerFor("orders").getLocalService("orders") as unknown as { models: { OrderLine: { bulkCreate: (...a: unknown[]) => Promise<unknown> } } };
    const original = svc.models.OrderLine.bulkCreate;
    svc.models.OrderLine.bulkCreate = async () => {
      throw new Error("disk full");
    };
    let r;
    try {
      r = await order(b, { items, couponId: couponOffer.id, usePoints: 1000 });
    } finally {
      svc.models.OrderLine.bulkCreate = original;
    }
    expect([r.status, r.body.type]).toEqual([500, "INTERNAL_ERROR"]);
    const orderNo = named("lockCoupon")[0].params.orderNo;
    expect(calls.filter((c) => c.action !== "offers").map((c) => [c.action, c.params.orderNo])).toEqual([
      ["lockCoupon", orderNo],
      ["freezePoints", orderNo],
      ["unfreezePoints", orderNo],
      ["releaseCoupon", orderNo],
    ]);
    expect(await stock(catalog.a.skuId)).toEqual(before);
    expect(await outbox("order.created", orderNo)).toEqual([]);

    // a hold refused by its owner: the ones before it go back, the refused one is not asked back
    calls = [];
    refuse.freezePoints = () => bizError("INSUFFICIENT_POINTS", undefined, { requested: 1000, balance: 0 });
    const refused = await order(b, { items, couponId: couponOffer.id, usePoints: 1000 });
    expect([refused.status, refused.body.type]).toEqual([409, "INSUFFICIENT_POINTS"]);
    expect(calls.filter((c) => c.action !== "offers").map((c) => c.action)).toEqual(["lockCoupon", "freezePoints", "releaseCoupon"]);
    expect(await stock(catalog.a.skuId)).toEqual(before);
  });

  it("pricing refuses before anything is held: points beyond the balance or the cap, a coupon below its threshold", async () => {
    standardOffers();
    const b = await newBuyer(shop);
    const items = [{ skuId: catalog.other.skuId, quantity: 1 }];
    const cases: [Record<string, unknown>, number, string][] = [
      [{ items, usePoints: 5001 }, 409, "INSUFFICIENT_POINTS"],
      [{ items, usePoints: 1001 }, 422, "POINTS_CAP_EXCEEDED"],
      [{ items, couponId: couponOffer.id }, 409, "COUPON_NOT_APPLICABLE"],
    ];
    for (const [body, status, type] of cases) {
      expect([(await order(b, body)).status, (await http.post("cart/quote", body, { token: b.token })).body.type]).toEqual([status, type]);
    }
    // marketing's own refusal passes through
    refuse.offers = () => bizError("COUPON_NOT_FOUND", undefined, { couponId: 999 });
    const theirs = await order(b, { items, couponId: 999 });
    expect([theirs.status, theirs.body.type]).toEqual([404, "COUPON_NOT_FOUND"]);
    expect(named("lockCoupon").concat(named("freezePoints"))).toEqual([]);
    const [{ n }] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM orders WHERE user_id = ?", { replacements: [b.id], type: QueryTypes.SELECT });
    expect(Number(n)).toBe(0);
  });

  it("buyer cancel and expiry: one order.cancelled each, carrying source, items and holds; orders asks nothing back itself", async () => {
    standardOffers();
    const b = await newBuyer(shop);
    const items = [{ skuId: catalog.a.skuId, quantity: 1 }];
    const cancelled = (await order(b, { items, couponId: couponOffer.id, usePoints: 500 })).body.data;
    const expiring = (await order(b, { items, usePoints: 300 })).body.data;
    expect((await http.post(`orders/${cancelled.orderNo}/cancel`, {}, { token: b.token })).status).toBe(200);
    await db.query("UPDATE orders SET expires_at = ? WHERE order_no = ?", { replacements: [new Date(Date.now() - 60_000), expiring.orderNo] });
    await shop.brokerFor("orders").call("orders.sweepExpired", {});
    expect((await http.get(`orders/${expiring.orderNo}`, { token: b.token })).body.data.status).toBe("CANCELLED");

    const item = [{ skuId: catalog.a.skuId, quantity: 1 }];
    expect(await outbox("order.cancelled", cancelled.orderNo)).toEqual([
      { orderNo: cancelled.orderNo, userId: b.id, reason: "cancelled by buyer", source: "NORMAL", items: item, holds: { couponId: couponOffer.id, points: 500 } },
    ]);
    expect(await outbox("order.cancelled", expiring.orderNo)).toEqual([
      { orderNo: expiring.orderNo, userId: b.id, reason: "payment timeout", source: "NORMAL", items: item, holds: { couponId: null, points: 300 } },
    ]);
    // a second sweep and a late cancel change nothing
    await shop.brokerFor("orders").call("orders.sweepExpired", {});
    expect((await http.post(`orders/${cancelled.orderNo}/cancel`, {}, { token: b.token })).status).toBe(409);
    expect((await outbox("order.cancelled", cancelled.orderNo)).length + (await outbox("order.cancelled", expiring.orderNo)).length).toBe(2);
    // marketing learns it from the channel, once per event
    await waitFor(() => [cancelled.orderNo, expiring.orderNo].every((no) => delivered.some((d) => d.channel === "order.cancelled" && d.data.orderNo === no)), { what: "order.cancelled delivered" });
    expect(new Set(delivered.filter((d) => d.channel === "order.cancelled").map((d) => d.eventId)).size).toBe(2);
    expect(named("releaseCoupon").concat(named("unfreezePoints"))).toEqual([]);
  });

  it("payment and refund: order.paid carries source, payable and holds; order.refunded the refund, the amount and the holds", async () => {
    standardOffers();
    const b = await newBuyer(shop, { admin, wallet: 100_000 });
    const o = (await order(b, { items: [{ skuId: catalog.a.skuId, quantity: 2 }], couponId: couponOffer.id, usePoints: 2000 })).body.data;
    expect(o).toMatchObject({ itemsTotal: 12000, discount: 3900, pointsDeduction: 2000, shippingFee: 1000, payable: 7100 });
    await openPayment(http, b, o.orderNo, "wallet");
    await waitFor(async () => (await http.get(`orders/${o.orderNo}`, { token: b.token })).body.data.status === "PAID", { what: "paid" });
    const holds = { couponId: couponOffer.id, points: 2000 };
    expect(await outbox("order.paid", o.orderNo)).toEqual([expect.objectContaining({ orderNo: o.orderNo, userId: b.id, amount: 7100, payable: 7100, source: "NORMAL", holds })]);

    const req = (await http.post(`orders/${o.orderNo}/refund`, { reason: "too big" }, { token: b.token })).body.data;
    expect((await http.post(`admin/refunds/${req.id}/approve`, {}, { token: admin })).status).toBe(200);
    await waitFor(async () => (await http.get(`orders/${o.orderNo}`, { token: b.token })).body.data.status === "REFUNDED", { what: "refunded" });
    expect(await outbox("order.refunded", o.orderNo)).toEqual([{ orderNo: o.orderNo, userId: b.id, refundId: req.id, amount: 7100, payable: 7100, source: "NORMAL", holds, restock: true }]);
    await waitFor(() => ["order.paid", "order.refunded"].every((ch) => delivered.some((d) => d.channel === ch && d.data.orderNo === o.orderNo)), { what: "paid and refunded delivered" });
  });

  it("orders.createOrder, the command a flash sale's writer calls: its source and payment window, once per key, holds given back on failure", async () => {
    const b = await newBuyer(shop);
    const [{ price: _price, status: _status, ...sku }] = await shop.brokers[0].call<any[], unknown>("catalog.getSkus", { ids: [catalog.a.skuId] });
    // a flash sale's own price
    const line = { ...sku, unitPrice: 1990, quantity: 1 };
    const address = { id: b.addressId, name: "Buyer", mobile: "13800000000", province: "Zhejiang", city: "Hangzhou", district: "Xihu", detail: "1 Test Road" };
    const cmd = { userId: b.id, source: "SECKILL", idempotencyKey: `seckill:${crypto.randomUUID()}`, requestHash: "ticket-1", address, lines: [line] };
    const before = await stock(catalog.a.skuId);
    // from the gateway's node: in the cluster the command crosses NATS
    const first = await shop.brokers[0].call<any, unknown>("orders.createOrder", cmd);
    expect(first.replayed).toBe(false);
    expect(first.order).toMatchObject({ source: "SECKILL", status: "PENDING_PAYMENT", itemsTotal: 1990, discount: 0, shippingFee: 1000, payable: 2990, couponId: null, address });
    const window = Date.parse(first.order.expiresAt) - Date.parse(first.order.createdAt);
    expect(window).toBe(shop.config().seckillPaymentTimeoutSec * 1000);
    // a SECKILL order takes no stock of its own: its unit sits in the sale's hold (seckill:<id>)
    expect((await stock(catalog.a.skuId)).reserved).toBe(before.reserved);
    expect(await outbox("order.created", first.order.orderNo)).toEqual([expect.objectContaining({ source: "SECKILL", payable: 2990 })]);

    const again = await shop.brokers[0].call<any, unknown>("orders.createOrder", cmd);
    expect([again.replayed, again.order.orderNo]).toEqual([true, first.order.orderNo]);
    await expect(shop.brokers[0].call("orders.createOrder", { ...cmd, requestHash: "ticket-2" })).rejects.toMatchObject({ type: "IDEMPOTENCY_CONFLICT" });
    await expect(shop.brokers[0].call("orders.createOrder", { ...cmd, idempotencyKey: "k2", lines: [{ ...line, unitPrice: 1.5 }] })).rejects.toMatchObject({ type: "VALIDATION_ERROR" });
    expect((await stock(catalog.a.skuId)).reserved).toBe(before.reserved);

    // priced with offers too: the coupon it uses is locked, and given back when the order cannot be written
    standardOffers();
    const svc = shop.brokerFor("orders").getLocalService("orders") as unknown as { models: { OrderLine: { bulkCreate: (...a: unknown[]) => Promise<unknown> } } };
    const original = svc.models.OrderLine.bulkCreate;
    svc.models.OrderLine.bulkCreate = async () => {
      throw new Error("disk full");
    };
    try {
      const withCoupon = { ...cmd, idempotencyKey: "k3", lines: [{ ...line, unitPrice: 6000 }], offers: { promotions: [], coupon: couponOffer, usePoints: 0, pointsBalance: 0 } };
      await expect(shop.brokers[0].call("orders.createOrder", withCoupon)).rejects.toBeTruthy();
    } finally {
      svc.models.OrderLine.bulkCreate = original;
    }
    expect(calls.map((c) => c.action)).toEqual(["lockCoupon", "releaseCoupon"]);
    expect((await stock(catalog.a.skuId)).reserved).toBe(before.reserved);
  });

  it("marketing gone again: the shop sells without promotions, and GET /cart still answers", async () => {
    await stopMarketing();
    const b = await newBuyer(shop);
    await http.post("cart/items", { skuId: catalog.a.skuId, quantity: 2 }, { token: b.token });
    expect((await http.get("cart", { token: b.token })).body.data.totals).toMatchObject({ itemsTotal: 12000, discount: 0, payable: 12000 });
    const r = await order(b, {});
    expect(r.status).toBe(201);
    expect(r.body.data).toMatchObject({ itemsTotal: 12000, discount: 0, payable: 12000 });
    expect(named("offers")).toEqual([]);
  });
});
