/**
 * Payment safety, in both shapes:
 * - the sandbox channel (whose pay page lets any buyer mark their own order paid) is off in the
 *   cluster shape unless SANDBOX_ENABLED=true, and off anywhere with SANDBOX_ENABLED=false: not
 *   listed by GET /payments/channels, not opened, and neither its pay page nor its notify
 *   endpoint marks anything paid;
 * - the sandbox provider's callback never counts against the public rate limit: without
 *   PUBLIC_BASE_URL it goes through the cluster, and over HTTP the notify endpoint is exempt
 *   (its signature is the gate);
 * - a callback that cannot be delivered is a retryable 503 for the pay page, never a 409.
 */
import crypto from "node:crypto";
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { canonicalBody, sign } from "../../services/payments/domain/signature";
import { newBuyer, openPayment, placeOrder, stockedProduct, StockedSku } from "../helpers/checkout";
import { freePort } from "../helpers/processes";
import { Shop, ShopOptions, client, loginAdmin, startShop, waitFor } from "../helpers/shop";

jest.setTimeout(120_000);

const DOMAIN = ["users", "catalog", "inventory", "cart", "orders", "payments"];

async function one(db: Sequelize, sql: string, replacements: unknown[]): Promise<unknown> {
  const [row] = await db.query<Record<string, unknown>>(sql, { replacements, type: QueryTypes.SELECT });
  return row ? Object.values(row)[0] : undefined;
}

/** A signed SUCCESS callback for `p`, as the provider would send it. */
function signedSuccess(secret: string, p: { paymentNo: string; amount: number; currency: string }) {
  const raw = canonicalBody({
    paymentNo: p.paymentNo,
    providerTxnId: `sbx_t_${crypto.randomBytes(6).toString("hex")}`,
    amount: p.amount,
    currency: p.currency,
    result: "SUCCESS",
    timestamp: new Date().toISOString(),
    nonce: crypto.randomBytes(8).toString("hex"),
  });
  return { raw, headers: { "content-type": "application/json", "x-sandbox-signature": sign(secret, raw) } };
}

const switchedOff: [string, ShopOptions][] = [
  ["embedded, SANDBOX_ENABLED=false", { shape: "embedded", env: { SANDBOX_ENABLED: "false" } }],
  // testEnv turns the sandbox on for the other cluster suites; "" restores the production default
  ["cluster, SANDBOX_ENABLED unset", { shape: "cluster", nodes: [["api"], DOMAIN], env: { SANDBOX_ENABLED: "" } }],
];

describe.each(switchedOff)("sandbox switched off (%s)", (_name, opts) => {
  let shop: Shop;
  let db: Sequelize;

  beforeAll(async () => {
    shop = await startShop(opts);
    db = acquireSequelize(shop.databaseUrl);
  });
  afterAll(async () => {
    if (db) await releaseSequelize(shop.databaseUrl);
    await shop?.stop();
  });

  it("is not listed, cannot be opened, and neither its pay page nor its notify endpoint marks anything paid", async () => {
    const http = client(shop);
    const admin = await loginAdmin(shop);
    const channels = await http.get("payments/channels");
    expect(channels.status).toBe(200);
    expect(channels.body.data).toEqual({ channels: ["wallet"] });

    const [item] = await stockedProduct(shop, admin, [{ price: 500, stock: 10 }]);
    const b = await newBuyer(shop, { admin, wallet: 10_000 });
    const order = await placeOrder(http, b, [{ skuId: item.skuId, quantity: 1 }]);
    const r = await http.post("payments", { orderNo: order.orderNo, channel: "sandbox" }, { token: b.token });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ type: "PAYMENT_CHANNEL_UNAVAILABLE", code: 40014, data: { channel: "sandbox", channels: ["wallet"] } });
    expect(r.body.traceId).toBeTruthy();
    expect(Number(await one(db, "SELECT COUNT(*) FROM payments WHERE order_no = ?", [order.orderNo]))).toBe(0);

    // a sandbox payment opened while the channel was on cannot be completed once it is off
    const paymentNo = `P${Date.now()}${crypto.randomBytes(5).toString("hex")}`;
    const now = new Date();
    await db.query(
      "INSERT INTO payments (payment_no, order_no, active_order_no, user_id, channel, amount, currency, status, refunded_amount, created_at, updated_at) VALUES (?, ?, ?, ?, 'sandbox', ?, 'CNY', 'PENDING', 0, ?, ?)",
      { replacements: [paymentNo, order.orderNo, order.orderNo, b.id, order.payable, now, now] },
    );
    const page = await http.post(`payments/sandbox/${paymentNo}/complete`, {}, { token: b.token });
    expect([page.status, page.body.type]).toEqual([422, "PAYMENT_CHANNEL_UNAVAILABLE"]);
    const cb = signedSuccess(shop.env.SANDBOX_SECRET, { paymentNo, amount: order.payable, currency: "CNY" });
    const notified = await http.request("POST", "payments/notify/sandbox", { raw: cb.raw, headers: cb.headers });
    expect([notified.status, notified.body.type]).toEqual([422, "PAYMENT_CHANNEL_UNAVAILABLE"]);
    expect(await one(db, "SELECT status FROM payments WHERE payment_no = ?", [paymentNo])).toBe("PENDING");
    expect(Number(await one(db, "SELECT COUNT(*) FROM payment_events WHERE payment_no = ?", [paymentNo]))).toBe(0);
    expect((await http.get(`orders/${order.orderNo}`, { token: b.token })).body.data.status).toBe("PENDING_PAYMENT");

    // the wallet is unaffected
    await db.query("UPDATE payments SET status = 'CLOSED', active_order_no = NULL WHERE payment_no = ?", { replacements: [paymentNo] });
    expect((await openPayment(http, b, order.orderNo, "wallet")).status).toBe("SUCCEEDED");
  });
});

