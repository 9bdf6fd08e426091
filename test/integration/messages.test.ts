/**
 * Messages against a real SMTP server (smtp-server on localhost) in both shapes: an order paid
 * gives exactly one email and one inbox message even when order.paid is delivered twice;
 * shipping reaches inbox, email and the sandbox SMS; HTML email escapes what plain text keeps;
 * preferences suppress marketing email but not transactional; templates are checked; bad input
 * answers with the envelope and sends nothing.
 */
import crypto from "node:crypto";
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { newBuyer, openPayment, placeOrder, stockedProduct } from "../helpers/checkout";
import { NATS, Shop, ShopOptions, client, loginAdmin, newCustomer, startShop, waitFor } from "../helpers/shop";
import { TestSmtp } from "../helpers/smtp";

type Json = Record<string, any>;

/** Hand a message the outbox published once to the outbox again (a redelivery), and wait until it was consumed. */
async function deliverAgain(shop: Shop, db: Sequelize, producer: string, channel: string, match: (data: Json) => boolean): Promise<Json> {
  const rows = await db.query<{ payload: string }>("SELECT payload FROM outbox WHERE producer = ? AND channel = ? AND published_at IS NOT NULL", {
    replacements: [producer, channel],
    type: QueryTypes.SELECT,
  });
  const env = rows.map((r) => JSON.parse(r.payload)).find((e) => match(e.data));
  if (!env) throw new Error(`no published ${channel} matched`);
  const rowId = crypto.randomUUID();
  const svc = shop.brokerFor(producer).getLocalService(producer) as unknown as { tx<T>(fn: (t: unknown) => Promise<T>): Promise<T>; republish(t: unknown, c: string, p: unknown, id: string): Promise<void> };
  await svc.tx((t) => svc.republish(t, channel, env, rowId));
  await waitFor(async () => {
    const [r] = await db.query<{ p: unknown }>("SELECT published_at AS p FROM outbox WHERE event_id = ?", { replacements: [rowId], type: QueryTypes.SELECT });
    return r?.p;
  }, { what: "the second publication" });
  if (shop.shape === "cluster") await drained(`${shop.env.NAMESPACE}_${channel.split(".").join("_")}`, "messages");
  return env;
}

