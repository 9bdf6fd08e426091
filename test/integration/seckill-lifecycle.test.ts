/**
 * What happens to a flash sale's units after admission, in both shapes: an unpaid order that
 * expires gives its unit back to the sale (and the buyer's slot), a paid one sells a unit of the
 * sale's hold, the sale's end returns what is neither sold nor pending to normal stock exactly
 * once, a payment that lands after the expiry is refunded, a refund of a paid order puts its unit
 * back on hand exactly once when it had not shipped (and not at all when it had); and the
 * per-user token bucket.
 */
import type { Sequelize } from "sequelize";
import { QueryTypes } from "sequelize";
import type { ServiceBroker } from "moleculer";
import { Shop, client, loginAdmin, startShop, waitFor } from "../helpers/shop";
import { openPayment } from "../helpers/checkout";
import { buyers, ok, publishSale, purchase, settle } from "../helpers/seckill";

jest.setTimeout(180_000);

describe.each(["embedded", "cluster"] as const)("seckill lifecycle (%s)", (shape) => {
  let shop: Shop;
  let admin: string;
  const http = () => client(shop);
  const stock = async (skuId: number) => ok(await http().get(`inventory/${skuId}`, { token: admin }), "stock");
  const figures = async (id: number) => ok(await http().get(`admin/seckill/events/${id}`, { token: admin }), "sale").figures;
  const orderOf = async (token: string, orderNo: string) => ok(await http().get(`orders/${orderNo}`, { token }), "order");
  const reconcile = () => shop.brokerFor("seckill").call("seckill.reconcile");

  beforeAll(async () => {
    shop = await startShop({
      shape,
      env: {
        SECKILL_PAYMENT_TIMEOUT: "3",
        ORDER_SWEEP_INTERVAL_MS: "200",
        SECKILL_RECONCILE_INTERVAL_MS: "300",
        RATE_LIMIT_ENABLED: "true",
        RATE_LIMIT_MAX: "1000000",
        SECKILL_RATE_BURST: "3",
        SECKILL_RATE_PER_SEC: "1",
      },
    });
    admin = await loginAdmin(shop);
  });
  afterAll(async () => {
    await shop?.stop();
  });

  async function buy(b: Awaited<ReturnType<typeof buyers>>[number], saleId: number) {
    const r = await purchase(http(), b, saleId);
    expect([r.status, r.body.type]).toEqual([202, undefined]);
    const [t] = await settle(http(), [{ ticket: r.body.data.ticket, buyer: b }]);
    expect(t.status).toBe("SUCCEEDED");
    return t.orderNo as string;
  }

  it("an unpaid order that expires gives its unit and the buyer's slot back to the sale, and the unit sells again", async () => {
    const { sku, sale } = await publishSale(shop, admin, { quantity: 2, perUserLimit: 1, stock: 5 });
    const [a, b, c] = await buyers(shop, 3);
    const first = await Promise.all([buy(a, sale.id), buy(b, sale.id)]);
    const late = await purchase(http(), c, sale.id);
    expect(late.body.type).toBe("SECKILL_SOLD_OUT");
    // nobody pays: both orders expire and their units come back
    for (const [i, o] of first.entries()) await waitFor(async () => (await orderOf([a, b][i].token, o)).status === "CANCELLED", { what: "expiry", timeout: 30_000 });
    await waitFor(async () => ok(await http().get(`seckill/events/${sale.id}`), "sale").remaining === 2, { what: "units back in the sale" });
    expect(await figures(sale.id)).toMatchObject({ ordered: 2, expired: 2, remaining: 2 });
    // the units never left the sale's hold: normal stock did not move
    expect(await stock(sku.skuId)).toMatchObject({ onHand: 5, reserved: 2, available: 3 });
    // a's slot is free again, and c gets the other unit
    const again = await Promise.all([buy(a, sale.id), buy(c, sale.id)]);
    expect(new Set([...first, ...again]).size).toBe(4);
    expect(await figures(sale.id)).toMatchObject({ ordered: 4, expired: 2, remaining: 0 });
  });

  it("a paid order sells a unit of the sale's hold; the sale's end returns what is neither sold nor pending once; a unit that expires after the end goes to normal stock", async () => {
    const [payer, idler] = await buyers(shop, 2);
    const { sku, sale } = await publishSale(shop, admin, { quantity: 5, perUserLimit: 1, stock: 10, endAt: new Date(Date.now() + 2500) });
    const paidNo = await buy(payer, sale.id);
    const idleNo = await buy(idler, sale.id);
    const p = await openPayment(http(), payer, paidNo, "sandbox");
    ok(await http().post(`payments/sandbox/${p.paymentNo}/complete`, {}, { token: payer.token }), "pay");
    await waitFor(async () => (await orderOf(payer.token, paidNo)).status === "PAID", { what: "paid" });
    // one unit sold out of the hold: on hand 9, still 4 held by the sale
    await waitFor(async () => (await stock(sku.skuId)).onHand === 9, { what: "unit committed" });
    expect(await stock(sku.skuId)).toMatchObject({ onHand: 9, reserved: 4 });
    await waitFor(async () => (await figures(sale.id)).paid === 1, { what: "paid figure" });

    // the end: the units neither sold nor pending go back (3; 4 if the idle order's 3 s window
    // ran out before the sale's end and its unit had come back to the sale)
    const ended = await waitFor(async () => ok(await http().get(`admin/seckill/events/${sale.id}`, { token: admin }), "sale").returnedUnits, { what: "sale ended", timeout: 30_000 });
    expect([3, 4]).toContain(ended);
    await Promise.all([reconcile(), reconcile(), reconcile()]);
    const afterEnd = await stock(sku.skuId);
    expect(afterEnd.onHand).toBe(9);
    if (afterEnd.reserved !== 4 - ended) {
      // the idle order's 3 s window ran out since the end was read, and its unit went to
      // normal stock (what the next lines wait for): nothing else may be held
      expect(afterEnd.reserved).toBe(0);
      expect((await orderOf(idler.token, idleNo)).status).toBe("CANCELLED");
    }
    await waitFor(async () => (await orderOf(idler.token, idleNo)).status === "CANCELLED", { what: "idle order expired", timeout: 30_000 });
    await waitFor(async () => (await stock(sku.skuId)).reserved === 0, { what: "expired unit back to normal stock" });
    await Promise.all([reconcile(), reconcile()]);
    expect(await stock(sku.skuId)).toMatchObject({ onHand: 9, reserved: 0, available: 9 });
    expect(await figures(sale.id)).toMatchObject({ ordered: 2, paid: 1, expired: 1, remaining: 0 });
    const late = await purchase(http(), idler, sale.id);
    expect(late.body.type).toBe("SECKILL_NOT_ACTIVE");
  });

  it("a payment that lands after the order expired is refunded", async () => {
    const { sale } = await publishSale(shop, admin, { quantity: 1 });
    const [b] = await buyers(shop, 1);
    const orderNo = await buy(b, sale.id);
    const p = await openPayment(http(), b, orderNo, "sandbox");
    await waitFor(async () => (await orderOf(b.token, orderNo)).status === "CANCELLED", { what: "expiry", timeout: 30_000 });
    // the buyer completes the provider's page after the expiry
    expect(ok(await http().post(`payments/sandbox/${p.paymentNo}/complete`, {}, { token: b.token }), "late pay").status).toBe("SUCCEEDED");
    const refunds = await waitFor(
      async () => {
        const r = ok(await http().get(`payments/${p.paymentNo}`, { token: b.token }), "payment").refunds;
        return r.length && r[0].status === "SUCCEEDED" ? r : null;
      },
      { what: "automatic refund", timeout: 30_000 },
    );
    expect(refunds).toEqual([expect.objectContaining({ amount: p.amount, status: "SUCCEEDED" })]);
    expect((await orderOf(b.token, orderNo)).status).toBe("CANCELLED");
    // the unit is back in the sale, not sold
    await waitFor(async () => ok(await http().get(`seckill/events/${sale.id}`), "sale").remaining === 1, { what: "unit back" });
    expect(await figures(sale.id)).toMatchObject({ paid: 0, expired: 1 });
  });

  describe("refund of a paid seckill order", () => {
    const db = () => (shop.brokerFor("orders").getLocalService("orders") as unknown as { sequelize: Sequelize }).sequelize;
    const refundedEvent = async (orderNo: string) => {
      const rows = await db().query<{ payload: string }>("SELECT payload FROM outbox WHERE channel LIKE ? AND payload LIKE ?", {
        replacements: ["%order.refunded", `%${orderNo}%`],
        type: QueryTypes.SELECT,
      });
      expect(rows).toHaveLength(1);
      return JSON.parse(rows[0].payload);
    };
    const handled = async (eventId: string) =>
      (await db().query("SELECT 1 FROM processed_events WHERE consumer = 'seckill' AND event_id = ?", { replacements: [eventId], type: QueryTypes.SELECT })).length === 1;
    const returns = async (saleId: number) =>
      (await db().query<{ n: number | string }>("SELECT COUNT(*) AS n FROM stock_movements WHERE type = 'return' AND reference = ?", { replacements: [`seckill:${saleId}`], type: QueryTypes.SELECT }))[0].n;

    async function paidSeckillOrder() {
      const { sku, sale } = await publishSale(shop, admin, { quantity: 3, perUserLimit: 1, stock: 10 });
      const [b] = await buyers(shop, 1);
      const orderNo = await buy(b, sale.id);
      // pay at once: the sale's payment window is 3 s in this suite
      const p = await openPayment(http(), b, orderNo, "sandbox");
      ok(await http().post(`payments/sandbox/${p.paymentNo}/complete`, {}, { token: b.token }), "pay");
      await waitFor(async () => (await orderOf(b.token, orderNo)).status === "PAID", { what: "paid" });
      await waitFor(async () => (await stock(sku.skuId)).onHand === 9, { what: "unit sold out of the hold" });
      return { sku, sale, b, orderNo };
    }

    async function refund(b: { token: string }, orderNo: string) {
      const req = ok(await http().post(`orders/${orderNo}/refund`, { reason: "changed my mind" }, { token: b.token }), "refund request");
      ok(await http().post(`admin/refunds/${req.id}/approve`, {}, { token: admin }), "approve");
      await waitFor(async () => (await orderOf(b.token, orderNo)).status === "REFUNDED", { what: "refunded", timeout: 30_000 });
    }

    /** the original event again (same id) and a copy under a new id, as an at-least-once channel may deliver */
    async function redeliver(env: { eventId: string }) {
      const broker = shop.brokerFor("orders") as ServiceBroker & { sendToChannel(c: string, p: unknown): Promise<void> };
      const copy = { ...env, eventId: `${env.eventId}-again` };
      await broker.sendToChannel("order.refunded", env);
      await broker.sendToChannel("order.refunded", copy);
      await broker.sendToChannel("order.refunded", copy);
      await waitFor(() => handled(copy.eventId), { what: "redelivered refund handled" });
    }

    it("unshipped: its unit goes back on hand once, even when the event comes again", async () => {
      const { sku, sale, b, orderNo } = await paidSeckillOrder();
      await refund(b, orderNo);
      // the sold unit is back in normal stock; the sale's hold (2 units) is untouched
      await waitFor(async () => (await stock(sku.skuId)).onHand === 10, { what: "unit back on hand" });
      expect(await stock(sku.skuId)).toMatchObject({ onHand: 10, reserved: 2, available: 8 });
      const env = await refundedEvent(orderNo);
      expect(env.data).toMatchObject({ orderNo, source: "SECKILL", restock: true });
      await waitFor(() => handled(env.eventId), { what: "refund handled by seckill" });
      await redeliver(env);
      expect(await stock(sku.skuId)).toMatchObject({ onHand: 10, reserved: 2, available: 8 });
      expect(Number(await returns(sale.id))).toBe(1);
      // and the internal action itself answers a repeat as a replay
      const again = await shop.brokerFor("inventory").call("inventory.returnPart", { reference: `seckill:${sale.id}`, key: `paid:${orderNo}` });
      expect(again).toMatchObject({ action: "return", quantity: 1, replayed: true });
      expect(await stock(sku.skuId)).toMatchObject({ onHand: 10, reserved: 2 });
    });

    it("shipped: the goods are gone, nothing goes back on hand", async () => {
      const { sku, sale, b, orderNo } = await paidSeckillOrder();
      ok(await http().post(`admin/orders/${orderNo}/ship`, { carrier: "SF", trackingNo: "SF1" }, { token: admin }), "ship");
      await refund(b, orderNo);
      const env = await refundedEvent(orderNo);
      expect(env.data).toMatchObject({ orderNo, source: "SECKILL", restock: false });
      await waitFor(() => handled(env.eventId), { what: "refund handled by seckill" });
      await redeliver(env);
      expect(await stock(sku.skuId)).toMatchObject({ onHand: 9, reserved: 2 });
      expect(Number(await returns(sale.id))).toBe(0);
    });
  });

  it("the per-user token bucket answers 429 RATE_LIMITED with Retry-After past the burst", async () => {
    const { sale } = await publishSale(shop, admin, { quantity: 100, perUserLimit: 100 });
    const [b, other] = await buyers(shop, 2);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await purchase(http(), b, sale.id));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 429, 429]);
    expect(answers[3].body.type).toBe("RATE_LIMITED");
    expect(Number(answers[3].headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // per user: another buyer is not affected
    expect((await purchase(http(), other, sale.id)).status).toBe(202);
  });
});
