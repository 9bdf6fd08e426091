/**
 * A buyer's journey with a promotion, a coupon and points, against the real marketing service:
 * quote = cart = order; placing the order locks the coupon, freezes the points and reserves the
 * stock; paying makes them final (coupon USED, points spent and earned, stock committed); a refund
 * returns money, stock and spent points and takes back earned points; a cancelled order gives the
 * coupon, the points and the stock back. Coupon state, points, stock and wallet are checked at
 * every step, in both shapes (marketing on its own node in the cluster).
 */
import crypto from "node:crypto";
import { newBuyer, stockedProduct } from "../helpers/checkout";
import { Shop, client, loginAdmin, startShop, waitFor } from "../helpers/shop";

jest.setTimeout(180_000);

const shapes: [string, Parameters<typeof startShop>[0]][] = [
  ["embedded", { shape: "embedded" }],
  ["cluster", { shape: "cluster", nodes: [["api"], ["users", "catalog", "inventory", "cart", "orders", "payments", "ops"], ["marketing"]] }],
];

describe.each(shapes)("a journey with a promotion, a coupon and points (%s)", (_name, opts) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;

  beforeAll(async () => {
    shop = await startShop(opts);
    http = client(shop);
    admin = await loginAdmin(shop);
  }, 120_000);
  afterAll(() => shop?.stop());

  it("pays, refunds and cancels with coupon state, points, stock and wallet right at each step", async () => {
    const [sku] = await stockedProduct(shop, admin, [{ price: 10_000, stock: 20 }]);
    const categoryId = (await http.get(`products/${sku.productId}`)).body.data.categoryId as number;
    const window = { validFrom: new Date(Date.now() - 3_600_000).toISOString(), validTo: new Date(Date.now() + 86_400_000).toISOString() };
    const key = () => ({ "idempotency-key": crypto.randomUUID() });

    // 满 150 减 20 on the category; a 10-yuan coupon from 50 yuan on the product
    const promo = await http.post(
      "admin/promotions",
      { name: "Journey 满减", type: "FULL_REDUCTION", rules: [{ threshold: 15_000, off: 2_000 }], startAt: window.validFrom, endAt: window.validTo, scope: { categoryIds: [categoryId] } },
      { token: admin, headers: key() },
    );
    expect(promo.status).toBe(201);
    const tpl = await http.post(
      "admin/coupon-templates",
      { name: "Journey coupon", type: "FIXED", value: 1_000, threshold: 5_000, totalQuantity: 5, perUserLimit: 2, ...window, scope: { productIds: [sku.productId] } },
      { token: admin, headers: key() },
    );
    expect(tpl.status).toBe(201);

    const buyer = await newBuyer(shop, { admin, wallet: 100_000 });
    expect((await http.post(`admin/users/${buyer.id}/points`, { points: 1_000, reason: "welcome" }, { token: admin, headers: key() })).status).toBe(200);
    const claim = async () => {
      const r = await http.post(`coupon-templates/${tpl.body.data.id}/claim`, {}, { token: buyer.token });
      expect(r.status).toBe(201);
      return r.body.data.id as number;
    };
    const couponStatus = async (id: number) =>
      ((await http.get("users/me/coupons", { token: buyer.token })).body.data.items as { id: number; status: string }[]).find((c) => c.id === id)?.status;
    const points = async () => (await http.get("users/me/points", { token: buyer.token })).body.data as { balance: number; frozen: number };
    const wallet = async () => (await http.get("users/me/wallet", { token: buyer.token })).body.data.balance as number;
    const stock = async () => (await http.get(`inventory/${sku.skuId}`, { token: admin })).body.data as { onHand: number; reserved: number };
    const until = <T>(what: string, read: () => Promise<T>, want: T) =>
      waitFor(async () => JSON.stringify(await read()) === JSON.stringify(want), { what: `${what} = ${JSON.stringify(want)}`, timeout: 30_000 });
    const orderStatus = async (orderNo: string) => (await http.get(`orders/${orderNo}`, { token: buyer.token })).body.data.status as string;

    // --- order 1: two units; the promotion, the coupon and 500 points apply ---------------------
    const coupon1 = await claim();
    expect(await couponStatus(coupon1)).toBe("UNUSED");
    const body = { addressId: buyer.addressId, items: [{ skuId: sku.skuId, quantity: 2 }], couponId: coupon1, usePoints: 500 };
    const quote = await http.post("cart/quote", { items: body.items, couponId: coupon1, usePoints: 500 }, { token: buyer.token });
    expect(quote.status).toBe(200);
    // 200 − 20 (promotion) − 10 (coupon) − 5 (points), free shipping from 99 yuan of goods
    expect(quote.body.data.totals).toEqual({ itemsTotal: 20_000, discount: 3_000, pointsDeduction: 500, shippingFee: 0, payable: 16_500, currency: "CNY" });
    // the cart shows the promotion (no coupon or points there)
    expect((await http.post("cart/items", { skuId: sku.skuId, quantity: 2 }, { token: buyer.token })).status).toBe(200);
    expect((await http.get("cart", { token: buyer.token })).body.data.totals).toMatchObject({ itemsTotal: 20_000, discount: 2_000 });

    const placed = await http.post("orders", body, { token: buyer.token, headers: key() });
    expect(placed.status).toBe(201);
    const order1 = placed.body.data;
    expect(order1).toMatchObject({ itemsTotal: 20_000, discount: 3_000, pointsDeduction: 500, shippingFee: 0, payable: 16_500, couponId: coupon1 });
    expect(await couponStatus(coupon1)).toBe("LOCKED");
    expect(await points()).toMatchObject({ balance: 500, frozen: 500 });
    expect(await stock()).toMatchObject({ onHand: 20, reserved: 2 });

    // a second checkout cannot take the locked coupon, nor points beyond the balance
    const reuse = await http.post("orders", { ...body, usePoints: 0 }, { token: buyer.token, headers: key() });
    expect([reuse.status, reuse.body.type]).toEqual([409, "COUPON_NOT_APPLICABLE"]);
    const greedy = await http.post("orders", { addressId: buyer.addressId, items: body.items, usePoints: 600 }, { token: buyer.token, headers: key() });
    expect([greedy.status, greedy.body.type]).toEqual([409, "INSUFFICIENT_POINTS"]);
    expect(await stock()).toMatchObject({ onHand: 20, reserved: 2 });
    expect(await points()).toMatchObject({ balance: 500, frozen: 500 });

    // pay from the wallet: coupon USED, points spent, 165 earned (1 per whole yuan), stock committed
    const paid = await http.post("payments", { orderNo: order1.orderNo, channel: "wallet" }, { token: buyer.token });
    expect(paid.body.data.status).toBe("SUCCEEDED");
    expect(await wallet()).toBe(100_000 - 16_500);
    await until("order 1", () => orderStatus(order1.orderNo), "PAID");
    await until("coupon 1", () => couponStatus(coupon1), "USED");
    await until("points", async () => ({ ...(await points()) }).balance, 665);
    expect(await points()).toMatchObject({ balance: 665, frozen: 0 });
    await until("stock", async () => (await stock()).onHand, 18);
    expect(await stock()).toMatchObject({ onHand: 18, reserved: 0 });

    // refund before shipping: money back, stock back, spent points back, earned points taken back
    const request = await http.post(`orders/${order1.orderNo}/refund`, { reason: "changed my mind" }, { token: buyer.token });
    expect(request.status).toBe(201);
    expect((await http.post(`admin/refunds/${request.body.data.id}/approve`, { note: "ok" }, { token: admin })).status).toBe(200);
    await until("order 1", () => orderStatus(order1.orderNo), "REFUNDED");
    expect(await wallet()).toBe(100_000);
    await until("points", async () => (await points()).balance, 1_000);
    await until("stock", async () => (await stock()).onHand, 20);
    expect(await couponStatus(coupon1)).toBe("USED"); // a refund does not give a coupon back

    // --- order 2: one unit with a second coupon and 300 points, then cancelled ------------------
    const coupon2 = await claim();
    const placed2 = await http.post("orders", { addressId: buyer.addressId, items: [{ skuId: sku.skuId, quantity: 1 }], couponId: coupon2, usePoints: 300 }, { token: buyer.token, headers: key() });
    expect(placed2.status).toBe(201);
    // 100 − 10 (coupon; the 满减 needs 150) − 3 (points) + 10 shipping (goods under 99 yuan)
    expect(placed2.body.data).toMatchObject({ itemsTotal: 10_000, discount: 1_000, pointsDeduction: 300, shippingFee: 1_000, payable: 9_700 });
    expect(await couponStatus(coupon2)).toBe("LOCKED");
    expect(await points()).toMatchObject({ balance: 700, frozen: 300 });
    expect(await stock()).toMatchObject({ onHand: 20, reserved: 1 });

    expect((await http.post(`orders/${placed2.body.data.orderNo}/cancel`, {}, { token: buyer.token })).status).toBe(200);
    await until("coupon 2", () => couponStatus(coupon2), "UNUSED");
    await until("points", async () => ({ ...(await points()) }).balance, 1_000);
    expect(await points()).toMatchObject({ balance: 1_000, frozen: 0 });
    await until("stock", async () => (await stock()).reserved, 0);
    expect(await wallet()).toBe(100_000);
  });
});