/** Until the durable consumer has nothing pending or unacknowledged. */
async function drained(stream: string, durable: string): Promise<void> {
  const { connect } = await import("nats");
  const nc = await connect({ servers: NATS.replace(/^nats:\/\//, "") });
  try {
    const jsm = await nc.jetstreamManager();
    await waitFor(async () => {
      const ci = await jsm.consumers.info(stream, durable);
      return ci.num_pending === 0 && ci.num_ack_pending === 0;
    }, { what: `${stream}/${durable} drained` });
  } finally {
    await nc.close();
  }
}

const SHAPES: [string, ShopOptions][] = [
  ["embedded", { shape: "embedded" }],
  ["cluster", { shape: "cluster", nodes: [["api", "users", "catalog", "inventory", "cart", "ops"], ["orders", "payments", "marketing"], ["messages"]] }],
];

describe.each(SHAPES)("messages (%s)", (_name, opts) => {
  let smtp: TestSmtp;
  let shop: Shop;
  let db: Sequelize;
  let admin: string;
  let http: ReturnType<typeof client>;
  let sku: { skuId: number; price: number };

  beforeAll(async () => {
    smtp = await new TestSmtp().start();
    shop = await startShop({ ...opts, env: {
        SMTP_URL: smtp.url,
        MAIL_FROM: "Mall Test <shop@mall.test>",
        MESSAGES_SWEEP_INTERVAL_MS: "200",
        MESSAGES_RETRY_BASE_MS: "100",
        MESSAGES_MAX_ATTEMPTS: "3",
        SMS_RATE_LIMIT: "1",
      },
    });
    db = acquireSequelize(shop.databaseUrl);
    http = client(shop);
    admin = await loginAdmin(shop);
    [sku] = await stockedProduct(shop, admin, [{ price: 12_345, stock: 100 }]);
  }, 90_000);

  afterAll(async () => {
    if (db) await releaseSequelize(shop.databaseUrl);
    await shop?.stop();
    await smtp?.stop();
  });

  const deliveries = (userId: number) =>
    db.query<Json>("SELECT channel, status, template_code, recipient, subject, body, provider, dedupe_key FROM message_deliveries WHERE user_id = ? ORDER BY id", {
      replacements: [userId],
      type: QueryTypes.SELECT,
    });

  it("an order paid: one email and one inbox message with the order number and link, even when order.paid arrives twice", async () => {
    const buyer = await newBuyer(shop, { admin, wallet: 1_000_000 });
    const nickname = `<b>Bob & "Co"</b>`;
    const me = await http.patch("users/me", { locale: "en", nickname }, { token: buyer.token });
    expect(me.status).toBe(200);
    expect(me.body.data.locale).toBe("en");
    const email = me.body.data.email as string;

    const order = await placeOrder(http, buyer, [{ skuId: sku.skuId, quantity: 1 }]);
    await openPayment(http, buyer, order.orderNo, "wallet");
    await waitFor(() => smtp.to(email).length >= 1, { what: "the order-paid email" });
    const inbox = await waitFor(async () => {
      const r = await http.get("users/me/messages", { token: buyer.token });
      return r.body.data.total >= 1 ? r.body.data : null;
    }, { what: "the inbox message" });

    await deliverAgain(shop, db, "orders", "order.paid", (d) => d.orderNo === order.orderNo);
    // anything the second delivery caused would have been written by now; the sweep had its turn too
    await waitFor(async () => (await db.query<Json>("SELECT COUNT(*) AS n FROM message_deliveries WHERE status IN ('PENDING','SENDING','RETRYING')", { type: QueryTypes.SELECT }))[0].n == 0);

    const mails = smtp.to(email);
    expect(mails).toHaveLength(1);
    const mail = mails[0];
    expect(mail.headers.subject).toBe(`Payment received for order ${order.orderNo}`);
    expect(mail.headers.from).toContain("shop@mall.test");
    // HTML escapes the nickname; the link names the order
    expect(mail.html).toContain("Hi &lt;b&gt;Bob &amp; &quot;Co&quot;&lt;/b&gt;,");
    expect(mail.html).not.toContain("<b>Bob");
    expect(mail.html).toContain(`/orders/${order.orderNo}`);
    expect(mail.html).toContain("¥123.45");
    // the plain-text alternative reads like text again
    expect(mail.text).toContain(`Hi <b>Bob & "Co"</b>,`);

    const after = (await http.get("users/me/messages", { token: buyer.token })).body.data;
    expect(after.total).toBe(1);
    expect(after.unread).toBe(1);
    const msg = after.items[0];
    expect(msg).toEqual(inbox.items[0]);
    expect(msg.subject).toBe(`Order ${order.orderNo} is paid`);
    // plain text keeps what it was given
    expect(msg.body).toBe(`Hi ${nickname}, we received ¥123.45 for order ${order.orderNo}. We will ship it soon.`);
    expect(msg.link).toBe(`/orders/${order.orderNo}`);
    expect(msg.read).toBe(false);

    const rows = await deliveries(buyer.id);
    expect(rows.map((r) => [r.channel, r.status, r.template_code])).toEqual([
      ["inbox", "SENT", "order.paid.inbox"],
      ["email", "SENT", "order.paid.email"],
    ]);
    expect(rows[1].recipient).toBe(email);
    expect(rows[1].provider).toBe("smtp");
  });

  it("shipping reaches the inbox, email and the sandbox SMS (zh-CN by default); read one, read all, unread count", async () => {
    const buyer = await newBuyer(shop, { admin, wallet: 1_000_000 });
    await http.patch("users/me", { mobile: `139${crypto.randomInt(10_000_000, 99_999_999)}` }, { token: buyer.token });
    const order = await placeOrder(http, buyer, [{ skuId: sku.skuId, quantity: 1 }]);
    await openPayment(http, buyer, order.orderNo, "wallet");
    await waitFor(async () => (await http.get(`orders/${order.orderNo}`, { token: buyer.token })).body.data.status === "PAID");
    expect((await http.post(`admin/orders/${order.orderNo}/ship`, { carrier: "SF Express", trackingNo: "SF1234567890" }, { token: admin })).status).toBe(200);

    const rows = await waitFor(async () => {
      const r = await deliveries(buyer.id);
      return r.length === 5 && r.every((d) => d.status === "SENT") ? r : null;
    }, { what: "paid + shipped deliveries sent" });
    const sms = rows!.find((r) => r.channel === "sms")!;
    expect(sms.template_code).toBe("order.shipped.sms");
    expect(sms.provider).toBe("sandbox");
    expect(sms.body).toContain(`【Mall】您的订单 ${order.orderNo} 已由 SF Express 发出，运单号 SF1234567890`);

    const page = (await http.get("users/me/messages", { token: buyer.token })).body.data;
    expect(page.items.map((m: Json) => m.subject)).toEqual([`订单 ${order.orderNo} 已发货`, `订单 ${order.orderNo} 已支付`]);
    expect((await http.get("users/me/messages/unread-count", { token: buyer.token })).body.data).toEqual({ unread: 2 });
    const read = await http.post(`users/me/messages/${page.items[0].id}/read`, {}, { token: buyer.token });
    expect(read.status).toBe(200);
    expect(read.body.data.read).toBe(true);
    const unread = (await http.get("users/me/messages?unread=true", { token: buyer.token })).body.data;
    expect(unread.items.map((m: Json) => m.id)).toEqual([page.items[1].id]);
    expect(unread.unread).toBe(1);
    expect((await http.post("users/me/messages/read-all", {}, { token: buyer.token })).body.data).toEqual({ updated: 1 });
    expect((await http.get("users/me/messages/unread-count", { token: buyer.token })).body.data).toEqual({ unread: 0 });

    // another user's message is answered like one that does not exist
    const other = await newCustomer(shop, "o");
    const foreign = await http.post(`users/me/messages/${page.items[0].id}/read`, {}, { token: other.token });
    expect(foreign.status).toBe(404);
    expect(foreign.body.type).toBe("MESSAGE_NOT_FOUND");
  });

  it("marketing email respects the user's settings; transactional messages do not ask", async () => {
    const code = `spring-${crypto.randomBytes(3).toString("hex")}`;
    const created = await http.post(
      "admin/message-templates",
      { code, channel: "email", subject: "Spring sale for {{nickname}}", body: "<p>Hi {{nickname}}, {{offer}} until {{until}}</p>" },
      { token: admin },
    );
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ code, channel: "email", locale: "zh-CN", category: "marketing", builtin: false, variables: ["nickname", "offer", "until"] });

    const optedOut = await newBuyer(shop, { admin, wallet: 1_000_000 });
    const optedIn = await newCustomer(shop, "in");
    const settings = await http.patch("users/me/notification-settings", { marketingEmail: false }, { token: optedOut.token });
    expect(settings.body.data).toEqual({ marketingEmail: false, marketingSms: false });
    expect((await http.get("users/me/notification-settings", { token: optedIn.token })).body.data).toEqual({ marketingEmail: true, marketingSms: false });
    const outEmail = (await http.get("users/me", { token: optedOut.token })).body.data.email;
    const inEmail = (await http.get("users/me", { token: optedIn.token })).body.data.email;

    const batch = await http.post("admin/messages/batch", { templateCode: code, userIds: [optedOut.id, optedIn.id, 999_999_999], vars: { offer: "20% <off>", until: "May 1" } }, { token: admin });
    expect(batch.status).toBe(201);
    expect(batch.body.data.queued).toBe(3);
    const view = await waitFor(async () => {
      const r = await http.get(`admin/messages/batches/${batch.body.data.batchId}`, { token: admin });
      return r.body.data.status === "COMPLETED" ? r.body.data : null;
    }, { what: "batch completed" });
    expect(view).toMatchObject({ queued: 3, sent: 1, suppressed: 1, skipped: 1, failed: 0, pending: 0, channel: "email", templateCode: code });
    expect(smtp.to(outEmail)).toHaveLength(0);
    const [mail] = smtp.to(inEmail);
    expect(mail.html).toContain("20% &lt;off&gt; until May 1");

    // the opted-out user still hears about their order, by email too
    const order = await placeOrder(http, optedOut, [{ skuId: sku.skuId, quantity: 1 }]);
    await openPayment(http, optedOut, order.orderNo, "wallet");
    await waitFor(() => smtp.to(outEmail).length === 1, { what: "transactional email despite the setting" });

    const log = await http.get(`admin/messages/deliveries?batchId=${batch.body.data.batchId}`, { token: admin });
    expect(log.body.data.items.map((d: Json) => d.status).sort()).toEqual(["SENT", "SKIPPED", "SUPPRESSED"]);
    const sentRow = log.body.data.items.find((d: Json) => d.status === "SENT");
    const detail = await http.get(`admin/messages/deliveries/${sentRow.id}`, { token: admin });
    expect(detail.body.data.body).toContain("20% &lt;off&gt;");
  });

  it("a refused email is retried with backoff and ends FAILED with the error; SMS beyond the per-number limit waits", async () => {
    const buyer = await newBuyer(shop, { admin, wallet: 1_000_000 });
    const email = (await http.get("users/me", { token: buyer.token })).body.data.email as string;
    smtp.refuse.add(email);
    const order = await placeOrder(http, buyer, [{ skuId: sku.skuId, quantity: 1 }]);
    const paidAt = Date.now();
    await openPayment(http, buyer, order.orderNo, "wallet");
    const failed = await waitFor(async () => {
      const [row] = await db.query<Json>("SELECT status, attempts, last_error, created_at, updated_at FROM message_deliveries WHERE user_id = ? AND channel = 'email'", {
        replacements: [buyer.id],
        type: QueryTypes.SELECT,
      });
      return row?.status === "FAILED" ? row : null;
    }, { what: "the email FAILED" });
    expect(Number(failed!.attempts)).toBe(3);
    expect(failed!.last_error).toMatch(/550|mailbox unavailable/);
    // backoff: 100 ms, then 200 ms between the three attempts (MySQL keeps whole seconds: timed here)
    expect(Date.now() - paidAt).toBeGreaterThanOrEqual(300);
    expect(smtp.to(email)).toHaveLength(0);
    // the inbox message is there all the same
    expect((await http.get("users/me/messages", { token: buyer.token })).body.data.total).toBe(1);

    const code = `sms-${crypto.randomBytes(3).toString("hex")}`;
    expect((await http.post("admin/message-templates", { code, channel: "sms", subject: "promo", body: "[Mall] {{text}}" }, { token: admin })).status).toBe(201);
    const mobile = `137${crypto.randomInt(10_000_000, 99_999_999)}`;
    await http.patch("users/me", { mobile }, { token: buyer.token });
    await http.patch("users/me/notification-settings", { marketingSms: true }, { token: buyer.token });
    const first = await http.post("admin/messages/batch", { templateCode: code, userIds: [buyer.id], vars: { text: "one" } }, { token: admin });
    const second = await http.post("admin/messages/batch", { templateCode: code, userIds: [buyer.id], vars: { text: "two" } }, { token: admin });
    const statuses = await waitFor(async () => {
      const rows = await db.query<Json>("SELECT status, last_error FROM message_deliveries WHERE batch_id IN (?, ?) ORDER BY id", {
        replacements: [first.body.data.batchId, second.body.data.batchId],
        type: QueryTypes.SELECT,
      });
      return rows.length === 2 && rows.some((r) => r.status === "SENT") && rows.some((r) => r.status === "RETRYING") ? rows : null;
    }, { what: "one SMS sent, one waiting for the next window" });
    expect(statuses!.find((r) => r.status === "RETRYING")!.last_error).toMatch(/rate limited: 1 SMS per number/);
  });

  it("built-in templates: overridden per locale, checked against their variables, restored by DELETE", async () => {
    const list = await http.get("admin/message-templates?q=order.paid&pageSize=100", { token: admin });
    expect(list.body.data.items.map((t: Json) => `${t.code}/${t.locale}`).sort()).toEqual(["order.paid.email/en", "order.paid.email/zh-CN", "order.paid.inbox/en", "order.paid.inbox/zh-CN"]);

    const bad = await http.patch("admin/message-templates/order.paid.inbox", { locale: "en", body: "Paid {{orderNo}} {{secret}}" }, { token: admin });
    expect(bad.status).toBe(422);
    expect(bad.body.type).toBe("TEMPLATE_PLACEHOLDER_UNKNOWN");
    expect(bad.body.data.unknown).toEqual(["secret"]);
    const broken = await http.patch("admin/message-templates/order.paid.inbox", { locale: "en", body: "Paid {{#if orderNo}}" }, { token: admin });
    expect(broken.status).toBe(422);
    expect(broken.body.type).toBe("TEMPLATE_INVALID");

    const preview = await http.post("admin/message-templates/order.paid.email/preview", { locale: "en", vars: { nickname: "<i>Al</i>", orderNo: "N1", amount: "¥1.00", link: "/orders/N1", url: "https://shop.example/orders/N1" } }, { token: admin });
    expect(preview.status).toBe(200);
    expect(preview.body.data.subject).toBe("Payment received for order N1");
    expect(preview.body.data.body).toContain("Hi &lt;i&gt;Al&lt;/i&gt;,");
    expect(preview.body.data.body).toContain('<a href="https://shop.example/orders/N1">');
    const missing = await http.post("admin/message-templates/order.paid.email/preview", { locale: "en", vars: { orderNo: "N1" } }, { token: admin });
    expect(missing.status).toBe(422);
    expect(missing.body.type).toBe("TEMPLATE_VARS_MISSING");

    try {
      const ok = await http.patch("admin/message-templates/order.paid.inbox", { locale: "en", subject: "Thanks! {{orderNo}} is paid" }, { token: admin });
      expect(ok.status).toBe(200);
      expect(ok.body.data).toMatchObject({ builtin: true, overridden: true, subject: "Thanks! {{orderNo}} is paid" });
      const buyer = await newBuyer(shop, { admin, wallet: 1_000_000 });
      await http.patch("users/me", { locale: "en" }, { token: buyer.token });
      const order = await placeOrder(http, buyer, [{ skuId: sku.skuId, quantity: 1 }]);
      await openPayment(http, buyer, order.orderNo, "wallet");
      const msg = await waitFor(async () => (await http.get("users/me/messages", { token: buyer.token })).body.data.items[0]);
      expect(msg.subject).toBe(`Thanks! ${order.orderNo} is paid`);
    } finally {
      const restored = await http.del("admin/message-templates/order.paid.inbox?locale=en", { token: admin });
      expect(restored.status).toBe(200);
    }
    const again = await http.del("admin/message-templates/order.paid.inbox?locale=en", { token: admin });
    expect(again.status).toBe(409);
    expect(again.body.type).toBe("TEMPLATE_BUILTIN");
  });

  it("bad input: the envelope, and nothing queued or sent", async () => {
    const customer = await newCustomer(shop, "c");
    const count = async () => Number((await db.query<Json>("SELECT COUNT(*) AS n FROM message_deliveries", { type: QueryTypes.SELECT }))[0].n);
    const batches = async () => Number((await db.query<Json>("SELECT COUNT(*) AS n FROM message_batches", { type: QueryTypes.SELECT }))[0].n);
    const before = [await count(), await batches()];
    const code = `promo-${crypto.randomBytes(3).toString("hex")}`;
    expect((await http.post("admin/message-templates", { code, channel: "inbox", subject: "Hi", body: "Deal: {{deal}}" }, { token: admin })).status).toBe(201);

    const cases: [string, () => Promise<{ status: number; body: Json }>, number, string][] = [
      ["duplicate code", () => http.post("admin/message-templates", { code, channel: "inbox", subject: "x", body: "y" }, { token: admin }), 409, "TEMPLATE_EXISTS"],
      ["built-in code", () => http.post("admin/message-templates", { code: "order.paid.inbox", channel: "inbox", subject: "x", body: "y" }, { token: admin }), 409, "TEMPLATE_EXISTS"],
      ["same code, other channel", () => http.post("admin/message-templates", { code, locale: "en", channel: "sms", subject: "x", body: "y" }, { token: admin }), 409, "TEMPLATE_CHANNEL_MISMATCH"],
      ["body over 64 KB", () => http.post("admin/message-templates", { code: `${code}-big`, channel: "inbox", subject: "x", body: "好".repeat(22_000) }, { token: admin }), 413, "TEMPLATE_TOO_LARGE"],
      ["bad syntax", () => http.post("admin/message-templates", { code: `${code}-bad`, channel: "inbox", subject: "x", body: "{{#each}}" }, { token: admin }), 422, "TEMPLATE_INVALID"],
      ["unknown template (batch)", () => http.post("admin/messages/batch", { templateCode: "no-such-template", all: true }, { token: admin }), 404, "TEMPLATE_NOT_FOUND"],
      ["unknown template (preview)", () => http.post("admin/message-templates/no-such-template/preview", { vars: {} }, { token: admin }), 404, "TEMPLATE_NOT_FOUND"],
      ["missing variable", () => http.post("admin/messages/batch", { templateCode: code, all: true, vars: {} }, { token: admin }), 422, "TEMPLATE_VARS_MISSING"],
      ["unknown variable", () => http.post("admin/messages/batch", { templateCode: code, all: true, vars: { deal: "x", dael: "y" } }, { token: admin }), 422, "TEMPLATE_VARS_UNKNOWN"],
      ["wrong channel", () => http.post("admin/messages/batch", { templateCode: code, all: true, vars: { deal: "x" }, channel: "email" }, { token: admin }), 409, "TEMPLATE_CHANNEL_MISMATCH"],
      ["no audience", () => http.post("admin/messages/batch", { templateCode: code, vars: { deal: "x" } }, { token: admin }), 422, "BATCH_AUDIENCE_INVALID"],
      ["both audiences", () => http.post("admin/messages/batch", { templateCode: code, all: true, userIds: [1], vars: { deal: "x" } }, { token: admin }), 422, "BATCH_AUDIENCE_INVALID"],
      ["variables over 64 KB", () => http.post("admin/messages/batch", { templateCode: code, all: true, vars: { deal: "x".repeat(65_600) } }, { token: admin }), 422, "VALIDATION_ERROR"],
      ["customer on an admin route", () => http.post("admin/messages/batch", { templateCode: code, all: true, vars: { deal: "x" } }, { token: customer.token }), 403, "FORBIDDEN"],
      ["customer lists templates", () => http.get("admin/message-templates", { token: customer.token }), 403, "FORBIDDEN"],
      ["unknown field", () => http.patch("users/me/notification-settings", { marketingPigeon: true }, { token: customer.token }), 422, "VALIDATION_ERROR"],
      ["unknown batch", () => http.get(`admin/messages/batches/${crypto.randomUUID()}`, { token: admin }), 404, "BATCH_NOT_FOUND"],
      ["unknown message", () => http.post("users/me/messages/999999999/read", {}, { token: customer.token }), 404, "MESSAGE_NOT_FOUND"],
    ];
    for (const [what, call, status, type] of cases) {
      const r = await call();
      expect({ what, status: r.status, type: r.body.type }).toEqual({ what, status, type });
      expect(typeof r.body.code).toBe("number");
      expect(typeof r.body.message).toBe("string");
    }
    expect([await count(), await batches()]).toEqual(before);
  });
});
