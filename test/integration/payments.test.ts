/**
 * Payments through the gateway, in both shapes (embedded: one process, SQLite, in-process
 * channels; cluster: gateway/users/catalog/cart/inventory, orders and payments on separate nodes
 * over NATS, MariaDB, Redis, JetStream): the sandbox provider's signed callback over HTTP, the
 * wallet channel, paying twice, forged/replayed callbacks, refunds, and a payment racing the
 * expiry sweeper. Outcomes are checked where a user would notice them (order status, stock,
 * wallet balance) and counted in the database (events stored once, one event per fact).
 */
import crypto from "node:crypto";
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { canonicalBody, sign } from "../../services/payments/domain/signature";
import type { SandboxCallback } from "../../services/payments/payments.contracts";
import { Buyer, StockedSku, newBuyer, openPayment, placeOrder, stockedProduct } from "../helpers/checkout";
import { Shop, client, loginAdmin, startShop, waitFor } from "../helpers/shop";

jest.setTimeout(120_000);

const shapes: [string, Parameters<typeof startShop>[0]][] = [
  ["embedded", { shape: "embedded" }],
  ["cluster", { shape: "cluster", nodes: [["api", "users", "catalog", "cart", "inventory"], ["orders"], ["payments"]] }],
];

/** Small database probes shared by the suites. */
function dbProbe(db: () => Sequelize) {
  const one = async <T = number>(sql: string, replacements: unknown[]): Promise<T> => {
    const [row] = await db().query<Record<string, unknown>>(sql, { replacements, type: QueryTypes.SELECT });
    return (row ? Object.values(row)[0] : undefined) as T;
  };
  return {
    one,
    count: async (sql: string, replacements: unknown[]) => Number(await one(sql, replacements)),
    /** outbox rows of `channel` whose payload mentions `needle` */
    events: async (channel: string, needle: string) =>
      Number(await one("SELECT COUNT(*) AS n FROM outbox WHERE channel = ? AND payload LIKE ?", [channel, `%${needle}%`])),
    reservation: (orderNo: string) => one<string>("SELECT status FROM reservations WHERE reference = ?", [orderNo]),
    stock: async (skuId: number) => {
      const [row] = await db().query<{ on_hand: number; reserved: number }>("SELECT on_hand, reserved FROM stock WHERE sku_id = ?", {
        replacements: [skuId],
        type: QueryTypes.SELECT,
      });
      return { onHand: Number(row.on_hand), reserved: Number(row.reserved) };
    },
  };
}

function callback(p: { paymentNo: string; amount: number; currency: string }, over: Partial<SandboxCallback> = {}): SandboxCallback {
  return {
    paymentNo: p.paymentNo,
    providerTxnId: `sbx_t_${crypto.randomBytes(6).toString("hex")}`,
    amount: p.amount,
    currency: p.currency,
    result: "SUCCESS",
    timestamp: new Date().toISOString(),
    nonce: crypto.randomBytes(8).toString("hex"),
    ...over,
  };
}