const LIMITS = { RATE_LIMIT_ENABLED: "true", RATE_LIMIT_MAX: "100", RATE_LIMIT_WINDOW_MS: "600000", TRUST_PROXY: "true" };

const delivery: [string, () => Promise<ShopOptions>][] = [
  ["embedded, no PUBLIC_BASE_URL: through the cluster", async () => ({ shape: "embedded", env: LIMITS })],
  [
    "cluster, PUBLIC_BASE_URL: over HTTP to the gateway",
    async () => {
      const port = await freePort();
      return { shape: "cluster", nodes: [["api"], DOMAIN], env: { ...LIMITS, PORT: String(port), PUBLIC_BASE_URL: `http://127.0.0.1:${port}` } };
    },
  ],
];

describe.each(delivery)("sandbox callback delivery (%s)", (_name, options) => {
  let shop: Shop;
  let db: Sequelize;
  let http: ReturnType<typeof client>;
  let item: StockedSku;

  beforeAll(async () => {
    shop = await startShop(await options());
    db = acquireSequelize(shop.databaseUrl);
    http = client(shop);
    [item] = await stockedProduct(shop, await loginAdmin(shop), [{ price: 500, stock: 100 }]);
  });
  afterAll(async () => {
    if (db) await releaseSequelize(shop.databaseUrl);
    await shop?.stop();
  });

  it("a callback that cannot be delivered is a retryable 503 SERVICE_UNAVAILABLE and changes nothing; completing again pays", async () => {
    const b = await newBuyer(shop);
    const order = await placeOrder(http, b, [{ skuId: item.skuId, quantity: 1 }]);
    const p = await openPayment(http, b, order.orderNo, "sandbox");
    // the payments database goes away while the callback is being stored
    const svc = shop.brokerFor("payments").getLocalService("payments") as unknown as {
      models: { PaymentEvent: { create: (...a: unknown[]) => Promise<unknown> } };
    };
    const original = svc.models.PaymentEvent.create;
    svc.models.PaymentEvent.create = async () => {
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:3306"), { name: "SequelizeConnectionRefusedError" });
    };
    let down;
    try {
      down = await http.post(`payments/sandbox/${p.paymentNo}/complete`, {}, { token: b.token });
    } finally {
      svc.models.PaymentEvent.create = original;
    }
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ type: "SERVICE_UNAVAILABLE", code: 1503 });
    expect(down.body.traceId).toBeTruthy();
    expect(await one(db, "SELECT status FROM payments WHERE payment_no = ?", [p.paymentNo])).toBe("PENDING");
    expect(Number(await one(db, "SELECT COUNT(*) FROM payment_events WHERE payment_no = ?", [p.paymentNo]))).toBe(0);

    const again = await http.post(`payments/sandbox/${p.paymentNo}/complete`, {}, { token: b.token });
    expect([again.status, again.body.data?.status]).toEqual([200, "SUCCEEDED"]);
    const elsewhere = { token: b.token, headers: { "x-forwarded-for": "203.0.113.8" } };
    await waitFor(async () => (await http.get(`orders/${order.orderNo}`, elsewhere)).body.data?.status === "PAID", { what: "order PAID" });
  });

  it("however much of 127.0.0.1's rate limit is used up, the sandbox callback gets through", async () => {
    const b = await newBuyer(shop);
    const first = await placeOrder(http, b, [{ skuId: item.skuId, quantity: 1 }]);
    const second = await placeOrder(http, b, [{ skuId: item.skuId, quantity: 2 }]);
    const p1 = await openPayment(http, b, first.orderNo, "sandbox");
    const p2 = await openPayment(http, b, second.orderNo, "sandbox");
    // the shop calls itself from 127.0.0.1, like this test client: use that address's budget up
    let limited = false;
    for (let i = 0; i < 200 && !limited; i++) limited = (await http.get("categories")).status === 429;
    expect(limited).toBe(true);

    // the buyer, elsewhere (behind the trusted proxy), completes the pay page
    const asBuyer = { token: b.token, headers: { "x-forwarded-for": "203.0.113.7" } };
    const done = await http.post(`payments/sandbox/${p1.paymentNo}/complete`, {}, asBuyer);
    expect([done.status, done.body.type, done.body.data?.status]).toEqual([200, undefined, "SUCCEEDED"]);
    // the provider posting from the exhausted address is not counted either: the signature is the gate
    const cb = signedSuccess(shop.env.SANDBOX_SECRET, p2);
    const notified = await http.request("POST", "payments/notify/sandbox", { raw: cb.raw, headers: cb.headers });
    expect([notified.status, notified.body.data]).toEqual([200, { received: true, duplicate: false }]);
    // while everything else from that address is still limited
    expect((await http.get("categories")).status).toBe(429);

    for (const o of [first, second]) {
      await waitFor(async () => (await http.get(`orders/${o.orderNo}`, asBuyer)).body.data?.status === "PAID", { what: `order ${o.orderNo} PAID` });
    }
  });
});
