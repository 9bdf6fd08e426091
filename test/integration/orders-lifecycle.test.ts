/**
 * An order's whole life with real payments, in both shapes: pay (wallet and sandbox) → PAID via
 * `payment.succeeded` → ship → confirm → review; after-sales refunds approved (money back to the
 * wallet, stock back when unshipped) and rejected (order back where it was); a payment that lands
 * on a cancelled order is refunded automatically.
 */
import type { Sequelize } from "sequelize";
import { QueryTypes } from "sequelize";
import { Buyer, StockedSku, newBuyer, openPayment, placeOrder, stockedProduct } from "../helpers/checkout";
import { Shop, client, loginAdmin, startShop, waitFor } from "../helpers/shop";

jest.setTimeout(90_000);

const shapes: [string, Parameters<typeof startShop>[0]][] = [
  ["embedded", { shape: "embedded" }],
  ["cluster", { shape: "cluster", nodes: [["api"], ["users", "catalog", "cart"], ["inventory"], ["orders"], ["payments"]] }],
];

describe.each(shapes)("order life cycle with payments (%s)", (_name, opts) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;
  let db: Sequelize;

  beforeAll(async () => {
    shop = await startShop(opts);
    http = client(shop);
    admin = await loginAdmin(shop);
    db = (shop.brokerFor("orders").getLocalService("orders") as unknown as { sequelize: Sequelize }).sequelize;
  }, 120_000);
  afterAll(async () => {
    await shop?.stop();
  });

  const get = async (b: Buyer, orderNo: string) => (await http.get(`orders/${orderNo}`, { token: b.token })).body.data;
  const until = (b: Buyer, orderNo: string, status: string) =>
    waitFor(
      async () => {
        const o = await get(b, orderNo);
        return o.status === status ? o : null;
      },
      { what: `order ${orderNo} ${status}` },
    );
  const stock = async (skuId: number) => (await http.get(`inventory/${skuId}`, { token: admin })).body.data as { onHand: number; reserved: number; available: number };
  const balance = async (b: Buyer) => (await http.get("users/me/wallet", { token: b.token })).body.data.balance as number;
  const events = async (channel: string, orderNo: string) =>
    Number(
      (
        await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE channel = ? AND payload LIKE ?", {
          replacements: [channel, `%${orderNo}%`],
          type: QueryTypes.SELECT,
        })
      )[0].n,
    );

  /** A paid order of `quantity` units of `sku` (wallet), waited until PAID and committed. */
  async function paidOrder(b: Buyer, sku: StockedSku, quantity: number) {
    const o = await placeOrder(http, b, [{ skuId: sku.skuId, quantity }]);
    const pay = await openPayment(http, b, o.orderNo, "wallet");
    expect(pay.status).toBe("SUCCEEDED");
    const paid = await until(b, o.orderNo, "PAID");
    return { ...paid, paymentNo: pay.paymentNo };
  }

  it("pay → PAID (order.paid once, stock committed, sales counted) → ship → confirm → review", async () => {
    const [sku, other] = await stockedProduct(shop, admin, [
      { price: 3000, stock: 10 },
      { price: 3000, stock: 10 },
    ]);
    const b = await newBuyer(shop, { admin, wallet: 100_000 });
    const o = await paidOrder(b, sku, 2);
    expect(o).toMatchObject({ status: "PAID", itemsTotal: 6000, shippingFee: 1000, payable: 7000, paymentNo: expect.any(String) });
    expect(o.paidAt).toBeTruthy();
    expect(o.timeline.map((e: { status: string }) => e.status)).toEqual(["PENDING_PAYMENT", "PAID"]);
    expect(o.timeline[1]).toMatchObject({ from: "PENDING_PAYMENT", actor: "system:payments" });
    expect(await balance(b)).toBe(100_000 - 7000);
    expect(await events("order.paid", o.orderNo)).toBe(1);
    // inventory commits the reservation when it sees order.paid: the units leave on-hand
    await waitFor(async () => (await stock(sku.skuId)).onHand === 8, { what: "stock committed" });
    expect(await stock(sku.skuId)).toMatchObject({ onHand: 8, reserved: 0, available: 8 });
    await waitFor(async () => (await http.get(`products/${sku.productId}`)).body.data.sales === 2, { what: "sales counted" });

    // paying twice is refused by payments, and nothing changes here
    expect((await http.post("payments", { orderNo: o.orderNo, channel: "wallet" }, { token: b.token })).status).toBe(409);

    const early = await http.post(`products/${sku.productId}/reviews`, { orderNo: o.orderNo, skuId: sku.skuId, rating: 5, content: "fast" }, { token: b.token });
    expect([early.status, early.body.type]).toEqual([403, "REVIEW_NOT_ALLOWED"]);
    const unshipped = await http.post(`orders/${o.orderNo}/confirm-receipt`, {}, { token: b.token });
    expect([unshipped.status, unshipped.body.type]).toEqual([409, "ORDER_STATE_CONFLICT"]);
    expect((await http.post(`admin/orders/${o.orderNo}/ship`, { carrier: "SF" }, { token: admin })).status).toBe(422);

    const shipped = await http.post(`admin/orders/${o.orderNo}/ship`, { carrier: "SF Express", trackingNo: "SF123456" }, { token: admin });
    expect(shipped.status).toBe(200);
    expect(shipped.body.data).toMatchObject({ status: "SHIPPED", shipment: { carrier: "SF Express", trackingNo: "SF123456" } });
    const twice = await http.post(`admin/orders/${o.orderNo}/ship`, { carrier: "SF Express", trackingNo: "SF999" }, { token: admin });
    expect([twice.status, twice.body.type]).toEqual([409, "ORDER_STATE_CONFLICT"]);

    const done = await http.post(`orders/${o.orderNo}/confirm-receipt`, {}, { token: b.token });
    expect(done.status).toBe(200);
    expect(done.body.data.status).toBe("COMPLETED");
    expect(done.body.data.completedAt).toBeTruthy();
    expect(done.body.data.timeline.map((e: { status: string }) => e.status)).toEqual(["PENDING_PAYMENT", "PAID", "SHIPPED", "COMPLETED"]);
    expect(await events("order.shipped", o.orderNo)).toBe(1);
    expect(await events("order.completed", o.orderNo)).toBe(1);

    // reviews: only the buyer, only lines of the order, once per line
    const review = { orderNo: o.orderNo, skuId: sku.skuId, rating: 4, content: "good value" };
    const r1 = await http.post(`products/${sku.productId}/reviews`, review, { token: b.token });
    expect(r1.status).toBe(201);
    expect(r1.body.data).toMatchObject({ productId: sku.productId, skuId: sku.skuId, orderNo: o.orderNo, rating: 4, content: "good value" });
    const r2 = await http.post(`products/${sku.productId}/reviews`, { ...review, rating: 1 }, { token: b.token });
    expect([r2.status, r2.body.type, r2.body.code]).toEqual([409, "REVIEW_EXISTS", 20011]);
    const stranger = await newBuyer(shop);
    const r3 = await http.post(`products/${sku.productId}/reviews`, review, { token: stranger.token });
    expect([r3.status, r3.body.type]).toEqual([404, "ORDER_NOT_FOUND"]);
    const r4 = await http.post(`products/${sku.productId}/reviews`, { ...review, skuId: other.skuId }, { token: b.token });
    expect([r4.status, r4.body.type]).toEqual([404, "ORDER_LINE_NOT_FOUND"]);
    for (const bad of [{ ...review, rating: 6 }, { ...review, rating: 0 }, { ...review, content: "" }, { ...review, rating: 4.5 }]) {
      expect((await http.post(`products/${sku.productId}/reviews`, bad, { token: b.token })).status).toBe(422);
    }
    expect((await http.post(`products/${sku.productId}/reviews`, review)).status).toBe(401);

    // a second completed order of the same product, rated 5: the average is 4.5 over 2
    const o2 = await paidOrder(b, other, 1);
    await http.post(`admin/orders/${o2.orderNo}/ship`, { carrier: "SF", trackingNo: "2" }, { token: admin });
    await http.post(`orders/${o2.orderNo}/confirm-receipt`, {}, { token: b.token });
    const concurrent = await Promise.all(
      [1, 2, 3].map(() => http.post(`products/${other.productId}/reviews`, { orderNo: o2.orderNo, skuId: other.skuId, rating: 5, content: "great" }, { token: b.token })),
    );
    expect(concurrent.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const detail = await waitFor(
      async () => {
        const d = (await http.get(`products/${sku.productId}`)).body.data;
        return d.reviewCount === 2 ? d : null;
      },
      { what: "review aggregates" },
    );
    expect(detail.rating).toBe(4.5);
    const list = (await http.get(`products/${sku.productId}/reviews`)).body.data;
    expect(list.total).toBe(2);
    expect(list.items.map((x: { rating: number }) => x.rating).sort()).toEqual([4, 5]);
  });

  it("refund of an unshipped order: REFUNDING at once, approve → money back, stock back, REFUNDED", async () => {
    const [sku] = await stockedProduct(shop, admin, [{ price: 5000, stock: 10 }]);
    const b = await newBuyer(shop, { admin, wallet: 50_000 });
    const o = await paidOrder(b, sku, 3); // 150 yuan: free shipping
    expect(o.payable).toBe(15_000);
    await waitFor(async () => (await stock(sku.skuId)).onHand === 7, { what: "stock committed" });

    const req = await http.post(`orders/${o.orderNo}/refund`, { reason: "wrong size" }, { token: b.token });
    expect(req.status).toBe(201);
    expect(req.body.data).toMatchObject({ orderNo: o.orderNo, status: "REQUESTED", amount: 15_000, reason: "wrong size" });
    expect((await get(b, o.orderNo)).status).toBe("REFUNDING");
    const again = await http.post(`orders/${o.orderNo}/refund`, { reason: "again" }, { token: b.token });
    expect([again.status, again.body.type]).toEqual([409, "ORDER_STATE_CONFLICT"]);
    const ship = await http.post(`admin/orders/${o.orderNo}/ship`, { carrier: "SF", trackingNo: "X" }, { token: admin });
    expect([ship.status, ship.body.type]).toEqual([409, "ORDER_STATE_CONFLICT"]);
    expect((await http.post(`admin/refunds/${req.body.data.id}/approve`, {}, { token: b.token })).status).toBe(403);

    const approved = await http.post(`admin/refunds/${req.body.data.id}/approve`, { note: "ok" }, { token: admin });
    expect(approved.status).toBe(200);
    expect(approved.body.data.refundNo).toBeTruthy();
    const refunded = await until(b, o.orderNo, "REFUNDED");
    expect(refunded.timeline.map((e: { status: string }) => e.status)).toEqual(["PENDING_PAYMENT", "PAID", "REFUNDING", "REFUNDING", "REFUNDED"]);
    const requests = (await http.get(`orders/${o.orderNo}/refunds`, { token: b.token })).body.data;
    expect(requests).toEqual([expect.objectContaining({ status: "COMPLETED", note: "ok", refundNo: approved.body.data.refundNo })]);
    expect(await balance(b)).toBe(50_000);
    // the goods never left: on-hand is back to 10
    await waitFor(async () => (await stock(sku.skuId)).onHand === 10, { what: "stock returned" });
    const payment = (await http.get(`payments/${o.paymentNo}`, { token: b.token })).body.data;
    expect(payment.refunds).toEqual([expect.objectContaining({ amount: 15_000, status: "SUCCEEDED" })]);

    const late = await http.post(`admin/refunds/${req.body.data.id}/approve`, {}, { token: admin });
    expect([late.status, late.body.type]).toEqual([409, "REFUND_STATE_CONFLICT"]);
    expect((await http.post(`admin/refunds/999999/reject`, {}, { token: admin })).body.type).toBe("REFUND_NOT_FOUND");
  });

  it("refund of a shipped order: reject returns it to SHIPPED; approve refunds without returning stock", async () => {
    const [sku] = await stockedProduct(shop, admin, [{ price: 12_000, stock: 5 }]);
    const b = await newBuyer(shop, { admin, wallet: 20_000 });
    const o = await paidOrder(b, sku, 1);
    await waitFor(async () => (await stock(sku.skuId)).onHand === 4, { what: "stock committed" });
    await http.post(`admin/orders/${o.orderNo}/ship`, { carrier: "YTO", trackingNo: "YT1" }, { token: admin });

    const first = (await http.post(`orders/${o.orderNo}/refund`, { reason: "late" }, { token: b.token })).body.data;
    const rejected = await http.post(`admin/refunds/${first.id}/reject`, { note: "already on its way" }, { token: admin });
    expect(rejected.status).toBe(200);
    expect(rejected.body.data).toMatchObject({ status: "REJECTED", note: "already on its way" });
    expect((await get(b, o.orderNo)).status).toBe("SHIPPED");
    expect((await http.post(`admin/refunds/${first.id}/approve`, {}, { token: admin })).body.type).toBe("REFUND_STATE_CONFLICT");
    expect(await balance(b)).toBe(20_000 - 12_000);

    const second = (await http.post(`orders/${o.orderNo}/refund`, { reason: "damaged" }, { token: b.token })).body.data;
    const admins = await http.get("admin/refunds?status=REQUESTED&pageSize=100", { token: admin });
    expect(admins.body.data.items.map((a: { id: number }) => a.id)).toContain(second.id);
    expect((await http.post(`admin/refunds/${second.id}/approve`, {}, { token: admin })).status).toBe(200);
    await until(b, o.orderNo, "REFUNDED");
    expect(await balance(b)).toBe(20_000);
    // shipped goods are not back on the shelf
    expect(await stock(sku.skuId)).toMatchObject({ onHand: 4, reserved: 0 });
  });

  it("a payment that lands on a cancelled order is refunded automatically; the order stays CANCELLED", async () => {
    const [sku] = await stockedProduct(shop, admin, [{ price: 2000, stock: 5 }]);
    const b = await newBuyer(shop);
    const o = await placeOrder(http, b, [{ skuId: sku.skuId, quantity: 1 }]);
    const pay = await openPayment(http, b, o.orderNo, "sandbox");
    expect((await http.post(`orders/${o.orderNo}/cancel`, {}, { token: b.token })).status).toBe(200);
    // the buyer was already on the provider's pay page
    const done = await http.post(`payments/sandbox/${pay.paymentNo}/complete`, { result: "SUCCESS" }, { token: b.token });
    expect(done.status).toBe(200);
    const refunds = await waitFor(
      async () => {
        const p = (await http.get(`payments/${pay.paymentNo}`, { token: b.token })).body.data;
        return p.refunds?.length && p.refunds[0].status === "SUCCEEDED" ? p.refunds : null;
      },
      { what: "automatic refund" },
    );
    expect(refunds).toEqual([expect.objectContaining({ amount: o.payable, afterSalesId: `auto-${pay.paymentNo}`, reason: "payment arrived after cancellation" })]);
    const after = await waitFor(
      async () => {
        const d = await get(b, o.orderNo);
        return d.timeline.some((e: { note: string }) => /refunded automatically/.test(e.note)) ? d : null;
      },
      { what: "refund noted on the order" },
    );
    expect(after.status).toBe("CANCELLED");
    expect(after.paidAt).toBeNull();
    expect(after.timeline.filter((e: { note: string }) => /payment arrived after cancellation/.test(e.note))).toHaveLength(1);
    expect(await events("order.paid", o.orderNo)).toBe(0);
    expect(await stock(sku.skuId)).toMatchObject({ onHand: 5, reserved: 0 });
  });
});