describe.each(shapes)("payments (%s)", (_name, opts) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;
  let db: Sequelize;
  let q: ReturnType<typeof dbProbe>;
  let sku: StockedSku;
  let cheap: StockedSku;

  beforeAll(async () => {
    shop = await startShop(opts);
    http = client(shop);
    admin = await loginAdmin(shop);
    db = acquireSequelize(shop.databaseUrl);
    q = dbProbe(() => db);
    [sku, cheap] = await stockedProduct(shop, admin, [
      { price: 2500, stock: 1000 },
      { price: 100, stock: 1000 },
    ]);
  });
  afterAll(async () => {
    if (db) await releaseSequelize(shop.databaseUrl);
    await shop?.stop();
  });

  /** POST the callback as the provider would: raw bytes, signature header. */
  const notify = (raw: string, signature?: string) =>
    http.request("POST", "payments/notify/sandbox", {
      raw,
      headers: { "content-type": "application/json", ...(signature !== undefined ? { "x-sandbox-signature": signature } : {}) },
    });
  const signed = (cb: SandboxCallback) => {
    const raw = canonicalBody(cb);
    return { raw, signature: sign(shop.env.SANDBOX_SECRET, raw) };
  };
  const orderOf = async (b: Buyer, orderNo: string) => (await http.get(`orders/${orderNo}`, { token: b.token })).body.data;
  const waitStatus = (b: Buyer, orderNo: string, status: string) =>
    waitFor(async () => (await orderOf(b, orderNo)).status === status, { what: `order ${orderNo} ${status}`, timeout: 30_000 });

  describe("sandbox channel", () => {
    it("GET /payments/channels lists the channels enabled here (sandbox: on in tests)", async () => {
      const r = await http.get("payments/channels");
      expect(r.status).toBe(200);
      expect(r.body.data).toEqual({ channels: ["sandbox", "wallet"] });
    });

    it("returns a pay URL; a signed callback over HTTP pays the order and inventory commits the stock", async () => {
      const b = await newBuyer(shop);
      const before = await q.stock(sku.skuId);
      const order = await placeOrder(http, b, [{ skuId: sku.skuId, quantity: 2 }]);
      expect(order).toMatchObject({ status: "PENDING_PAYMENT", currency: "CNY" });
      expect(order.payable).toBeGreaterThanOrEqual(5000);

      const r = await http.post("payments", { orderNo: order.orderNo, channel: "sandbox" }, { token: b.token });
      expect(r.status).toBe(201);
      expect(r.body.data).toMatchObject({ orderNo: order.orderNo, amount: order.payable, currency: "CNY", channel: "sandbox", status: "PENDING" });
      expect(r.body.data.payUrl).toMatch(new RegExp(`/api/v1/payments/sandbox/${r.body.data.paymentNo}/complete$`));
      expect((await http.get(`payments/${r.body.data.paymentNo}`, { token: b.token })).body.data).toMatchObject(r.body.data);

      const { raw, signature } = signed(callback(r.body.data));
      const n = await notify(raw, signature);
      expect(n.status).toBe(200);
      expect(n.body.data).toEqual({ received: true, duplicate: false });

      await waitStatus(b, order.orderNo, "PAID");
      const paid = await orderOf(b, order.orderNo);
      expect(paid.paymentNo).toBe(r.body.data.paymentNo);
      const p = await http.get(`payments/${r.body.data.paymentNo}`, { token: b.token });
      expect(p.body.data).toMatchObject({ status: "SUCCEEDED", refunds: [] });
      expect(p.body.data.paidAt).toBeTruthy();
      // order.paid → inventory commits the reservation: on-hand drops, reserved goes back
      await waitFor(async () => (await q.reservation(order.orderNo)) === "COMMITTED", { what: "reservation committed" });
      expect(await q.stock(sku.skuId)).toEqual({ onHand: before.onHand - 2, reserved: before.reserved });
    });

    it("the sandbox pay page sends the signed callback itself (SUCCESS and FAIL)", async () => {
      const b = await newBuyer(shop);
      const order = await placeOrder(http, b, [{ skuId: cheap.skuId, quantity: 1 }]);
      const p = await openPayment(http, b, order.orderNo, "sandbox");
      const failed = await http.post(`payments/sandbox/${p.paymentNo}/complete`, { result: "FAIL" }, { token: b.token });
      expect(failed.status).toBe(200);
      expect(failed.body.data).toMatchObject({ status: "FAILED" });
      expect((await orderOf(b, order.orderNo)).status).toBe("PENDING_PAYMENT");

      // the failed payment frees the order: a new one can be opened and completed
      const p2 = await openPayment(http, b, order.orderNo, "sandbox");
      expect(p2.paymentNo).not.toBe(p.paymentNo);
      const ok = await http.post(`payments/sandbox/${p2.paymentNo}/complete`, {}, { token: b.token });
      expect(ok.status).toBe(200);
      expect(ok.body.data).toMatchObject({ status: "SUCCEEDED" });
      await waitStatus(b, order.orderNo, "PAID");
      // completing again is refused: the payment is no longer pending
      const again = await http.post(`payments/sandbox/${p2.paymentNo}/complete`, {}, { token: b.token });
      expect(again.status).toBe(409);
      expect(again.body.type).toBe("PAYMENT_STATE_CONFLICT");
      expect(await q.count("SELECT COUNT(*) FROM payment_events WHERE payment_no IN (?, ?)", [p.paymentNo, p2.paymentNo])).toBe(2);
    });

    it("the same callback delivered 5 times concurrently pays once: one payment.succeeded, one order.paid, one commit", async () => {
      const b = await newBuyer(shop);
      const order = await placeOrder(http, b, [{ skuId: cheap.skuId, quantity: 3 }]);
      const p = await openPayment(http, b, order.orderNo, "sandbox");
      const { raw, signature } = signed(callback(p));
      const answers = await Promise.all(Array.from({ length: 5 }, () => notify(raw, signature)));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      expect(answers.filter((a) => a.body.data.duplicate === false)).toHaveLength(1);
      await waitStatus(b, order.orderNo, "PAID");
      await waitFor(async () => (await q.reservation(order.orderNo)) === "COMMITTED", { what: "committed" });

      expect(await q.count("SELECT COUNT(*) FROM payment_events WHERE payment_no = ?", [p.paymentNo])).toBe(1);
      expect(await q.count("SELECT COUNT(*) FROM payments WHERE order_no = ? AND status = 'SUCCEEDED'", [order.orderNo])).toBe(1);
      expect(await q.events("payment.succeeded", p.paymentNo)).toBe(1);
      expect(await q.events("order.paid", order.orderNo)).toBe(1);
      expect(await q.count("SELECT COUNT(*) FROM stock_movements WHERE reference = ? AND type = 'commit'", [order.orderNo])).toBe(1);
      expect(await q.count("SELECT COUNT(*) FROM order_events WHERE order_no = ? AND status = 'PAID'", [order.orderNo])).toBe(1);
    });
  });

  describe("wallet channel", () => {
    it("pays from the wallet in one step", async () => {
      const b = await newBuyer(shop, { admin, wallet: 10_000 });
      const order = await placeOrder(http, b, [{ skuId: sku.skuId, quantity: 1 }]);
      const r = await http.post("payments", { orderNo: order.orderNo, channel: "wallet" }, { token: b.token });
      expect(r.status).toBe(201);
      expect(r.body.data).toMatchObject({ channel: "wallet", status: "SUCCEEDED", amount: order.payable });
      expect(r.body.data.payUrl).toBeUndefined();
      // the answer is built from what the request wrote, not read back: it must equal a later read
      const again = (await http.get(`payments/${r.body.data.paymentNo}`, { token: b.token })).body.data;
      expect(again).toMatchObject(r.body.data);
      expect(r.body.data.paidAt).toEqual(expect.any(String));
      const wallet = (await http.get("users/me/wallet", { token: b.token })).body.data;
      expect(wallet.balance).toBe(10_000 - order.payable);
      expect(wallet.entries[0]).toMatchObject({ type: "DEBIT", amount: -order.payable, reference: `pay:${r.body.data.paymentNo}` });
      await waitStatus(b, order.orderNo, "PAID");
      await waitFor(async () => (await q.reservation(order.orderNo)) === "COMMITTED", { what: "committed" });
    });

    it("insufficient balance is a 409, the payment FAILED, nothing debited, and the order still payable", async () => {
      const b = await newBuyer(shop, { admin, wallet: 1000 });
      const order = await placeOrder(http, b, [{ skuId: sku.skuId, quantity: 1 }]);
      const r = await http.post("payments", { orderNo: order.orderNo, channel: "wallet" }, { token: b.token });
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ type: "INSUFFICIENT_BALANCE", code: 10009 });
      expect(await q.one("SELECT status FROM payments WHERE order_no = ?", [order.orderNo])).toBe("FAILED");
      expect((await http.get("users/me/wallet", { token: b.token })).body.data.balance).toBe(1000);
      expect((await orderOf(b, order.orderNo)).status).toBe("PENDING_PAYMENT");
      const p = await openPayment(http, b, order.orderNo, "sandbox");
      expect(p.status).toBe("PENDING");
    });
  });

  describe("bad input: the envelope, a clear type, nothing changed", () => {
    it("paying twice: the open payment again, another channel refused, a paid order refused", async () => {
      const b = await newBuyer(shop, { admin, wallet: 10_000 });
      const order = await placeOrder(http, b, [{ skuId: cheap.skuId, quantity: 1 }]);
      const first = await http.post("payments", { orderNo: order.orderNo, channel: "sandbox" }, { token: b.token });
      const same = await http.post("payments", { orderNo: order.orderNo, channel: "sandbox" }, { token: b.token });
      expect([first.status, same.status]).toEqual([201, 200]);
      expect(same.body.data.paymentNo).toBe(first.body.data.paymentNo);
      const other = await http.post("payments", { orderNo: order.orderNo, channel: "wallet" }, { token: b.token });
      expect(other.status).toBe(409);
      expect(other.body).toMatchObject({ type: "PAYMENT_IN_PROGRESS", code: 40006, data: { paymentNo: first.body.data.paymentNo } });
      expect((await http.get("users/me/wallet", { token: b.token })).body.data.balance).toBe(10_000);

      await http.post(`payments/sandbox/${first.body.data.paymentNo}/complete`, {}, { token: b.token });
      for (const channel of ["sandbox", "wallet"]) {
        const r = await http.post("payments", { orderNo: order.orderNo, channel }, { token: b.token });
        expect(r.status).toBe(409);
        expect(r.body).toMatchObject({ type: "ORDER_ALREADY_PAID", code: 40007 });
      }
      expect(await q.count("SELECT COUNT(*) FROM payments WHERE order_no = ?", [order.orderNo])).toBe(1);
      expect((await http.get("users/me/wallet", { token: b.token })).body.data.balance).toBe(10_000);
    });

    it("concurrent opens of the same order create one payment", async () => {
      const b = await newBuyer(shop);
      const order = await placeOrder(http, b, [{ skuId: cheap.skuId, quantity: 1 }]);
      const rs = await Promise.all(Array.from({ length: 8 }, () => http.post("payments", { orderNo: order.orderNo, channel: "sandbox" }, { token: b.token })));
      expect(rs.filter((r) => r.status === 201)).toHaveLength(1);
      expect(rs.filter((r) => r.status === 200)).toHaveLength(7);
      expect(new Set(rs.map((r) => r.body.data.paymentNo)).size).toBe(1);
      expect(await q.count("SELECT COUNT(*) FROM payments WHERE order_no = ?", [order.orderNo])).toBe(1);
    });

    it("someone else's order or payment is 404; a cancelled order is 409 ORDER_STATE_CONFLICT", async () => {
      const owner = await newBuyer(shop);
      const stranger = await newBuyer(shop, { admin, wallet: 10_000 });
      const order = await placeOrder(http, owner, [{ skuId: cheap.skuId, quantity: 1 }]);
      const theirs = await http.post("payments", { orderNo: order.orderNo, channel: "wallet" }, { token: stranger.token });
      expect(theirs.status).toBe(404);
      expect(theirs.body).toMatchObject({ type: "ORDER_NOT_FOUND", code: 30001 });
      expect((await http.post("payments", { orderNo: "NO-SUCH-ORDER", channel: "sandbox" }, { token: owner.token })).body.type).toBe("ORDER_NOT_FOUND");
      const p = await openPayment(http, owner, order.orderNo, "sandbox");
      expect((await http.get(`payments/${p.paymentNo}`, { token: stranger.token })).status).toBe(404);
      expect((await http.post(`payments/sandbox/${p.paymentNo}/complete`, {}, { token: stranger.token })).status).toBe(404);
      expect((await http.get(`payments/${p.paymentNo}`, { token: admin })).status).toBe(200);
      expect((await http.get(`payments/${p.paymentNo}`)).status).toBe(401);

      const other = await placeOrder(http, owner, [{ skuId: cheap.skuId, quantity: 1 }]);
      expect((await http.post(`orders/${other.orderNo}/cancel`, {}, { token: owner.token })).status).toBe(200);
      const r = await http.post("payments", { orderNo: other.orderNo, channel: "sandbox" }, { token: owner.token });
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ type: "ORDER_STATE_CONFLICT", code: 30004, data: { status: "CANCELLED" } });
      expect(await q.count("SELECT COUNT(*) FROM payments WHERE order_no = ?", [other.orderNo])).toBe(0);
      const bad = await http.post("payments", { orderNo: other.orderNo, channel: "cash" }, { token: owner.token });
      expect(bad.status).toBe(422);
    });

    it("forged, tampered, stale, replayed or malformed callbacks are refused and change nothing", async () => {
      const b = await newBuyer(shop);
      const order = await placeOrder(http, b, [{ skuId: cheap.skuId, quantity: 1 }]);
      const p = await openPayment(http, b, order.orderNo, "sandbox");
      const good = callback(p);
      const raw = canonicalBody(good);
      const secret = shop.env.SANDBOX_SECRET;

      const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
        ["no signature", () => notify(raw), 401, "INVALID_SIGNATURE"],
        ["another secret", () => notify(raw, sign("not-the-secret", raw)), 401, "INVALID_SIGNATURE"],
        ["body changed after signing", () => notify(raw.replace(`"amount":${p.amount}`, `"amount":1`), sign(secret, raw)), 401, "INVALID_SIGNATURE"],
        ["garbage signature", () => notify(raw, "zz"), 401, "INVALID_SIGNATURE"],
        ["wrong amount, correctly signed", () => notify(canonicalBody({ ...good, amount: p.amount - 1 }), sign(secret, canonicalBody({ ...good, amount: p.amount - 1 }))), 400, "AMOUNT_MISMATCH"],
        ["wrong currency, correctly signed", () => notify(canonicalBody({ ...good, currency: "USD" }), sign(secret, canonicalBody({ ...good, currency: "USD" }))), 400, "AMOUNT_MISMATCH"],
        ["11 minutes old", () => {
          const old = canonicalBody({ ...good, timestamp: new Date(Date.now() - 11 * 60_000).toISOString() });
          return notify(old, sign(secret, old));
        }, 400, "CALLBACK_EXPIRED"],
        ["unknown payment", () => {
          const other = canonicalBody({ ...good, paymentNo: "P0000000000000ffffffffff" });
          return notify(other, sign(secret, other));
        }, 404, "PAYMENT_NOT_FOUND"],
        ["unknown field", () => {
          const extra = JSON.stringify({ ...good, bonus: 1 });
          return notify(extra, sign(secret, extra));
        }, 400, "CALLBACK_INVALID"],
      ];
      for (const [what, send, status, type] of cases) {
        const r = await send();
        expect([what, r.status, r.body.type]).toEqual([what, status, type]);
        expect(r.body.code).toBeGreaterThan(0);
        expect(r.body.traceId).toBeTruthy();
      }
      expect(await q.one("SELECT status FROM payments WHERE payment_no = ?", [p.paymentNo])).toBe("PENDING");
      expect(await q.count("SELECT COUNT(*) FROM payment_events WHERE payment_no = ?", [p.paymentNo])).toBe(0);
      expect(await q.events("payment.", p.paymentNo)).toBe(0);

      // the genuine callback still works; re-sending it is a no-op success, while its nonce
      // reused by another "transaction" is a replay
      expect((await notify(raw, sign(secret, raw))).body.data).toEqual({ received: true, duplicate: false });
      expect((await notify(raw, sign(secret, raw))).body.data).toEqual({ received: true, duplicate: true });
      const replay = canonicalBody({ ...good, providerTxnId: "sbx_t_replayed", result: "FAIL" });
      const rr = await notify(replay, sign(secret, replay));
      expect(rr.status).toBe(409);
      expect(rr.body.type).toBe("CALLBACK_REPLAYED");
      expect(await q.one("SELECT status FROM payments WHERE payment_no = ?", [p.paymentNo])).toBe("SUCCEEDED");
      expect(await q.count("SELECT COUNT(*) FROM payment_events WHERE payment_no = ?", [p.paymentNo])).toBe(1);
      await waitStatus(b, order.orderNo, "PAID");
    });
  });

  describe("recovery", () => {
    it("a wallet payment left PENDING by a crash is finished by the sweep, debited once", async () => {
      const b = await newBuyer(shop, { admin, wallet: 10_000 });
      const order = await placeOrder(http, b, [{ skuId: cheap.skuId, quantity: 1 }]);
      // as if the node died right after opening the payment, before (or after) the debit
      const paymentNo = `P${Date.now()}${crypto.randomBytes(5).toString("hex")}`;
      const old = new Date(Date.now() - 60_000);
      await db.query(
        "INSERT INTO payments (payment_no, order_no, active_order_no, user_id, channel, amount, currency, status, refunded_amount, created_at, updated_at) VALUES (?, ?, ?, ?, 'wallet', ?, 'CNY', 'PENDING', 0, ?, ?)",
        { replacements: [paymentNo, order.orderNo, order.orderNo, b.id, order.payable, old, old] },
      );
      const svc = shop.brokerFor("payments").getLocalService("payments") as unknown as { sweep(): Promise<void> };
      await Promise.all([svc.sweep(), svc.sweep()]);
      await svc.sweep();
      expect(await q.one("SELECT status FROM payments WHERE payment_no = ?", [paymentNo])).toBe("SUCCEEDED");
      expect((await http.get("users/me/wallet", { token: b.token })).body.data.balance).toBe(10_000 - order.payable);
      expect(await q.events("payment.succeeded", paymentNo)).toBe(1);
      await waitStatus(b, order.orderNo, "PAID");
    });
  });

  describe("refunds", () => {
    it("a payment that lands on a cancelled order is refunded automatically and the stock released", async () => {
      const b = await newBuyer(shop);
      const before = await q.stock(cheap.skuId);
      const order = await placeOrder(http, b, [{ skuId: cheap.skuId, quantity: 2 }]);
      const p = await openPayment(http, b, order.orderNo, "sandbox");
      expect((await http.post(`orders/${order.orderNo}/cancel`, {}, { token: b.token })).status).toBe(200);
      // the buyer still completes the provider's page: the money arrives after the cancel
      expect((await http.post(`payments/sandbox/${p.paymentNo}/complete`, {}, { token: b.token })).body.data.status).toBe("SUCCEEDED");
      const refunds = await waitFor(
        async () => {
          const r = (await http.get(`payments/${p.paymentNo}`, { token: b.token })).body.data.refunds;
          return r.length && r[0].status === "SUCCEEDED" ? r : null;
        },
        { what: "automatic refund", timeout: 30_000 },
      );
      expect(refunds).toEqual([expect.objectContaining({ afterSalesId: `auto-${p.paymentNo}`, amount: order.payable, status: "SUCCEEDED" })]);
      expect((await orderOf(b, order.orderNo)).status).toBe("CANCELLED");
      expect(await q.reservation(order.orderNo)).toBe("RELEASED");
      expect(await q.stock(cheap.skuId)).toEqual(before);
      await waitFor(async () => (await q.events("payment.refunded", p.paymentNo)) === 1, { what: "payment.refunded" });
      // the order is cancelled, whatever its refunded payment says: paying it again is a state conflict
      for (const channel of ["sandbox", "wallet"]) {
        const again = await http.post("payments", { orderNo: order.orderNo, channel }, { token: b.token });
        expect([again.status, again.body.type, again.body.code, again.body.data?.status]).toEqual([409, "ORDER_STATE_CONFLICT", 30004, "CANCELLED"]);
      }
      expect(await q.count("SELECT COUNT(*) FROM payments WHERE order_no = ?", [order.orderNo])).toBe(1);
    });

    it.each(["FAILED", "CLOSED"])("a signed SUCCESS for a %s payment is money captured: recorded and refunded automatically, once", async (status) => {
      const b = await newBuyer(shop);
      const order = await placeOrder(http, b, [{ skuId: cheap.skuId, quantity: 1 }]);
      const p = await openPayment(http, b, order.orderNo, "sandbox");
      if (status === "FAILED") {
        const failed = await http.post(`payments/sandbox/${p.paymentNo}/complete`, { result: "FAIL" }, { token: b.token });
        expect(failed.body.data.status).toBe("FAILED");
      } else {
        // no endpoint closes a payment yet: close it the way a closing job would
        await db.query("UPDATE payments SET status = 'CLOSED', active_order_no = NULL WHERE payment_no = ? AND status = 'PENDING'", { replacements: [p.paymentNo] });
      }
      // the provider captured the money after all: its signed SUCCESS arrives three times at once
      const { raw, signature } = signed(callback(p));
      const answers = await Promise.all([1, 2, 3].map(() => notify(raw, signature)));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(answers.filter((a) => a.body.data.duplicate === false)).toHaveLength(1);
      const refunds = await waitFor(
        async () => {
          const r = (await http.get(`payments/${p.paymentNo}`, { token: b.token })).body.data.refunds;
          return r.length && r[0].status === "SUCCEEDED" ? r : null;
        },
        { what: "automatic refund", timeout: 30_000 },
      );
      expect((await notify(raw, signature)).body.data).toEqual({ received: true, duplicate: true });

      expect(refunds).toEqual([expect.objectContaining({ afterSalesId: `auto-${p.paymentNo}`, amount: p.amount, status: "SUCCEEDED" })]);
      const view = (await http.get(`payments/${p.paymentNo}`, { token: b.token })).body.data;
      expect(view).toMatchObject({ status, refundedAmount: p.amount });
      expect(await q.count("SELECT COUNT(*) FROM refunds WHERE payment_no = ?", [p.paymentNo])).toBe(1);
      expect(await q.count("SELECT COUNT(*) FROM payment_events WHERE payment_no = ? AND result = 'SUCCESS' AND effect = 'REFUNDED'", [p.paymentNo])).toBe(1);
      expect(await q.count("SELECT COUNT(*) FROM payment_events WHERE payment_no = ?", [p.paymentNo])).toBe(status === "FAILED" ? 2 : 1);
      await waitFor(async () => (await q.events("payment.refunded", p.paymentNo)) === 1, { what: "payment.refunded" });
      expect(await q.events("payment.succeeded", p.paymentNo)).toBe(0);

      // the captured money did not pay the order: it is still open, and paying it works once
      expect((await orderOf(b, order.orderNo)).status).toBe("PENDING_PAYMENT");
      const p2 = await openPayment(http, b, order.orderNo, "sandbox");
      expect((await http.post(`payments/sandbox/${p2.paymentNo}/complete`, {}, { token: b.token })).body.data.status).toBe("SUCCEEDED");
      await waitStatus(b, order.orderNo, "PAID");
      expect(await q.count("SELECT COUNT(*) FROM payments WHERE order_no = ?", [order.orderNo])).toBe(2);
      expect(await q.count("SELECT COUNT(*) FROM refunds WHERE order_no = ?", [order.orderNo])).toBe(1);
      expect(await q.events("payment.refunded", p.paymentNo)).toBe(1);
    });

    it("refunds are records with their own status, idempotent per after-sales id, never beyond what was paid", async () => {
      const b = await newBuyer(shop, { admin, wallet: 10_000 });
      const order = await placeOrder(http, b, [{ skuId: sku.skuId, quantity: 2 }]);
      const paid = await openPayment(http, b, order.orderNo, "wallet");
      expect(paid.status).toBe("SUCCEEDED");
      await waitStatus(b, order.orderNo, "PAID");
      const payments = shop.brokerFor("payments");
      const ask = (afterSalesId: string, amount: number) => payments.call("payments.refund", { orderNo: order.orderNo, afterSalesId, amount, reason: "test" });

      const rest = order.payable - 2000;
      const [r1, r1again] = await Promise.all([ask("as-1", 2000), ask("as-1", 2000)]);
      expect(r1).toMatchObject({ status: "SUCCEEDED", amount: 2000, paymentNo: paid.paymentNo });
      expect(r1again).toMatchObject({ refundNo: (r1 as { refundNo: string }).refundNo });
      await expect(ask("as-1", 999)).rejects.toMatchObject({ type: "REFUND_CONFLICT" });
      await expect(ask("as-2", rest + 1)).rejects.toMatchObject({ type: "REFUND_AMOUNT_EXCEEDED", data: { refundable: rest } });
      expect(await ask("as-2", rest)).toMatchObject({ status: "SUCCEEDED" });
      await expect(ask("as-3", 1)).rejects.toMatchObject({ type: "REFUND_AMOUNT_EXCEEDED" });

      // the money went back to the wallet once per refund
      const wallet = (await http.get("users/me/wallet", { token: b.token })).body.data;
      expect(wallet.balance).toBe(10_000);
      const view = (await http.get(`payments/${paid.paymentNo}`, { token: b.token })).body.data;
      expect(view).toMatchObject({ refundedAmount: order.payable, status: "SUCCEEDED" });
      expect(view.refunds.map((r: { amount: number; status: string }) => [r.amount, r.status])).toEqual([
        [2000, "SUCCEEDED"],
        [rest, "SUCCEEDED"],
      ]);
      expect(await q.events("payment.refunded", paid.paymentNo)).toBe(2);
    });

    it("an approved after-sales request refunds through the payment channel", async () => {
      const b = await newBuyer(shop, { admin, wallet: 10_000 });
      const order = await placeOrder(http, b, [{ skuId: sku.skuId, quantity: 1 }]);
      const paid = await openPayment(http, b, order.orderNo, "wallet");
      await waitStatus(b, order.orderNo, "PAID");
      const req = await http.post(`orders/${order.orderNo}/refund`, { reason: "changed my mind" }, { token: b.token });
      expect(req.status).toBe(201);
      const approved = await http.post(`admin/refunds/${req.body.data.id}/approve`, {}, { token: admin });
      expect(approved.status).toBe(200);
      await waitFor(async () => (await http.get(`payments/${paid.paymentNo}`, { token: b.token })).body.data.refunds[0]?.status === "SUCCEEDED", {
        what: "refund succeeded",
      });
      expect((await http.get("users/me/wallet", { token: b.token })).body.data.balance).toBe(10_000);
      await waitStatus(b, order.orderNo, "REFUNDED");
    });
  });
});

