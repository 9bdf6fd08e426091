/**
 * Marketing quotas under concurrent checkouts, through the HTTP checkout and the real marketing
 * service: one coupon in 10 concurrent checkouts makes one order; 10 concurrent checkouts each
 * spending 100 points against a balance of 150 make one order. The losers hold nothing afterwards
 * (stock, coupon, points), in both shapes.
 */
import crypto from "node:crypto";
import { newBuyer, stockedProduct } from "../helpers/checkout";
import { Shop, client, loginAdmin, startShop, waitFor } from "../helpers/shop";

jest.setTimeout(180_000);

const shapes: [string, Parameters<typeof startShop>[0]][] = [
  ["embedded", { shape: "embedded" }],
  ["cluster", { shape: "cluster", nodes: [["api"], ["users", "catalog", "inventory", "cart", "orders", "payments", "ops"], ["marketing"], ["marketing"]] }],
];

describe.each(shapes)("concurrent checkouts against marketing quotas (%s)", (_name, opts) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;
  let sku: { productId: number; skuId: number };

  beforeAll(async () => {
    shop = await startShop(opts);
    http = client(shop);
    admin = await loginAdmin(shop);
    [sku] = await stockedProduct(shop, admin, [{ price: 5_000, stock: 100 }]);
  }, 120_000);
  afterAll(() => shop?.stop());

  const stock = async () => (await http.get(`inventory/${sku.skuId}`, { token: admin })).body.data as { onHand: number; reserved: number };
  const checkout = (buyer: { token: string; addressId: number }, extra: Record<string, unknown>) =>
    http.post("orders", { addressId: buyer.addressId, items: [{ skuId: sku.skuId, quantity: 1 }], ...extra }, { token: buyer.token, headers: { "idempotency-key": crypto.randomUUID() } });

  it("one coupon in 10 concurrent checkouts: one order, the others refused and holding nothing", async () => {
    const now = Date.now();
    const tpl = await http.post(
      "admin/coupon-templates",
      { name: "Race coupon", type: "FIXED", value: 500, threshold: 0, totalQuantity: 10, perUserLimit: 1, validFrom: new Date(now - 60_000).toISOString(), validTo: new Date(now + 3_600_000).toISOString() },
      { token: admin },
    );
    expect(tpl.status).toBe(201);
    const buyer = await newBuyer(shop);
    const coupon = await http.post(`coupon-templates/${tpl.body.data.id}/claim`, {}, { token: buyer.token });
    expect(coupon.status).toBe(201);
    const before = await stock();

    const results = await Promise.all(Array.from({ length: 10 }, () => checkout(buyer, { couponId: coupon.body.data.id })));
    const won = results.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status !== 201).map((r) => r.body.type).every((t) => t === "COUPON_NOT_APPLICABLE")).toBe(true);
    expect(won[0].body.data).toMatchObject({ couponId: coupon.body.data.id, discount: 500 });
    const mine = (await http.get("users/me/coupons", { token: buyer.token })).body.data.items as { id: number; status: string }[];
    expect(mine.find((c) => c.id === coupon.body.data.id)?.status).toBe("LOCKED");
    expect((await http.get("orders", { token: buyer.token })).body.data.total).toBe(1);
    // only the winner's unit stays reserved: every loser gave its reservation back
    await waitFor(async () => (await stock()).reserved === before.reserved + 1, { what: "one unit reserved" });
  });

  it("10 concurrent checkouts spending 100 points each against 150: one order, the rest INSUFFICIENT_POINTS", async () => {
    const buyer = await newBuyer(shop);
    expect((await http.post(`admin/users/${buyer.id}/points`, { points: 150, reason: "race" }, { token: admin })).status).toBe(200);
    const before = await stock();

    const results = await Promise.all(Array.from({ length: 10 }, () => checkout(buyer, { usePoints: 100 })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status !== 201).map((r) => r.body.type).every((t) => t === "INSUFFICIENT_POINTS")).toBe(true);
    const pts = (await http.get("users/me/points", { token: buyer.token })).body.data;
    expect(pts).toMatchObject({ balance: 50, frozen: 100 });
    expect((await http.get("orders", { token: buyer.token })).body.data.total).toBe(1);
    await waitFor(async () => (await stock()).reserved === before.reserved + 1, { what: "one unit reserved" });
  });
});
