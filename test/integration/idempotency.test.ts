/**
 * Idempotency-Key on every create, through the gateway, in both shapes (cluster: the gateway on
 * its own node, so the key travels in ctx.meta to the node that runs the action and the answer's
 * status and headers travel back). A retry with the key replays the first answer (201, same body,
 * `Idempotent-Replayed: true`) instead of creating again or answering 409; counted in what a user
 * sees (lists, stock, balances).
 */
import crypto from "node:crypto";
import { newBuyer, placeOrder, stockedProduct } from "../helpers/checkout";
import { HttpResult, Shop, client, loginAdmin, newCustomer, startShop, waitFor } from "../helpers/shop";

jest.setTimeout(120_000);

const shapes: [string, Parameters<typeof startShop>[0]][] = [
  ["embedded", { shape: "embedded" }],
  ["cluster", { shape: "cluster", nodes: [["api"], ["users", "catalog", "inventory", "cart", "orders", "payments", "marketing", "seckill", "messages"]] }],
];

const ADDRESS = { name: "Home", mobile: "13800000000", province: "Zhejiang", city: "Hangzhou", district: "Xihu", detail: "1 Lake Road" };
const key = () => crypto.randomUUID();
const tag = () => crypto.randomBytes(3).toString("hex");
const replayed = (r: HttpResult) => r.headers.get("idempotent-replayed");

