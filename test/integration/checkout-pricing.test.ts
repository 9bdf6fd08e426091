/**
 * A business failure found while pricing (items in different currencies) is a typed 4xx with the
 * envelope, in both shapes, and checkout changes nothing: no order, no reservation, no stock held,
 * the Idempotency-Key free for a retry.
 */
import crypto from "node:crypto";
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { StockedSku, newBuyer, stockedProduct } from "../helpers/checkout";
import { Shop, ShopOptions, client, loginAdmin, startShop } from "../helpers/shop";

jest.setTimeout(120_000);

const shapes: [string, ShopOptions][] = [
  ["embedded", { shape: "embedded" }],
  ["cluster", { shape: "cluster", nodes: [["api", "users", "catalog", "cart"], ["inventory", "orders"]] }],
];

describe.each(shapes)("pricing failures at checkout (%s)", (_name, opts) => {
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

  const count = async (sql: string, replacements: unknown[] = []) => {
    const [row] = await db.query<Record<string, unknown>>(sql, { replacements, type: QueryTypes.SELECT });
    return Number(Object.values(row)[0]);
  };

  it("items in different currencies are 409 CURRENCY_MISMATCH, and nothing is ordered or reserved", async () => {
    const http = client(shop);
    const admin = await loginAdmin(shop);
    const [cny, usd]: StockedSku[] = await stockedProduct(shop, admin, [
      { price: 1000, stock: 20 },
      { price: 1500, stock: 20 },
    ]);
    // the API only creates CNY prices; an imported SKU can carry another currency
    await db.query("UPDATE skus SET currency = 'USD' WHERE id = ?", { replacements: [usd.skuId] });
    const b = await newBuyer(shop);
    const stockBefore = await count("SELECT SUM(reserved) FROM stock WHERE sku_id IN (?, ?)", [cny.skuId, usd.skuId]);
    const reservationsBefore = await count("SELECT COUNT(*) FROM reservations");

    const key = crypto.randomUUID();
    const body = { addressId: b.addressId, items: [{ skuId: cny.skuId, quantity: 1 }, { skuId: usd.skuId, quantity: 1 }] };
    const r = await http.post("orders", body, { token: b.token, headers: { "idempotency-key": key } });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ type: "CURRENCY_MISMATCH", code: 30011, data: { currencies: ["CNY", "USD"] } });
    expect(r.body.message).toMatch(/currenc/);
    expect(r.body.traceId).toBeTruthy();
    // the key was let go: the same request again gets the same answer, not "in progress"
    const again = await http.post("orders", body, { token: b.token, headers: { "idempotency-key": key } });
    expect([again.status, again.body.type]).toEqual([409, "CURRENCY_MISMATCH"]);

    expect(await count("SELECT COUNT(*) FROM orders WHERE user_id = ?", [b.id])).toBe(0);
    expect(await count("SELECT COUNT(*) FROM idempotency_keys WHERE user_id = ?", [b.id])).toBe(0);
    expect(await count("SELECT COUNT(*) FROM reservations")).toBe(reservationsBefore);
    expect(await count("SELECT SUM(reserved) FROM stock WHERE sku_id IN (?, ?)", [cny.skuId, usd.skuId])).toBe(stockBefore);

    // each currency on its own still checks out
    const ok = await http.post("orders", { addressId: b.addressId, items: [{ skuId: usd.skuId, quantity: 1 }] }, { token: b.token, headers: { "idempotency-key": crypto.randomUUID() } });
    expect(ok.status).toBe(201);
    expect(ok.body.data).toMatchObject({ currency: "USD", itemsTotal: 1500 });
  });
});
