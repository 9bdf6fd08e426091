/**
 * The seckill writer's batched orders (orders.createSeckillOrders), both shapes: a batch delivered
 * again (the same tickets twice) makes no second order; a batch with one bad order fails that
 * order alone; the same tickets redelivered to the writer at once change nothing.
 */
import crypto from "node:crypto";
import type { ServiceBroker } from "moleculer";
import type { Sequelize } from "sequelize";
import { QueryTypes } from "sequelize";
import { Shop, client, loginAdmin, startShop, waitFor } from "../helpers/shop";
import { buyers, ok, publishSale, purchase, settle } from "../helpers/seckill";
import type { BatchOrderResult, SeckillOrderParams } from "../../services/orders/orders.contracts";

jest.setTimeout(180_000);

const address = { id: 1, name: "Li Lei", mobile: "13800000000", province: "Zhejiang", city: "Hangzhou", district: "Xihu", detail: "1 Lake Road" };
const line = { skuId: 9001, productId: 901, categoryId: 91, skuCode: "SK-1", title: "Flash kettle", attrs: { color: "red" }, imageUrl: null, unitPrice: 100, currency: "CNY", quantity: 1 };

describe.each(["embedded", "cluster"] as const)("seckill batched orders (%s)", (shape) => {
  let shop: Shop;
  let admin: string;
  const db = () => (shop.brokerFor("orders").getLocalService("orders") as unknown as { sequelize: Sequelize }).sequelize;
  const batch = (orders: unknown[]) => shop.brokerFor("seckill").call<BatchOrderResult[], { orders: unknown[] }>("orders.createSeckillOrders", { orders });
  const count = async (sql: string, replacements: unknown[]) => Number((await db().query<{ n: number | string }>(sql, { replacements, type: QueryTypes.SELECT }))[0].n);
  const order = (userId: number, ticket = crypto.randomUUID()): SeckillOrderParams => ({ userId, idempotencyKey: `seckill:${ticket}`, requestHash: ticket, address, lines: [line], remark: "seckill test" });

  beforeAll(async () => {
    shop = await startShop({ shape });
    admin = await loginAdmin(shop);
  });
  afterAll(async () => {
    await shop?.stop();
  });

  it("the same batch twice: the second answers the first orders (replayed) and writes nothing", async () => {
    const orders = [order(70001), order(70002), order(70003)];
    const first = await batch(orders);
    expect(first.map((r) => [typeof r.orderNo, r.replayed])).toEqual([["string", false], ["string", false], ["string", false]]);
    const nos = first.map((r) => r.orderNo!);
    // the same tickets again, all at once (two nodes racing a redelivery) and once more after
    const [again, racing] = await Promise.all([batch(orders), batch([...orders].reverse())]);
    const third = await batch(orders);
    expect(again.map((r) => r.orderNo)).toEqual(nos);
    expect(racing.map((r) => r.orderNo)).toEqual([...nos].reverse());
    expect(third.map((r) => [r.orderNo, r.replayed])).toEqual(nos.map((n) => [n, true]));
    expect(await count(`SELECT COUNT(*) AS n FROM orders WHERE user_id IN (70001, 70002, 70003)`, [])).toBe(3);
    // each order is whole: its line, its timeline entry, its order.created event, its key
    for (const no of nos) {
      expect(await count("SELECT COUNT(*) AS n FROM order_lines WHERE order_no = ?", [no])).toBe(1);
      expect(await count("SELECT COUNT(*) AS n FROM order_events WHERE order_no = ?", [no])).toBe(1);
      expect(await count("SELECT COUNT(*) AS n FROM outbox WHERE channel = 'order.created' AND payload LIKE ?", [`%${no}%`])).toBe(1);
    }
    const [row] = await db().query<Record<string, unknown>>("SELECT status, source, items_total, shipping_fee, payable, address_snapshot FROM orders WHERE order_no = ?", { replacements: [nos[0]], type: QueryTypes.SELECT });
    expect(row).toMatchObject({ status: "PENDING_PAYMENT", source: "SECKILL" });
    // priced as createOrder prices it: the sale price plus the usual shipping fee
    expect(Number(row.items_total)).toBe(100);
    expect(Number(row.payable)).toBe(100 + Number(row.shipping_fee));
    expect(JSON.parse(String(row.address_snapshot))).toEqual(address);
  });

  it("one bad order in a batch fails alone: a broken address, a key reused for another ticket", async () => {
    const good = [order(70011), order(70012)];
    const taken = order(70013);
    ok200(await batch([taken]));
    const broken = { ...order(70014), address: { id: 1, name: "No Where" } };
    const conflict = { ...taken, requestHash: "another-ticket" };
    const answers = await batch([good[0], broken, conflict, good[1]]);
    expect(answers[0].orderNo).toBeTruthy();
    expect(answers[3].orderNo).toBeTruthy();
    expect(answers[1]).toMatchObject({ error: { type: "VALIDATION_ERROR", code: 422, retryable: false } });
    expect(answers[2]).toMatchObject({ error: { type: "IDEMPOTENCY_CONFLICT", retryable: false } });
    expect(await count("SELECT COUNT(*) AS n FROM orders WHERE user_id IN (70011, 70012)", [])).toBe(2);
    expect(await count("SELECT COUNT(*) AS n FROM orders WHERE user_id IN (70013, 70014)", [])).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM idempotency_keys WHERE user_id = 70014", [])).toBe(0);
  });

  it("the writer: accepted tickets delivered again, all at once, make no second order", async () => {
    const { sale } = await publishSale(shop, admin, { quantity: 5, perUserLimit: 1 });
    const crowd = await buyers(shop, 3);
    const http = client(shop);
    const tickets = await Promise.all(crowd.map(async (b) => ({ ticket: ok(await purchase(http, b, sale.id), "buy").ticket as string, buyer: b })));
    const done = await settle(http, tickets);
    expect(done.map((t) => t.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
    const send = shop.brokerFor("seckill") as ServiceBroker & { sendToChannel(c: string, p: unknown): Promise<void> };
    const msgs = tickets.map((t) => ({ eventId: sale.id, ticket: t.ticket, userId: t.buyer.id, quantity: 1, address, acceptedAt: Date.now() }));
    await Promise.all([...msgs, ...msgs].map((m) => send.sendToChannel("seckill.accepted", m)));
    await new Promise((r) => setTimeout(r, 1500));
    const users = crowd.map((b) => b.id);
    expect(await count(`SELECT COUNT(*) AS n FROM orders WHERE source = 'SECKILL' AND user_id IN (${users.map(() => "?").join(",")})`, users)).toBe(3);
    const again = await settle(http, tickets);
    expect(again.map((t) => t.orderNo)).toEqual(done.map((t) => t.orderNo));
    await waitFor(async () => ok(await http.get(`admin/seckill/events/${sale.id}`, { token: admin }), "sale").figures.ordered === 3, { what: "figures" });
    expect(ok(await http.get(`admin/seckill/events/${sale.id}`, { token: admin }), "sale").figures).toMatchObject({ ordered: 3, failed: 0, remaining: 2 });
  });
});

function ok200(answers: BatchOrderResult[]) {
  for (const a of answers) if (!a.orderNo) throw new Error(`batch order failed: ${JSON.stringify(a.error)}`);
}