describe.each(shapes)("payment callback racing the expiry sweeper (%s)", (_name, opts) => {
  let shop: Shop;
  let db: Sequelize;

  beforeAll(async () => {
    // 2 s rather than 1: MariaDB keeps expires_at to the second, which can shorten a 1 s window
    // to a few ms — too short to open the payment before the deadline
    shop = await startShop({ ...opts, env: { ORDER_PAYMENT_TIMEOUT: "2", ORDER_SWEEP_INTERVAL_MS: "100" } });
    db = acquireSequelize(shop.databaseUrl);
  });
  afterAll(async () => {
    if (db) await releaseSequelize(shop.databaseUrl);
    await shop?.stop();
  });

  it("ends each order PAID (stock committed) or CANCELLED with an automatic refund (stock released), never both", async () => {
    const http = client(shop);
    const q = dbProbe(() => db);
    const admin = await loginAdmin(shop);
    const [item] = await stockedProduct(shop, admin, [{ price: 300, stock: 100 }]);
    const buyers = await Promise.all(Array.from({ length: 4 }, () => newBuyer(shop)));
    const N = 12;
    // each order is paid at the provider at a different moment around its deadline, from 0.8 s
    // before to 1.4 s after it
    const runs = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const b = buyers[i % buyers.length];
        const order = await placeOrder(http, b, [{ skuId: item.skuId, quantity: 1 }]);
        const p = await openPayment(http, b, order.orderNo, "sandbox");
        const due = Date.parse(order.expiresAt) - 800 + i * 200;
        await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
        const done = await http.post(`payments/sandbox/${p.paymentNo}/complete`, {}, { token: b.token });
        expect(done.status).toBe(200);
        return { b, orderNo: order.orderNo, paymentNo: p.paymentNo, payable: order.payable };
      }),
    );

    const settled = async (r: (typeof runs)[number]) => {
      const o = (await http.get(`orders/${r.orderNo}`, { token: r.b.token })).body.data;
      const p = (await http.get(`payments/${r.paymentNo}`, { token: r.b.token })).body.data;
      if (o.status === "PAID") return { o, p };
      if (o.status === "CANCELLED" && p.refunds.length && p.refunds[0].status === "SUCCEEDED") return { o, p };
      return null;
    };
    const finals = (await waitFor(async () => {
      const all = await Promise.all(runs.map(settled));
      return all.every(Boolean) ? (all as NonNullable<Awaited<ReturnType<typeof settled>>>[]) : null;
    }, { what: "every order settled", timeout: 60_000 }))!;

    let paid = 0;
    for (const [i, { o, p }] of finals.entries()) {
      const timeline: string[] = o.timeline.map((e: { status: string }) => e.status);
      expect(p.status).toBe("SUCCEEDED");
      if (o.status === "PAID") {
        paid++;
        expect(timeline).not.toContain("CANCELLED");
        expect(p.refunds).toEqual([]);
        await waitFor(async () => (await q.reservation(runs[i].orderNo)) === "COMMITTED", { what: "committed" });
      } else {
        expect(timeline).not.toContain("PAID");
        expect(p.refunds).toEqual([expect.objectContaining({ afterSalesId: `auto-${p.paymentNo}`, amount: runs[i].payable, status: "SUCCEEDED" })]);
        expect(await q.reservation(runs[i].orderNo)).toBe("RELEASED");
      }
    }
    // both outcomes happened, and the stock adds up: only paid units left on-hand, nothing held
    expect(paid).toBeGreaterThan(0);
    expect(paid).toBeLessThan(N);
    expect(await q.stock(item.skuId)).toEqual({ onHand: 100 - paid, reserved: 0 });
    expect(await q.count("SELECT COUNT(*) FROM stock_movements WHERE sku_id = ? AND type = 'commit'", [item.skuId])).toBe(paid);
  });
});