describe.each(shapes)("Idempotency-Key (%s)", (_name, opts) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;

  beforeAll(async () => {
    shop = await startShop(opts);
    http = client(shop);
    admin = await loginAdmin(shop);
  });
  afterAll(() => shop?.stop());

  const withKey = (token: string, k: string) => ({ token, headers: { "idempotency-key": k } });

  it("address: a retry with the key answers the first address again (one row, 201, Idempotent-Replayed)", async () => {
    const c = await newCustomer(shop);
    const k = key();
    const first = await http.post("users/me/addresses", ADDRESS, withKey(c.token, k));
    const again = await http.post("users/me/addresses", ADDRESS, withKey(c.token, k));
    expect(first.status).toBe(201);
    expect(replayed(first)).toBeNull();
    expect(again.status).toBe(201);
    expect(replayed(again)).toBe("true");
    expect(again.body.data).toEqual(first.body.data);
    expect(again.body).toMatchObject({ code: 0, message: "ok" });
    const list = await http.get("users/me/addresses", { token: c.token });
    expect(list.body.data.map((a: { id: number }) => a.id)).toEqual([first.body.data.id]);
  });

  it("without the header a retried create creates again, as before", async () => {
    const c = await newCustomer(shop);
    expect((await http.post("users/me/addresses", ADDRESS, { token: c.token })).status).toBe(201);
    expect((await http.post("users/me/addresses", ADDRESS, { token: c.token })).status).toBe(201);
    expect((await http.get("users/me/addresses", { token: c.token })).body.data).toHaveLength(2);
  });

  it("15 identical address requests at once create one address; all answer it", async () => {
    const c = await newCustomer(shop);
    const k = key();
    const all = await Promise.all(Array.from({ length: 15 }, () => http.post("users/me/addresses", ADDRESS, withKey(c.token, k))));
    expect(all.map((r) => r.status)).toEqual(Array(15).fill(201));
    expect(new Set(all.map((r) => r.body.data.id)).size).toBe(1);
    expect(all.filter((r) => replayed(r) === "true")).toHaveLength(14);
    expect((await http.get("users/me/addresses", { token: c.token })).body.data).toHaveLength(1);
  });

  it("keys are per user: another user with the same key gets an address of their own", async () => {
    const [a, b] = await Promise.all([newCustomer(shop), newCustomer(shop)]);
    const k = key();
    const ra = await http.post("users/me/addresses", ADDRESS, withKey(a.token, k));
    const rb = await http.post("users/me/addresses", { ...ADDRESS, detail: "2 Other Road" }, withKey(b.token, k));
    expect([ra.status, rb.status]).toEqual([201, 201]);
    expect(replayed(rb)).toBeNull();
    expect(rb.body.data.id).not.toBe(ra.body.data.id);
    expect((await http.get("users/me/addresses", { token: b.token })).body.data.map((x: { detail: string }) => x.detail)).toEqual(["2 Other Road"]);
    expect((await http.get("users/me/addresses", { token: a.token })).body.data).toHaveLength(1);
  });

  it("the same key with a different body is 409 IDEMPOTENCY_CONFLICT and creates nothing", async () => {
    const c = await newCustomer(shop);
    const k = key();
    expect((await http.post("users/me/addresses", ADDRESS, withKey(c.token, k))).status).toBe(201);
    const other = await http.post("users/me/addresses", { ...ADDRESS, detail: "9 Elsewhere" }, withKey(c.token, k));
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ type: "IDEMPOTENCY_CONFLICT", code: 1410 });
    expect((await http.get("users/me/addresses", { token: c.token })).body.data).toHaveLength(1);
  });

  it("categories and brands replay the first create", async () => {
    const name = `Idem ${tag()}`;
    const k = key();
    const first = await http.post("categories", { name }, withKey(admin, k));
    const again = await http.post("categories", { name }, withKey(admin, k));
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(replayed(again)).toBe("true");
    expect(again.body.data).toEqual(first.body.data);
    const tree = (await http.get("categories")).body.data as { name: string }[];
    expect(tree.filter((c) => c.name === name)).toHaveLength(1);

    const kb = key();
    const brand = await http.post("brands", { name }, withKey(admin, kb));
    const brandAgain = await http.post("brands", { name }, withKey(admin, kb));
    expect([brand.status, brandAgain.status, replayed(brandAgain)]).toEqual([201, 201, "true"]);
    expect(brandAgain.body.data.id).toBe(brand.body.data.id);
  });

  it("products: a retry replays the product instead of 409 SKU_CODE_TAKEN, and stock is added once; SKUs likewise", async () => {
    const cat = await http.post("categories", { name: `P ${tag()}` }, { token: admin });
    const t = tag();
    const body = { title: `Idem product ${t}`, categoryId: cat.body.data.id, skus: [{ skuCode: `ID-${t}`, price: 1000, stock: 7 }] };
    // the behaviour the key fixes: a plain retry trips over the SKU code it just created
    const plain = await http.post("products", { ...body, title: `${body.title} plain`, skus: [{ skuCode: `IP-${t}`, price: 1000 }] }, { token: admin });
    expect(plain.status).toBe(201);
    expect((await http.post("products", { ...body, title: `${body.title} plain`, skus: [{ skuCode: `IP-${t}`, price: 1000 }] }, { token: admin })).body.type).toBe("SKU_CODE_TAKEN");

    const k = key();
    const first = await http.post("products", body, withKey(admin, k));
    const again = await http.post("products", body, withKey(admin, k));
    expect([first.status, again.status, replayed(again)]).toEqual([201, 201, "true"]);
    expect(again.body.data).toEqual(first.body.data);
    // the replay says where the product is, as the first answer did
    expect(first.headers.get("location")).toBe(`/api/v1/products/${first.body.data.id}`);
    expect(again.headers.get("location")).toBe(first.headers.get("location"));
    const detail = await http.get(`products/${first.body.data.id}`, { token: admin });
    expect(detail.body.data.skus.map((s: { available: number }) => s.available)).toEqual([7]);

    const ks = key();
    const sku = { skuCode: `IS-${t}`, price: 1200, stock: 3 };
    const s1 = await http.post(`products/${first.body.data.id}/skus`, sku, withKey(admin, ks));
    const s2 = await http.post(`products/${first.body.data.id}/skus`, sku, withKey(admin, ks));
    expect([s1.status, s2.status, replayed(s2)]).toEqual([201, 201, "true"]);
    expect(s2.body.data).toEqual(s1.body.data);
    // the same key and body on another product is another request
    const elsewhere = await http.post(`products/${plain.body.data.id}/skus`, sku, withKey(admin, ks));
    expect(elsewhere.body.type).toBe("IDEMPOTENCY_CONFLICT");
    expect((await http.get(`products/${first.body.data.id}`, { token: admin })).body.data.skus).toHaveLength(2);
  });

  it("15 identical product creates at once make one product, all 201", async () => {
    const cat = await http.post("categories", { name: `C ${tag()}` }, { token: admin });
    const t = tag();
    const body = { title: `Burst ${t}`, categoryId: cat.body.data.id, skus: [{ skuCode: `BU-${t}`, price: 500, stock: 2 }] };
    const k = key();
    const all = await Promise.all(Array.from({ length: 15 }, () => http.post("products", body, withKey(admin, k))));
    expect(all.map((r) => r.status)).toEqual(Array(15).fill(201));
    expect(new Set(all.map((r) => r.body.data.id)).size).toBe(1);
    const list = await http.get(`products?categoryId=${cat.body.data.id}`, { token: admin });
    expect(list.body.data.total).toBe(1);
  });

  it("a refused create releases the key: fixed, the same request with the same key creates", async () => {
    const name = `Taken ${tag()}`;
    const existing = await http.post("brands", { name }, { token: admin });
    const k = key();
    const refused = await http.post("brands", { name }, withKey(admin, k));
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe("BRAND_NAME_TAKEN");
    expect((await http.del(`brands/${existing.body.data.id}`, { token: admin })).status).toBe(200);
    const created = await http.post("brands", { name }, withKey(admin, k));
    expect(created.status).toBe(201);
    expect(replayed(created)).toBeNull();
    expect(replayed(await http.post("brands", { name }, withKey(admin, k)))).toBe("true");
  });

  it("admin wallet credit: a retry answers the first credit and the balance moves once", async () => {
    const c = await newCustomer(shop);
    const k = key();
    const first = await http.post(`admin/users/${c.id}/wallet/credit`, { amount: 1500, reason: "goodwill" }, withKey(admin, k));
    const again = await http.post(`admin/users/${c.id}/wallet/credit`, { amount: 1500, reason: "goodwill" }, withKey(admin, k));
    expect([first.status, again.status, replayed(again)]).toEqual([200, 200, "true"]);
    expect(again.body.data).toEqual(first.body.data);
    expect(first.body.data).toMatchObject({ balance: 1500, applied: true });
    const wallet = await http.get("users/me/wallet", { token: c.token });
    expect(wallet.body.data.balance).toBe(1500);
    expect(wallet.body.data.entries).toHaveLength(1);
  });

  it("payment, refund request and review: retries with the key replay instead of 409", async () => {
    const [sku] = await stockedProduct(shop, admin, [{ price: 2000, stock: 5 }]);
    const buyer = await newBuyer(shop, { admin, wallet: 10_000 });
    const order = await placeOrder(http, buyer, [{ skuId: sku.skuId, quantity: 1 }]);

    const kp = key();
    const pay = await http.post("payments", { orderNo: order.orderNo, channel: "wallet" }, withKey(buyer.token, kp));
    expect(pay.status).toBe(201);
    expect(pay.body.data.status).toBe("SUCCEEDED");
    const payAgain = await http.post("payments", { orderNo: order.orderNo, channel: "wallet" }, withKey(buyer.token, kp));
    expect([payAgain.status, replayed(payAgain)]).toEqual([201, "true"]);
    expect(payAgain.body.data).toEqual(pay.body.data);
    // without the key the retry learns the order is paid, not what its payment was
    expect((await http.post("payments", { orderNo: order.orderNo, channel: "wallet" }, { token: buyer.token })).body.type).toBe("ORDER_ALREADY_PAID");
    expect((await http.get("users/me/wallet", { token: buyer.token })).body.data.balance).toBe(10_000 - order.payable);
    await waitFor(async () => (await http.get(`orders/${order.orderNo}`, { token: buyer.token })).body.data.status === "PAID", { what: "order PAID" });

    // a second order for the review: shipped and received
    const order2 = await placeOrder(http, buyer, [{ skuId: sku.skuId, quantity: 1 }]);
    expect((await http.post("payments", { orderNo: order2.orderNo, channel: "wallet" }, { token: buyer.token })).status).toBe(201);
    await waitFor(async () => (await http.get(`orders/${order2.orderNo}`, { token: buyer.token })).body.data.status === "PAID", { what: "order 2 PAID" });
    expect((await http.post(`admin/orders/${order2.orderNo}/ship`, { carrier: "SF", trackingNo: "SF1" }, { token: admin })).status).toBe(200);
    expect((await http.post(`orders/${order2.orderNo}/confirm-receipt`, {}, { token: buyer.token })).status).toBe(200);

    const kr = key();
    const refund = await http.post(`orders/${order.orderNo}/refund`, { reason: "changed my mind" }, withKey(buyer.token, kr));
    const refundAgain = await http.post(`orders/${order.orderNo}/refund`, { reason: "changed my mind" }, withKey(buyer.token, kr));
    expect([refund.status, refundAgain.status, replayed(refundAgain)]).toEqual([201, 201, "true"]);
    expect(refundAgain.body.data).toEqual(refund.body.data);
    expect((await http.post(`orders/${order.orderNo}/refund`, { reason: "changed my mind" }, { token: buyer.token })).body.type).toBe("ORDER_STATE_CONFLICT");
    expect((await http.get(`orders/${order.orderNo}/refunds`, { token: buyer.token })).body.data).toHaveLength(1);

    const kv = key();
    const review = { orderNo: order2.orderNo, skuId: sku.skuId, rating: 5, content: "great" };
    const r1 = await http.post(`products/${sku.productId}/reviews`, review, withKey(buyer.token, kv));
    const r2 = await http.post(`products/${sku.productId}/reviews`, review, withKey(buyer.token, kv));
    expect([r1.status, r2.status, replayed(r2)]).toEqual([201, 201, "true"]);
    expect(r2.body.data).toEqual(r1.body.data);
    expect((await http.post(`products/${sku.productId}/reviews`, review, { token: buyer.token })).body.type).toBe("REVIEW_EXISTS");
  });

  it("the OpenAPI document declares Idempotency-Key on exactly the creates that honour it (orders.create: its own, required)", async () => {
    const doc = (await http.get("/api/openapi.json")).body;
    const keyed: string[] = [];
    for (const item of Object.values(doc.paths) as Record<string, { operationId: string; parameters: { in: string; name: string }[] }>[]) {
      for (const op of Object.values(item)) if (op.parameters.some((p) => p.in === "header" && p.name === "Idempotency-Key")) keyed.push(op.operationId);
    }
    expect(keyed.sort()).toEqual(
      [
        "catalog.addSku",
        "catalog.create",
        "catalog.createBrand",
        "catalog.createCategory",
        "catalog.createReview",
        "catalog.createSynonyms",
        "marketing.claim",
        "marketing.createPromotion",
        "marketing.createTemplate",
        "marketing.grantPoints",
        "messages.createBatch",
        "messages.createTemplate",
        "orders.create",
        "orders.requestRefund",
        "payments.create",
        "seckill.adminCreate",
        "users.adminCredit",
        "users.createAddress",
      ].sort(),
    );
  });
});
