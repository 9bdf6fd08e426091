/**
 * Sales analytics (GET /admin/stats/*) in both shapes.
 *
 * Hand-made orders: rows written into the orders tables with chosen times, and their events
 * written to the orders outbox exactly as the service writes them — the relay publishes them
 * (JetStream in the cluster shape), the stats consumer counts them. They sit across day
 * boundaries: an order at 23:30 UTC counts on the next day in Asia/Shanghai, one at 18:40 UTC on
 * the next day in Asia/Kolkata (+05:30, quarter-hour edges).
 *
 * Live: a real checkout paid from the wallet and refunded moves today's figures.
 */
import crypto from "node:crypto";
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { newBuyer, openPayment, placeOrder, stockedProduct } from "../helpers/checkout";
import { Shop, client, loginAdmin, newCustomer, startShop, waitFor } from "../helpers/shop";

jest.setTimeout(120_000);

interface HandOrder {
  no: string;
  created: string;
  paid?: string;
  payable: number;
  lines: { productId: number; title: string; quantity: number; payable: number }[];
}

const tag = crypto.randomBytes(3).toString("hex").toUpperCase();
const ORDERS: HandOrder[] = [
  // Shanghai 2026-03-02 07:30, UTC 2026-03-01
  { no: `A${tag}`, created: "2026-03-01T23:30:00Z", paid: "2026-03-01T23:40:00Z", payable: 10_000, lines: [{ productId: 901, title: "Teapot", quantity: 2, payable: 10_000 }] },
  // created Shanghai 2026-03-01 23:00, paid Shanghai 2026-03-02 00:10
  { no: `B${tag}`, created: "2026-03-01T15:00:00Z", paid: "2026-03-01T16:10:00Z", payable: 5_000, lines: [{ productId: 902, title: "Cups", quantity: 1, payable: 5_000 }] },
  // never paid
  { no: `C${tag}`, created: "2026-03-02T10:00:00Z", payable: 3_000, lines: [{ productId: 901, title: "Teapot", quantity: 1, payable: 3_000 }] },
  // Kolkata 2026-03-02 00:05 / 00:10 (the Kolkata day starts at 18:30 UTC)
  { no: `D${tag}`, created: "2026-03-01T18:35:00Z", paid: "2026-03-01T18:40:00Z", payable: 2_000, lines: [{ productId: 903, title: "Tray", quantity: 4, payable: 2_000 }] },
  // Kolkata 2026-03-01 23:45 / 23:50
  { no: `E${tag}`, created: "2026-03-01T18:15:00Z", paid: "2026-03-01T18:20:00Z", payable: 1_000, lines: [{ productId: 904, title: "Spoon", quantity: 1, payable: 700 }, { productId: 904, title: "Spoon", quantity: 1, payable: 300 }] },
];

async function insertOrder(db: Sequelize, o: HandOrder) {
  const at = (v: string) => new Date(v);
  await db.query(
    "INSERT INTO orders (order_no, user_id, status, source, items_total, discount, points_deduction, points_used, shipping_fee, payable, currency, address_snapshot, remark, expires_at, paid_at, created_at, updated_at) " +
      "VALUES (?, 1, ?, 'NORMAL', ?, 0, 0, 0, 0, ?, 'CNY', '{}', '', ?, ?, ?, ?)",
    { replacements: [o.no, o.paid ? "PAID" : "PENDING_PAYMENT", o.payable, o.payable, at(o.created), o.paid ? at(o.paid) : null, at(o.created), at(o.paid ?? o.created)] },
  );
  let sku = 1;
  for (const l of o.lines) {
    await db.query(
      "INSERT INTO order_lines (order_no, sku_id, product_id, sku_code, title, attrs, unit_price, quantity, subtotal, promotion_discount, coupon_discount, points_deduction, payable) VALUES (?, ?, ?, ?, ?, '{}', ?, ?, ?, 0, 0, 0, ?)",
      { replacements: [o.no, sku++, l.productId, `S${l.productId}`, l.title, l.payable / l.quantity, l.quantity, l.payable, l.payable] },
    );
  }
}

/** An event in the orders outbox, as OutboxMixin writes it; the relay publishes it. */
async function emit(db: Sequelize, channel: string, data: Record<string, unknown>, occurredAt = new Date().toISOString()) {
  const eventId = crypto.randomUUID();
  const env = { eventId, type: channel, occurredAt, producer: "orders", data };
  await db.query("INSERT INTO outbox (event_id, producer, channel, payload, attempts, created_at) VALUES (?, 'orders', ?, ?, 0, ?)", {
    replacements: [eventId, channel, JSON.stringify(env), new Date()],
  });
}

