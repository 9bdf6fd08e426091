/**
 * Every event messages consumes, in both shapes, without SMTP_URL (emails are kept in the
 * delivery log as LOGGED): order cancelled by the buyer, refund approved (and the money back:
 * payment.refunded), refund rejected, a flash-sale ticket (published on seckill.ticket as the
 * seckill service does, twice), a coupon claimed and its expiry reminder (the sweep), and low
 * stock to the admins. Each message names its order and links to it.
 */
import crypto from "node:crypto";
import type { ServiceBroker } from "moleculer";
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { newBuyer, openPayment, placeOrder, stockedProduct } from "../helpers/checkout";
import { Shop, ShopOptions, client, loginAdmin, startShop, waitFor } from "../helpers/shop";

type Json = Record<string, any>;

const SHAPES: [string, ShopOptions][] = [
  ["embedded", { shape: "embedded" }],
  ["cluster", { shape: "cluster", nodes: [["api", "users", "catalog", "inventory", "cart", "ops"], ["orders", "payments", "marketing"], ["messages"]] }],
];

describe.each(SHAPES)("notifications from events (%s)", (_name, opts) => {
  let shop: Shop;
  let db: Sequelize;
  let admin: string;
  let http: ReturnType<typeof client>;

  beforeAll(async () => {
    shop = await startShop({ ...opts, env: { COUPON_EXPIRY_SWEEP_INTERVAL_MS: "1000", MESSAGES_SWEEP_INTERVAL_MS: "200" } });
    db = acquireSequelize(shop.databaseUrl);
    http = client(shop);
    admin = await loginAdmin(shop);
  }, 90_000);

  afterAll(async () => {
    if (db) await releaseSequelize(shop.databaseUrl);
    await shop?.stop();
  });

  const inbox = async (token: string): Promise<Json[]> => (await http.get("users/me/messages?pageSize=100", { token })).body.data.items;
  const waitInbox = async (token: string, what: string, pred: (m: Json) => boolean): Promise<Json> =>
    (await waitFor(async () => (await inbox(token)).find(pred), { what, timeout: 30_000 }))!;

  it("order cancelled, refund approved (and the money back), refund rejected: inbox and email, each naming its order", async () => {
    const [sku] = await stockedProduct(shop, admin, [{ price: 5_000, stock: 50 }]);
    const buyer = await newBuyer(shop, { admin, wallet: 1_000_000 });
    await http.patch("users/me", { locale: "en" }, { token: buyer.token });

    const cancelled = await placeOrder(http, buyer, [{ skuId: sku.skuId, quantity: 1 }]);
    expect((await http.post(`orders/${cancelled.orderNo}/cancel`, {}, { token: buyer.token })).status).toBe(200);
    const c = await waitInbox(buyer.token, "order cancelled", (m) => m.subject === `Order ${cancelled.orderNo} was cancelled`);
    expect(c.body).toBe(`Your order ${cancelled.orderNo} was cancelled: you cancelled it.`);
    expect(c.link).toBe(`/orders/${cancelled.orderNo}`);

    const refunded = await placeOrder(http, buyer, [{ skuId: sku.skuId, quantity: 2 }]);
    await openPayment(http, buyer, refunded.orderNo, "wallet");
    await waitFor(async () => (await http.get(`orders/${refunded.orderNo}`, { token: buyer.token })).body.data.status === "PAID");
    const req = await http.post(`orders/${refunded.orderNo}/refund`, { reason: "too big" }, { token: buyer.token });
    expect(req.status).toBe(201);
    expect((await http.post(`admin/refunds/${req.body.data.id}/approve`, { note: "Sorry & thanks" }, { token: admin })).status).toBe(200);
    const approved = await waitInbox(buyer.token, "refund approved", (m) => m.subject === `Refund approved for order ${refunded.orderNo}`);
    expect(approved.body).toBe(`Your refund request for order ${refunded.orderNo} was approved; ¥100.00 is on its way back to you. Sorry & thanks`);
    const back = await waitInbox(buyer.token, "payment refunded", (m) => m.subject === `¥100.00 refunded for order ${refunded.orderNo}`);
    expect(back.link).toBe(`/orders/${refunded.orderNo}`);

    const rejected = await placeOrder(http, buyer, [{ skuId: sku.skuId, quantity: 1 }]);
    await openPayment(http, buyer, rejected.orderNo, "wallet");
    await waitFor(async () => (await http.get(`orders/${rejected.orderNo}`, { token: buyer.token })).body.data.status === "PAID");
    const req2 = await http.post(`orders/${rejected.orderNo}/refund`, { reason: "changed my mind" }, { token: buyer.token });
    expect((await http.post(`admin/refunds/${req2.body.data.id}/reject`, { note: "Already opened" }, { token: admin })).status).toBe(200);
    const no = await waitInbox(buyer.token, "refund rejected", (m) => m.subject === `Refund declined for order ${rejected.orderNo}`);
    expect(no.body).toBe(`Your refund request for order ${rejected.orderNo} was declined. Already opened`);

    // every one of them also went out as email, kept in the log without SMTP_URL
    const emails = await waitFor(async () => {
      const rows = await db.query<Json>("SELECT template_code, status, provider, body FROM message_deliveries WHERE user_id = ? AND channel = 'email' ORDER BY id", {
        replacements: [buyer.id],
        type: QueryTypes.SELECT,
      });
      return rows.length === 6 && rows.every((r) => r.status === "LOGGED") ? rows : null;
    }, { what: "six logged emails" }) as Json[];
    expect(emails.map((r) => r.template_code).sort()).toEqual(
      ["order.cancelled.email", "order.paid.email", "order.paid.email", "payment.refunded.email", "refund.approved.email", "refund.rejected.email"].sort(),
    );
    expect(emails.find((r) => r.template_code === "refund.approved.email")!.body).toContain("Sorry &amp; thanks");
  });

  it("seckill.ticket (SUCCEEDED twice, FAILED once): one message per outcome, linking the order", async () => {
    const buyer = await newBuyer(shop);
    const seckill = shop.brokerFor("messages") as ServiceBroker & { sendToChannel(ch: string, p: unknown): Promise<void> };
    const ticket = crypto.randomUUID();
    const won = { eventId: 7, eventTitle: "iPhone 1元秒杀", ticket, userId: buyer.id, status: "SUCCEEDED", orderNo: "SK20260101000001" };
    await seckill.sendToChannel("seckill.ticket", won);
    await seckill.sendToChannel("seckill.ticket", won);
    await seckill.sendToChannel("seckill.ticket", { eventId: 8, eventTitle: "Switch flash sale", ticket: crypto.randomUUID(), userId: buyer.id, status: "FAILED", reason: "sold out" });
    const ok = await waitInbox(buyer.token, "seckill won", (m) => m.subject === "抢购成功：iPhone 1元秒杀");
    expect(ok.body).toBe("恭喜，您抢到了「iPhone 1元秒杀」！订单 SK20260101000001 已生成，请尽快支付。");
    expect(ok.link).toBe("/orders/SK20260101000001");
    const lost = await waitInbox(buyer.token, "seckill lost", (m) => m.subject === "抢购未成功：Switch flash sale");
    expect(lost.body).toContain("sold out");
    // both deliveries of the win were consumed: nothing is left in flight, one message each
    await waitFor(async () => (await db.query<Json>("SELECT COUNT(*) AS n FROM processed_events WHERE consumer = 'messages' AND event_id LIKE ?", { replacements: [`seckill.ticket:${ticket}%`], type: QueryTypes.SELECT }))[0].n == 1);
    const all = await inbox(buyer.token);
    expect(all.filter((m) => m.subject.startsWith("抢购成功"))).toHaveLength(1);
    expect(all).toHaveLength(2);
  });

  it("a coupon claimed, then reminded before it expires (the sweep); low stock goes to the admins", async () => {
    const buyer = await newBuyer(shop);
    const validTo = new Date(Date.now() + 2 * 3_600_000);
    const tpl = await http.post(
      "admin/coupon-templates",
      { name: "¥5 off", type: "FIXED", value: 500, threshold: 0, totalQuantity: 10, perUserLimit: 1, validFrom: new Date(Date.now() - 60_000).toISOString(), validTo: validTo.toISOString() },
      { token: admin },
    );
    expect(tpl.status).toBe(201);
    expect((await http.post(`coupon-templates/${tpl.body.data.id}/claim`, {}, { token: buyer.token })).status).toBe(201);
    const claimed = await waitInbox(buyer.token, "coupon claimed", (m) => m.subject === "优惠券已到账：¥5 off");
    expect(claimed.link).toBe("/account/coupons");
    const reminder = await waitInbox(buyer.token, "coupon expiring", (m) => m.subject === "优惠券即将过期：¥5 off");
    expect(reminder.body).toContain("将于");
    // the sweep runs every second: the reminder is still one message
    await waitFor(async () => {
      const rows = await db.query<Json>("SELECT channel, status FROM message_deliveries WHERE dedupe_key LIKE 'coupon.expiring:%' AND user_id = ?", { replacements: [buyer.id], type: QueryTypes.SELECT });
      return rows.length === 2 && rows.some((r) => r.channel === "email" && r.status === "LOGGED");
    }, { what: "reminder by inbox and email" });
    expect((await inbox(buyer.token)).filter((m) => m.subject.startsWith("优惠券即将过期"))).toHaveLength(1);

    const [sku] = await stockedProduct(shop, admin, [{ price: 1_000, stock: 10 }]);
    expect((await http.patch(`inventory/${sku.skuId}`, { lowStockThreshold: 5 }, { token: admin })).status).toBe(200);
    const shopper = await newBuyer(shop);
    await placeOrder(http, shopper, [{ skuId: sku.skuId, quantity: 6 }]);
    const low = await waitInbox(admin, "low stock alert", (m) => m.subject === `库存预警：SKU ${sku.skuId}`);
    expect(low.body).toBe(`SKU ${sku.skuId} 可售库存仅剩 4（预警线 5），请及时补货。`);
    expect(low.link).toBe(`/admin/inventory/${sku.skuId}`);
  });
});
