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