const shapes: [string, Parameters<typeof startShop>[0]][] = [
  ["embedded", { shape: "embedded", nodes: [["api", "users", "orders"]], env: { STATS_CACHE_TTL: "0" } }],
  ["cluster", { shape: "cluster", nodes: [["api", "users"], ["orders"]], env: { STATS_CACHE_TTL: "0" } }],
];

describe.each(shapes)("sales analytics from hand-made orders (%s)", (_name, opts) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;
  let db: Sequelize;

  const stats = async (path: string, query: Record<string, string | number>, token = admin) =>
    http.get(`admin/stats/${path}?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`, { token });
  const overview = async (query: Record<string, string>) => {
    const r = await stats("overview", query);
    expect(r.status).toBe(200);
    return r.body.data;
  };

  beforeAll(async () => {
    shop = await startShop(opts);
    http = client(shop);
    admin = await loginAdmin(shop);
    db = acquireSequelize(shop.databaseUrl);
    for (const o of ORDERS) await insertOrder(db, o);
    for (const o of ORDERS) {
      const items = o.lines.map((l, i) => ({ skuId: i + 1, quantity: l.quantity }));
      await emit(db, "order.created", { orderNo: o.no, userId: 1, source: "NORMAL", payable: o.payable, currency: "CNY", expiresAt: o.created, items });
      if (o.paid) await emit(db, "order.paid", { orderNo: o.no, userId: 1, paymentNo: `P${o.no}`, amount: o.payable, items, source: "NORMAL", payable: o.payable, holds: { couponId: null, points: 0 } });
    }
    // a redelivered fact (another event id, same order) is not counted twice
    await emit(db, "order.paid", { orderNo: ORDERS[0].no, userId: 1, paymentNo: "dup", amount: 10_000, items: [], source: "NORMAL", payable: 10_000, holds: { couponId: null, points: 0 } });
    await emit(db, "order.refunded", { orderNo: ORDERS[0].no, userId: 1, refundId: 424242, amount: 4_000, payable: 10_000, source: "NORMAL", holds: { couponId: null, points: 0 } }, "2026-03-02T01:00:00Z");
    await emit(db, "order.refunded", { orderNo: ORDERS[0].no, userId: 1, refundId: 424242, amount: 4_000, payable: 10_000, source: "NORMAL", holds: { couponId: null, points: 0 } }, "2026-03-02T01:00:00Z");
    await waitFor(
      async () => {
        const [{ n }] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM processed_events WHERE consumer = 'orders-stats'", { type: QueryTypes.SELECT });
        const [{ p }] = await db.query<{ p: number }>("SELECT COUNT(*) AS p FROM outbox WHERE published_at IS NULL", { type: QueryTypes.SELECT });
        return Number(n) === 5 + 4 + 1 && Number(p) === 0;
      },
      { what: "the stats consumer to count every fact", timeout: 30_000 },
    );
  }, 120_000);
  afterAll(async () => {
    if (db) await releaseSequelize(shop.databaseUrl);
    await shop?.stop();
  });

  it("counts an order on its local day: 23:30 UTC is the next day in Asia/Shanghai (the default zone)", async () => {
    const mar2 = await overview({ from: "2026-03-02", to: "2026-03-02" });
    expect(mar2).toEqual({
      from: "2026-03-02",
      to: "2026-03-02",
      tz: "Asia/Shanghai",
      currency: "CNY",
      start: "2026-03-01T16:00:00.000Z",
      end: "2026-03-02T16:00:00.000Z",
      orders: 4, // A, C, D, E created; B was created on Mar 1 local
      ordersAmount: 16_000,
      paidOrders: 4, // A, B (00:10 local), D, E
      gmv: 18_000,
      units: 9,
      averageOrderValue: 4_500,
      refunds: 1,
      refundAmount: 4_000,
      convertedOrders: 3,
      conversion: 0.75,
    });
    const mar1 = await overview({ from: "2026-03-01", to: "2026-03-01" });
    expect(mar1).toMatchObject({ orders: 1, paidOrders: 0, gmv: 0, averageOrderValue: null, convertedOrders: 1, conversion: 1, refunds: 0 });
    const utc = await overview({ from: "2026-03-01", to: "2026-03-01", tz: "UTC" });
    expect(utc).toMatchObject({ start: "2026-03-01T00:00:00.000Z", orders: 4, paidOrders: 4, gmv: 18_000, convertedOrders: 4, conversion: 1 });
    const both = await overview({ from: "2026-02-01", to: "2026-03-31" });
    expect(both).toMatchObject({ orders: 5, paidOrders: 4, gmv: 18_000, convertedOrders: 4, conversion: 0.8 });
    const empty = await overview({ from: "2026-01-01", to: "2026-01-31" });
    expect(empty).toMatchObject({ orders: 0, gmv: 0, conversion: null, averageOrderValue: null });
    // another currency is another ledger
    expect(await overview({ from: "2026-03-02", to: "2026-03-02", currency: "USD" })).toMatchObject({ currency: "USD", orders: 0, gmv: 0 });
  });

  it("quarter-hour zones: Asia/Kolkata's day starts at 18:30 UTC", async () => {
    expect(await overview({ from: "2026-03-02", to: "2026-03-02", tz: "Asia/Kolkata" })).toMatchObject({ orders: 3, paidOrders: 2, gmv: 12_000 });
    expect(await overview({ from: "2026-03-01", to: "2026-03-01", tz: "Asia/Kolkata" })).toMatchObject({ orders: 2, paidOrders: 2, gmv: 6_000 });
    const top = await stats("top-products", { from: "2026-03-02", to: "2026-03-02", tz: "Asia/Kolkata" });
    expect(top.body.data).toEqual([
      { productId: 901, title: "Teapot", units: 2, gmv: 10_000, orders: 1 },
      { productId: 903, title: "Tray", units: 4, gmv: 2_000, orders: 1 },
    ]);
  });

  it("sales per local day and per hour", async () => {
    const days = await stats("sales", { from: "2026-02-28", to: "2026-03-03" });
    expect(days.status).toBe(200);
    expect(days.body.data.map((d: { label: string; orders: number; paidOrders: number; gmv: number }) => [d.label, d.orders, d.paidOrders, d.gmv])).toEqual([
      ["2026-02-28", 0, 0, 0],
      ["2026-03-01", 1, 0, 0],
      ["2026-03-02", 4, 4, 18_000],
      ["2026-03-03", 0, 0, 0],
    ]);
    expect(days.body.data[2]).toMatchObject({ at: "2026-03-01T16:00:00.000Z", units: 9, refunds: 1, refundAmount: 4_000 });
    const hours = await stats("sales", { from: "2026-03-02", to: "2026-03-02", interval: "hour" });
    expect(hours.body.data).toHaveLength(24);
    const busy = hours.body.data.filter((h: { orders: number; paidOrders: number }) => h.orders || h.paidOrders);
    expect(busy.map((h: { label: string; orders: number; paidOrders: number; gmv: number }) => [h.label, h.orders, h.paidOrders, h.gmv])).toEqual([
      ["2026-03-02 00:00", 0, 1, 5_000], // B paid 16:10 UTC
      ["2026-03-02 02:00", 2, 2, 3_000], // E and D (18:15 / 18:35 UTC)
      ["2026-03-02 07:00", 1, 1, 10_000], // A
      ["2026-03-02 18:00", 1, 0, 0], // C
    ]);
    // a DST change in the period (New York, 8 March): days of 24 and 23 hours, summed apart
    const ny = await stats("sales", { from: "2026-03-01", to: "2026-03-09", tz: "America/New_York" });
    expect(ny.body.data.map((d: { orders: number }) => d.orders)).toEqual([4, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(ny.body.data[7]).toMatchObject({ label: "2026-03-08", at: "2026-03-08T05:00:00.000Z" });
    expect(ny.body.data[8]).toMatchObject({ label: "2026-03-09", at: "2026-03-09T04:00:00.000Z" });
    const kolkata = await stats("sales", { from: "2026-03-02", to: "2026-03-02", interval: "hour", tz: "Asia/Kolkata" });
    expect(kolkata.body.data[0]).toMatchObject({ at: "2026-03-01T18:30:00.000Z", label: "2026-03-02 00:00", orders: 1, paidOrders: 1, gmv: 2_000 });
  });

  it("top products by paid amount or units, limited", async () => {
    const byGmv = await stats("top-products", { from: "2026-03-02", to: "2026-03-02" });
    expect(byGmv.body.data).toEqual([
      { productId: 901, title: "Teapot", units: 2, gmv: 10_000, orders: 1 },
      { productId: 902, title: "Cups", units: 1, gmv: 5_000, orders: 1 },
      { productId: 903, title: "Tray", units: 4, gmv: 2_000, orders: 1 },
      // two lines of one product in one order: one order
      { productId: 904, title: "Spoon", units: 2, gmv: 1_000, orders: 1 },
    ]);
    const byUnits = await stats("top-products", { from: "2026-03-02", to: "2026-03-02", sort: "units", limit: 2 });
    expect(byUnits.body.data.map((p: { productId: number }) => p.productId)).toEqual([903, 901]);
  });

  it("refuses bad periods with 422 and nothing else; admin only", async () => {
    for (const q of <Record<string, string>[]>[{ from: "2026-02-30" }, { from: "2026-03-05", to: "2026-03-01" }, { tz: "Mars/Base" }, { from: "2024-01-01", to: "2026-01-01" }, { currency: "usdx" }]) {
      const r = await stats("overview", q);
      expect([r.status, r.body.type]).toEqual([422, "VALIDATION_ERROR"]);
    }
    const hours = await stats("sales", { from: "2026-01-01", to: "2026-03-01", interval: "hour" });
    expect([hours.status, hours.body.data]).toEqual([422, [expect.objectContaining({ field: "to" })]]);
    expect((await stats("top-products", { limit: 0 })).status).toBe(422);

    expect((await http.get("admin/stats/overview")).status).toBe(401);
    const c = await newCustomer(shop, "op");
    expect((await stats("overview", {}, c.token)).status).toBe(403);
    expect((await http.put(`admin/users/${c.id}/roles`, { roles: ["operator"] }, { token: admin })).status).toBe(200);
    const op = (await http.post("auth/login", { username: c.username, password: c.password })).body.data.accessToken;
    for (const p of ["overview", "sales", "top-products"]) expect((await stats(p, {}, op)).status).toBe(403);
  });
});

describe("sales analytics follow real orders (cluster, cached)", () => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;

  beforeAll(async () => {
    shop = await startShop({ shape: "cluster", env: { STATS_CACHE_TTL: "60" } });
    http = client(shop);
    admin = await loginAdmin(shop);
  }, 120_000);
  afterAll(async () => {
    await shop?.stop();
  });

  it("checkout, payment and refund move today's figures; the same question is answered from the cache for STATS_CACHE_TTL", async () => {
    // the last few days (to: today in the shop's zone), so a run across midnight counts the same
    const day = (back: number) => new Date(Date.now() - back * 86_400_000).toISOString().slice(0, 10);
    const since = day(2);
    // answers are cached per question: each poll asks a new one (a period starting a day earlier)
    let back = 10;
    const today = async () => (await http.get(`admin/stats/overview?from=${day(back++)}`, { token: admin })).body.data;
    const cachedOne = async () => (await http.get(`admin/stats/overview?from=${day(3)}`, { token: admin })).body.data;
    expect(await today()).toMatchObject({ orders: 0, paidOrders: 0, gmv: 0 });
    expect(await cachedOne()).toMatchObject({ orders: 0 });

    const [sku] = await stockedProduct(shop, admin, [{ price: 2_500, stock: 10 }]);
    const buyer = await newBuyer(shop, { admin, wallet: 100_000 });
    const paid = await placeOrder(http, buyer, [{ skuId: sku.skuId, quantity: 2 }]);
    expect((await openPayment(http, buyer, paid.orderNo, "wallet")).status).toBe("SUCCEEDED");
    const unpaid = await placeOrder(http, buyer, [{ skuId: sku.skuId, quantity: 1 }]);

    const moved = await waitFor(async () => {
      const o = await today();
      return o.orders === 2 && o.paidOrders === 1 ? o : null;
    }, { what: "today's figures to include the orders" });
    expect(moved).toMatchObject({ ordersAmount: paid.payable + unpaid.payable, gmv: paid.payable, units: 2, averageOrderValue: paid.payable, convertedOrders: 1, conversion: 0.5 });

    // the same question within STATS_CACHE_TTL gets the answer it got before
    expect(await cachedOne()).toMatchObject({ orders: 0 });

    const top = (await http.get(`admin/stats/top-products?limit=5&from=${since}`, { token: admin })).body.data;
    expect(top).toEqual([expect.objectContaining({ productId: sku.productId, units: 2, gmv: 2 * 2_500, orders: 1 })]); // shipping is not a product's
    const series = (await http.get(`admin/stats/sales?interval=hour&from=${since}`, { token: admin })).body.data as { orders: number; paidOrders: number }[];
    expect(series.reduce((n, h) => n + h.orders, 0)).toBe(2);

    const req = await http.post(`orders/${paid.orderNo}/refund`, { reason: "changed my mind" }, { token: buyer.token });
    expect(req.status).toBe(201);
    expect((await http.post(`admin/refunds/${req.body.data.id}/approve`, {}, { token: admin })).status).toBe(200);
    const refunded = await waitFor(async () => {
      const o = await today();
      return o.refunds === 1 ? o : null;
    }, { what: "the refund in today's figures" });
    expect(refunded).toMatchObject({ refundAmount: paid.payable, gmv: paid.payable, paidOrders: 1 });
  });
});
