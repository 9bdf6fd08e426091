/**
 * A buyer's whole journey over HTTP on a five-node cluster (NATS, MariaDB, Redis, JetStream):
 * register → address → cart → order from the cart → sandbox pay → PAID → ship → confirm →
 * review, then a second order paid from the wallet → refund request → approve → REFUNDED.
 * Stock and wallet are checked after every step.
 */
import crypto from "node:crypto";
import { stockedProduct } from "../helpers/checkout";
import { Shop, client, loginAdmin, startShop, waitFor } from "../helpers/shop";

jest.setTimeout(120_000);

describe("the whole journey (cluster)", () => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;

  beforeAll(async () => {
    shop = await startShop({ shape: "cluster", nodes: [["api"], ["users", "catalog", "cart"], ["inventory"], ["orders"], ["payments"]] });
    http = client(shop);
    admin = await loginAdmin(shop);
  }, 120_000);
  afterAll(() => shop?.stop());

  it("register → … → REFUNDED with stock and wallet right at each step", async () => {
    const [sku] = await stockedProduct(shop, admin, [{ price: 4_500, stock: 20 }]);
    const stock = async () => (await http.get(`inventory/${sku.skuId}`, { token: admin })).body.data as { onHand: number; reserved: number; available: number };
    const expectStock = (onHand: number, reserved: number) =>
      waitFor(async () => {
        const s = await stock();
        return s.onHand === onHand && s.reserved === reserved ? s : null;
      }, { what: `stock onHand=${onHand} reserved=${reserved}` });
    await expectStock(20, 0);

    // register, log in, add an address
    const username = `j_${crypto.randomBytes(4).toString("hex")}`;
    expect((await http.post("auth/register", { username, password: "journey-pass-1", email: `${username}@example.com` })).status).toBe(201);
    const token = (await http.post("auth/login", { username, password: "journey-pass-1" })).body.data.accessToken as string;
    const me = (await http.get("users/me", { token })).body.data;
    const wallet = async () => (await http.get("users/me/wallet", { token })).body.data.balance as number;
    const address = await http.post("users/me/addresses", { name: "张三", mobile: "13800000000", province: "浙江省", city: "杭州市", district: "西湖区", detail: "文三路 1 号" }, { token });
    expect(address.status).toBe(201);
    expect(await wallet()).toBe(0);

    // cart: two units, priced live
    expect((await http.post("cart/items", { skuId: sku.skuId, quantity: 2 }, { token })).status).toBe(200);
    const cart = (await http.get("cart", { token })).body.data;
    expect(cart.items).toHaveLength(1);
    expect(cart.totals.itemsTotal).toBe(9_000);
    await expectStock(20, 0); // a cart reserves nothing

    // order the selected cart lines: stock reserved, cart emptied
    const placed = await http.post("orders", { addressId: address.body.data.id }, { token, headers: { "Idempotency-Key": crypto.randomUUID() } });
    expect(placed.status).toBe(201);
    const order = placed.body.data;
    expect(order).toMatchObject({ status: "PENDING_PAYMENT", itemsTotal: 9_000, shippingFee: 1_000, payable: 10_000 });
    expect((await http.get("cart", { token })).body.data.items).toHaveLength(0);
    await expectStock(20, 2);

    // sandbox pay: the provider's signed callback makes the order PAID, stock committed
    const pay = await http.post("payments", { orderNo: order.orderNo, channel: "sandbox" }, { token });
    expect(pay.status).toBeLessThan(300);
    expect(pay.body.data.payUrl).toBeTruthy();
    const complete = await http.post(`payments/sandbox/${pay.body.data.paymentNo}/complete`, { result: "SUCCESS" }, { token });
    expect(complete.status).toBeLessThan(300);
    await waitFor(async () => (await http.get(`orders/${order.orderNo}`, { token })).body.data.status === "PAID", { what: "PAID" });
    await expectStock(18, 0);
    expect(await wallet()).toBe(0);

    // ship, confirm, review
    expect((await http.post(`admin/orders/${order.orderNo}/ship`, { carrier: "SF", trackingNo: "SF123" }, { token: admin })).status).toBe(200);
    expect((await http.post(`orders/${order.orderNo}/confirm-receipt`, {}, { token })).status).toBe(200);
    const done = (await http.get(`orders/${order.orderNo}`, { token })).body.data;
    expect(done.status).toBe("COMPLETED");
    expect(done.timeline.map((e: { status: string }) => e.status)).toEqual(["PENDING_PAYMENT", "PAID", "SHIPPED", "COMPLETED"]);
    const review = await http.post(`products/${sku.productId}/reviews`, { orderNo: order.orderNo, skuId: sku.skuId, rating: 5, content: "新鲜，很好" }, { token });
    expect(review.status).toBe(201);
    const product = (await http.get(`products/${sku.productId}`)).body.data;
    expect(product).toMatchObject({ reviewCount: 1, rating: 5 });
    await expectStock(18, 0);

    // a second order paid from the wallet, then refunded before shipping
    expect((await http.post(`admin/users/${me.id}/wallet/credit`, { amount: 20_000, reason: "gift card" }, { token: admin })).status).toBe(200);
    expect(await wallet()).toBe(20_000);
    const second = (await http.post("orders", { addressId: address.body.data.id, items: [{ skuId: sku.skuId, quantity: 3 }] }, { token, headers: { "Idempotency-Key": crypto.randomUUID() } })).body.data;
    expect(second.payable).toBe(13_500); // 135 yuan: free shipping
    await expectStock(18, 3);
    const walletPay = await http.post("payments", { orderNo: second.orderNo, channel: "wallet" }, { token });
    expect(walletPay.body.data.status).toBe("SUCCEEDED");
    expect(await wallet()).toBe(6_500);
    await waitFor(async () => (await http.get(`orders/${second.orderNo}`, { token })).body.data.status === "PAID", { what: "second PAID" });
    await expectStock(15, 0);

    const request = await http.post(`orders/${second.orderNo}/refund`, { reason: "changed my mind" }, { token });
    expect(request.status).toBe(201);
    expect((await http.get(`orders/${second.orderNo}`, { token })).body.data.status).toBe("REFUNDING");
    expect((await http.post(`admin/refunds/${request.body.data.id}/approve`, { note: "ok" }, { token: admin })).status).toBe(200);
    await waitFor(async () => (await http.get(`orders/${second.orderNo}`, { token })).body.data.status === "REFUNDED", { what: "REFUNDED" });
    expect(await wallet()).toBe(20_000);
    await expectStock(18, 0); // unshipped goods went back on the shelf

    const ledger = (await http.get("users/me/wallet", { token })).body.data.entries.map((e: { amount: number }) => e.amount);
    expect(ledger.sort((a: number, b: number) => a - b)).toEqual([-13_500, 13_500, 20_000]);
  });
});
