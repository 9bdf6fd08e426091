/**
 * The OpenAPI document against the running shop: every documented operation is called, and
 * each answer must have a status the document declares for that operation and a body that
 * validates against the declared schema — with every object closed (no undeclared fields), so a
 * handler returning a field its contract does not have fails here. In the cluster shape the
 * gateway builds the document from action definitions that crossed NATS: it must be the same
 * document.
 */
import crypto from "node:crypto";
import Ajv, { ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { canonicalBody, sign } from "../../services/payments/domain/signature";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { PNG_1x1 } from "../helpers/catalog-fixtures";
import { HttpResult, Shop, client, loginAdmin, newCustomer, startShop, waitFor } from "../helpers/shop";

type Json = Record<string, any>;

/** Every object schema with properties gets additionalProperties: false unless it says otherwise. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (!schema || typeof schema !== "object") return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = k === "properties" ? Object.fromEntries(Object.entries(v as Json).map(([p, ps]) => [p, closed(ps)])) : closed(v);
  }
  if (out.type === "object" && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** Checks answers against the document; remembers which operations answered with success. */
function conformance(doc: Json) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat("binary", true);
  const components = closed(doc.components);
  const validators = new Map<string, ValidateFunction>();
  const succeeded = new Set<string>();
  const resolve = (r: Json): Json => (r.$ref ? doc.components.responses[r.$ref.split("/").pop()] : r);

  function check(method: string, template: string, res: HttpResult) {
    const op = doc.paths[template]?.[method];
    if (!op) throw new Error(`${method.toUpperCase()} ${template} is not in the document`);
    const status = String(res.status);
    const declared = op.responses[status] ?? op.responses[`${status[0]}XX`];
    if (!declared) throw new Error(`${method.toUpperCase()} ${template} answered ${status}, not declared (${Object.keys(op.responses).join(", ")}): ${res.text.slice(0, 500)}`);
    const response = resolve(declared);
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toBeTruthy();
    if (status === "201") {
      // a 201 says where to read what it created (RFC 9110): a path the document serves a GET on
      const location = res.headers.get("location");
      if (!location) throw new Error(`${method.toUpperCase()} ${template} answered 201 without a Location header`);
      const readable = Object.keys(doc.paths).some((p) => doc.paths[p].get && new RegExp(`^${p.replace(/\{\w+\}/g, "[^/]+")}$`).test(location));
      if (!readable) throw new Error(`${method.toUpperCase()} ${template}: Location ${location} is not a documented GET path`);
      expect(response.headers?.Location).toBeDefined();
    }
    const json = response.content["application/json"];
    if (!json) {
      expect(Object.keys(response.content)).toContain(res.headers.get("content-type")?.split(";")[0]);
    } else {
      const key = `${method} ${template} ${status}`;
      let validate = validators.get(key);
      if (!validate) {
        validate = ajv.compile({ ...(closed(json.schema) as Json), components });
        validators.set(key, validate);
      }
      if (!validate(res.body)) throw new Error(`${method.toUpperCase()} ${template} ${status}: ${ajv.errorsText(validate.errors)}\n${res.text.slice(0, 1500)}`);
      expect((res.body as Json).traceId).toBe(requestId);
    }
    if (status.startsWith("2")) succeeded.add(`${method.toUpperCase()} ${template}`);
  }
  return { check, succeeded };
}

function caller(shop: Shop, conf: ReturnType<typeof conformance>) {
  const http = client(shop);
  return async function api(
    method: string,
    template: string,
    opts: { path?: Record<string, string | number>; query?: Record<string, string | number>; body?: unknown; raw?: string; token?: string; headers?: Record<string, string>; expect?: number } = {},
  ): Promise<HttpResult> {
    let url = template.replace(/\{(\w+)\}/g, (_m, k: string) => encodeURIComponent(String(opts.path![k])));
    if (opts.query) url += `?${new URLSearchParams(Object.entries(opts.query).map(([k, v]): [string, string] => [k, String(v)]))}`;
    const res = await http.request(method.toUpperCase(), url, { body: opts.body, raw: opts.raw, token: opts.token, headers: opts.headers });
    if (opts.expect !== undefined && res.status !== opts.expect) throw new Error(`${method.toUpperCase()} ${url}: expected ${opts.expect}, got ${res.status} ${res.text.slice(0, 500)}`);
    conf.check(method, template, res);
    return res;
  };
}

let shop: Shop;
let doc: Json;

beforeAll(async () => {
  shop = await startShop({ shape: "embedded", env: { STATS_CACHE_TTL: "0" } });
  doc = (await client(shop).get("/api/openapi.json")).body;
}, 60_000);

afterAll(async () => {
  await shop?.stop();
});

describe("embedded: every documented operation answers as the document says", () => {
  let conf: ReturnType<typeof conformance>;
  let api: ReturnType<typeof caller>;
  let admin: string;
  const buyer = { id: 0, token: "", addressId: 0 };
  const catalog = { categoryId: 0, brandId: 0, productId: 0, skuId: 0, otherSkuId: 0 };
  const key = () => crypto.randomUUID();

  beforeAll(async () => {
    conf = conformance(doc);
    api = caller(shop, conf);
    admin = await loginAdmin(shop);
  });

  it("accounts, sessions, addresses, wallet and user administration", async () => {
    const username = `oa${crypto.randomBytes(4).toString("hex")}`;
    const password = "secret-pass-123";
    const reg = await api("post", "/api/v1/auth/register", { body: { username, password, email: `${username}@example.com` }, expect: 201 });
    buyer.id = reg.body.data.id;
    const login = await api("post", "/api/v1/auth/login", { body: { username, password }, expect: 200 });
    const refreshed = await api("post", "/api/v1/auth/refresh", { body: { refreshToken: login.body.data.refreshToken }, expect: 200 });
    buyer.token = refreshed.body.data.accessToken;
    const token = buyer.token;
    await api("get", "/api/v1/users/me", { token, expect: 200 });
    await api("patch", "/api/v1/users/me", { token, body: { nickname: "Open API" }, expect: 200 });
    const address = { name: "Buyer", mobile: "13800000000", province: "Zhejiang", city: "Hangzhou", district: "Xihu", detail: "1 Test Road" };
    buyer.addressId = (await api("post", "/api/v1/users/me/addresses", { token, body: address, expect: 201 })).body.data.id;
    const second = await api("post", "/api/v1/users/me/addresses", { token, body: { ...address, detail: "2 Test Road" }, expect: 201 });
    await api("get", "/api/v1/users/me/addresses", { token, expect: 200 });
    await api("patch", "/api/v1/users/me/addresses/{id}", { token, path: { id: buyer.addressId }, body: { city: "Ningbo", isDefault: true }, expect: 200 });
    await api("delete", "/api/v1/users/me/addresses/{id}", { token, path: { id: second.body.data.id }, expect: 200 });
    await api("get", "/api/v1/admin/users", { token: admin, query: { q: username }, expect: 200 });
    await api("put", "/api/v1/admin/users/{id}/roles", { token: admin, path: { id: buyer.id }, body: { roles: ["customer"] }, expect: 200 });
    await api("post", "/api/v1/admin/users/{id}/wallet/credit", {
      token: admin,
      path: { id: buyer.id },
      body: { amount: 1_000_000, reason: "test money" },
      headers: { "idempotency-key": key() },
      expect: 200,
    });
    await api("get", "/api/v1/users/me/wallet", { token, expect: 200 });

    const other = await newCustomer(shop, "oa");
    await api("post", "/api/v1/auth/change-password", { token: other.token, body: { oldPassword: other.password, newPassword: "another-pass-456" }, expect: 200 });
    await api("post", "/api/v1/auth/logout", { token: other.token, expect: 200 });
    await api("patch", "/api/v1/admin/users/{id}/status", { token: admin, path: { id: other.id }, body: { status: "DISABLED" }, expect: 200 });
    await api("patch", "/api/v1/admin/users/{id}/status", { token: admin, path: { id: other.id }, body: { status: "ACTIVE" }, expect: 200 });
    await api("post", "/api/v1/admin/users/{id}/revoke-sessions", { token: admin, path: { id: other.id }, expect: 200 });
  });

  it("catalog, uploads and inventory", async () => {
    const tag = crypto.randomBytes(3).toString("hex");
    const parent = await api("post", "/api/v1/categories", { token: admin, body: { name: `OA ${tag}` }, expect: 201 });
    catalog.categoryId = parent.body.data.id;
    const child = await api("post", "/api/v1/categories", { token: admin, body: { name: `OA child ${tag}`, parentId: catalog.categoryId }, expect: 201 });
    await api("patch", "/api/v1/categories/{id}", { token: admin, path: { id: child.body.data.id }, body: { sort: 2 }, expect: 200 });
    await api("get", "/api/v1/categories", { expect: 200 });
    await api("delete", "/api/v1/categories/{id}", { token: admin, path: { id: child.body.data.id }, expect: 200 });
    catalog.brandId = (await api("post", "/api/v1/brands", { token: admin, body: { name: `OA brand ${tag}` }, expect: 201 })).body.data.id;
    await api("patch", "/api/v1/brands/{id}", { token: admin, path: { id: catalog.brandId }, body: { name: `OA brand ${tag}!` }, expect: 200 });
    const spare = await api("post", "/api/v1/brands", { token: admin, body: { name: `OA spare ${tag}` }, expect: 201 });
    await api("delete", "/api/v1/brands/{id}", { token: admin, path: { id: spare.body.data.id }, expect: 200 });
    await api("get", "/api/v1/brands", { expect: 200 });
    const syn = await api("post", "/api/v1/admin/search/synonyms", { token: admin, body: { words: [`oa${tag}a`, `oa${tag}b`] }, expect: 201 });
    await api("put", "/api/v1/admin/search/synonyms/{id}", { token: admin, path: { id: syn.body.data.id }, body: { words: [`oa${tag}a`, `oa${tag}c`] }, expect: 200 });
    await api("get", "/api/v1/admin/search/synonyms", { token: admin, expect: 200 });
    await api("delete", "/api/v1/admin/search/synonyms/{id}", { token: admin, path: { id: syn.body.data.id }, expect: 200 });

    // multipart goes through fetch itself; the answer is checked the same way
    const fd = new FormData();
    fd.append("file", new Blob([new Uint8Array(PNG_1x1)], { type: "image/png" }), "dot.png");
    const r = await fetch(`${shop.url}/api/v1/uploads`, { method: "POST", body: fd, headers: { authorization: `Bearer ${admin}` } });
    const text = await r.text();
    const uploaded: HttpResult = { status: r.status, headers: r.headers, text, body: JSON.parse(text) };
    conf.check("post", "/api/v1/uploads", uploaded);
    expect(uploaded.status).toBe(201);
    const image = await fetch(`${shop.url}/api/v1/uploads/${uploaded.body.data.name}`);
    conf.check("get", "/api/v1/uploads/{name}", { status: image.status, headers: image.headers, text: "", body: await image.arrayBuffer() });
    expect(image.status).toBe(200);

    const product = await api("post", "/api/v1/products", {
      token: admin,
      expect: 201,
      body: {
        title: `OA product ${tag}`,
        categoryId: catalog.categoryId,
        brandId: catalog.brandId,
        images: [`/api/v1/uploads/${uploaded.body.data.name}`],
        skus: [
          { skuCode: `OA-${tag}-1`, attrs: { size: "M" }, price: 2500, stock: 100 },
          { skuCode: `OA-${tag}-2`, attrs: { size: "L" }, price: 3000, stock: 100 },
        ],
      },
    });
    catalog.productId = product.body.data.id;
    [catalog.skuId, catalog.otherSkuId] = product.body.data.skus.map((sk: Json) => sk.id).sort((a: number, b: number) => a - b);
    await api("get", "/api/v1/products", { query: { categoryId: catalog.categoryId, sort: "price_asc" }, expect: 200 });
    await api("get", "/api/v1/products/{id}", { path: { id: catalog.productId }, expect: 200 });
    await api("patch", "/api/v1/products/{id}", { token: admin, path: { id: catalog.productId }, body: { subtitle: "documented" }, expect: 200 });
    await api("post", "/api/v1/products/{id}/skus", { token: admin, path: { id: catalog.productId }, body: { skuCode: `OA-${tag}-3`, price: 3500, stock: 5 }, expect: 201 });
    await api("patch", "/api/v1/products/{id}/skus/{skuId}", { token: admin, path: { id: catalog.productId, skuId: catalog.otherSkuId }, body: { price: 3100 }, expect: 200 });
    await api("get", "/api/v1/products/{id}/reviews", { path: { id: catalog.productId }, expect: 200 });
    const spareProduct = await api("post", "/api/v1/products", {
      token: admin,
      body: { title: `OA spare ${tag}`, categoryId: catalog.categoryId, skus: [{ skuCode: `OA-${tag}-X`, price: 1 }] },
      expect: 201,
    });
    await api("delete", "/api/v1/products/{id}", { token: admin, path: { id: spareProduct.body.data.id }, expect: 200 });

    const sku = { skuId: catalog.skuId };
    await api("get", "/api/v1/inventory/{skuId}", { token: admin, path: sku, expect: 200 });
    await api("post", "/api/v1/inventory/{skuId}/adjust", { token: admin, path: sku, body: { delta: 5, reason: "recount" }, expect: 200 });
    await api("patch", "/api/v1/inventory/{skuId}", { token: admin, path: sku, body: { lowStockThreshold: 1000 }, expect: 200 });
    await api("get", "/api/v1/inventory/low-stock", { token: admin, expect: 200 });
    await api("get", "/api/v1/inventory/{skuId}/movements", { token: admin, path: sku, expect: 200 });
  });

  const waitPaid = (orderNo: string) =>
    waitFor(async () => (await client(shop).get(`orders/${orderNo}`, { token: buyer.token })).body.data.status === "PAID", { what: `order ${orderNo} PAID` });
  const order = async (items: { skuId: number; quantity: number }[]) =>
    (await api("post", "/api/v1/orders", { token: buyer.token, body: { addressId: buyer.addressId, items }, headers: { "idempotency-key": key() }, expect: 201 })).body.data;

  it("cart, checkout (with a replayed Idempotency-Key), wallet payment, shipping, receipt and a review", async () => {
    const token = buyer.token;
    await api("post", "/api/v1/cart/items", { token, body: { skuId: catalog.skuId, quantity: 2 }, expect: 200 });
    await api("post", "/api/v1/cart/items", { token, body: { skuId: catalog.otherSkuId, quantity: 1 }, expect: 200 });
    await api("get", "/api/v1/cart", { token, expect: 200 });
    await api("patch", "/api/v1/cart/items/{skuId}", { token, path: { skuId: catalog.skuId }, body: { quantity: 3 }, expect: 200 });
    await api("patch", "/api/v1/cart/items", { token, body: { selected: false, skuIds: [catalog.otherSkuId] }, expect: 200 });
    await api("delete", "/api/v1/cart/items/{skuId}", { token, path: { skuId: catalog.otherSkuId }, expect: 200 });
    const quoted = await api("post", "/api/v1/cart/quote", { token, body: {}, expect: 200 });
    // a coupon that is not the buyer's is answered like one that does not exist
    await api("post", "/api/v1/cart/quote", { token, body: { couponId: 999_999 }, expect: 404 });

    const idem = key();
    const placed = await api("post", "/api/v1/orders", { token, body: { addressId: buyer.addressId }, headers: { "idempotency-key": idem }, expect: 201 });
    const replay = await api("post", "/api/v1/orders", { token, body: { addressId: buyer.addressId }, headers: { "idempotency-key": idem }, expect: 201 });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.data.orderNo).toBe(placed.body.data.orderNo);
    expect(placed.body.data.payable).toBe(quoted.body.data.totals.payable);
    await api("delete", "/api/v1/cart", { token, expect: 200 });
    const orderNo = placed.body.data.orderNo as string;
    await api("get", "/api/v1/orders", { token, expect: 200 });
    await api("get", "/api/v1/orders/{orderNo}", { token, path: { orderNo }, expect: 200 });

    const paid = await api("post", "/api/v1/payments", { token, body: { orderNo, channel: "wallet" }, expect: 201 });
    expect(paid.body.data.status).toBe("SUCCEEDED");
    await api("get", "/api/v1/payments/{paymentNo}", { token, path: { paymentNo: paid.body.data.paymentNo }, expect: 200 });
    await api("get", "/api/v1/payments/channels", { expect: 200 });
    await waitPaid(orderNo);
    await api("get", "/api/v1/admin/orders", { token: admin, query: { userId: buyer.id }, expect: 200 });
    const today = new Date().toISOString().slice(0, 10);
    const found = await api("get", "/api/v1/admin/orders", { token: admin, query: { orderNo, from: "2025-01-01", to: "2030-12-31" }, expect: 200 });
    expect(found.body.data.items.map((o: { orderNo: string }) => o.orderNo)).toEqual([orderNo]);
    await api("get", "/api/v1/admin/orders", { token: admin, query: { from: today, to: "not-a-date" }, expect: 422 });
    await api("get", "/api/v1/admin/orders/{orderNo}", { token: admin, path: { orderNo }, expect: 200 });
    await api("post", "/api/v1/admin/orders/{orderNo}/ship", { token: admin, path: { orderNo }, body: { carrier: "SF", trackingNo: "SF123" }, expect: 200 });
    await api("post", "/api/v1/orders/{orderNo}/confirm-receipt", { token, path: { orderNo }, expect: 200 });
    await api("post", "/api/v1/products/{id}/reviews", {
      token,
      path: { id: catalog.productId },
      body: { orderNo, skuId: catalog.skuId, rating: 5, content: "as documented" },
      expect: 201,
    });
    await api("get", "/api/v1/products/{id}/reviews", { path: { id: catalog.productId }, expect: 200 });

    const cancelled = await order([{ skuId: catalog.skuId, quantity: 1 }]);
    await api("post", "/api/v1/orders/{orderNo}/cancel", { token, path: { orderNo: cancelled.orderNo }, expect: 200 });
    await api("post", "/api/v1/admin/orders/{orderNo}/cancel", { token: admin, path: { orderNo: cancelled.orderNo }, body: { reason: "twice" }, expect: 409 });
    const byAdmin = await order([{ skuId: catalog.skuId, quantity: 1 }]);
    const adminCancelled = await api("post", "/api/v1/admin/orders/{orderNo}/cancel", { token: admin, path: { orderNo: byAdmin.orderNo }, body: { reason: "buyer phoned" }, expect: 200 });
    expect(adminCancelled.body.data).toMatchObject({ status: "CANCELLED", cancelReason: "buyer phoned" });
    await api("post", "/api/v1/admin/orders/{orderNo}/cancel", { token, path: { orderNo: byAdmin.orderNo }, body: { reason: "x" }, expect: 403 });
  });

  it("sandbox payments (the signed callback and the pay page), refunds approved and rejected", async () => {
    const token = buyer.token;
    const first = await order([{ skuId: catalog.skuId, quantity: 1 }]);
    const payment = (await api("post", "/api/v1/payments", { token, body: { orderNo: first.orderNo, channel: "sandbox" }, expect: 201 })).body.data;
    // the same open payment asked for again: 200, the other declared success status
    await api("post", "/api/v1/payments", { token, body: { orderNo: first.orderNo, channel: "sandbox" }, expect: 200 });
    const callback = {
      paymentNo: payment.paymentNo,
      providerTxnId: `T${crypto.randomBytes(8).toString("hex")}`,
      amount: payment.amount,
      currency: payment.currency,
      result: "SUCCESS" as const,
      timestamp: new Date().toISOString(),
      nonce: crypto.randomBytes(8).toString("hex"),
    };
    const raw = canonicalBody(callback);
    await api("post", "/api/v1/payments/notify/sandbox", {
      raw,
      headers: { "content-type": "application/json", "x-sandbox-signature": sign(shop.env.SANDBOX_SECRET, raw) },
      expect: 200,
    });
    await waitPaid(first.orderNo);
    const refund = await api("post", "/api/v1/orders/{orderNo}/refund", { token, path: { orderNo: first.orderNo }, body: { reason: "changed my mind" }, expect: 201 });
    await api("get", "/api/v1/orders/{orderNo}/refunds", { token, path: { orderNo: first.orderNo }, expect: 200 });
    await api("get", "/api/v1/admin/refunds", { token: admin, query: { status: "REQUESTED" }, expect: 200 });
    await api("post", "/api/v1/admin/refunds/{id}/approve", { token: admin, path: { id: refund.body.data.id }, body: { note: "ok" }, expect: 200 });

    const second = await order([{ skuId: catalog.skuId, quantity: 1 }]);
    const pending = (await api("post", "/api/v1/payments", { token, body: { orderNo: second.orderNo, channel: "sandbox" }, expect: 201 })).body.data;
    await api("post", "/api/v1/payments/sandbox/{paymentNo}/complete", { token, path: { paymentNo: pending.paymentNo }, body: { result: "SUCCESS" }, expect: 200 });
    await waitPaid(second.orderNo);
    const request = await api("post", "/api/v1/orders/{orderNo}/refund", { token, path: { orderNo: second.orderNo }, body: { reason: "late" }, expect: 201 });
    await api("post", "/api/v1/admin/refunds/{id}/reject", { token: admin, path: { id: request.body.data.id }, body: { note: "no" }, expect: 200 });

    // the analytics of what just happened (the rollup lags by an event's trip)
    await waitFor(async () => (await client(shop).get("admin/stats/overview", { token: admin })).body.data?.paidOrders >= 2, { what: "paid orders in the stats" });
    await api("get", "/api/v1/admin/stats/overview", { token: admin, query: { tz: "UTC", currency: "CNY" }, expect: 200 });
    await api("get", "/api/v1/admin/stats/overview", { token: admin, query: { from: "2026-01-01", to: "2026-01-31" }, expect: 200 });
    await api("get", "/api/v1/admin/stats/sales", { token: admin, query: { interval: "hour" }, expect: 200 });
    await api("get", "/api/v1/admin/stats/sales", { token: admin, query: { from: "2026-02-30" }, expect: 422 });
    await api("get", "/api/v1/admin/stats/top-products", { token: admin, query: { limit: 5, sort: "units" }, expect: 200 });
    await api("get", "/api/v1/admin/stats/top-products", { token, expect: 403 });
  });

  it("marketing: coupon templates, claims, my coupons and promotions", async () => {
    const token = buyer.token;
    const window = { validFrom: new Date(Date.now() - 3_600_000).toISOString(), validTo: new Date(Date.now() + 3_600_000).toISOString() };
    const coupon = { name: "OA coupon", type: "FIXED", value: 500, threshold: 5000, totalQuantity: 10, perUserLimit: 1, ...window, scope: { productIds: [catalog.productId] } };
    const tpl = await api("post", "/api/v1/admin/coupon-templates", { token: admin, body: coupon, headers: { "idempotency-key": key() }, expect: 201 });
    const id = tpl.body.data.id;
    await api("get", "/api/v1/admin/coupon-templates", { token: admin, query: { enabled: "true" }, expect: 200 });
    await api("patch", "/api/v1/admin/coupon-templates/{id}", { token: admin, path: { id }, body: { totalQuantity: 20 }, expect: 200 });
    await api("get", "/api/v1/coupon-templates", { expect: 200 });
    await api("post", "/api/v1/coupon-templates/{id}/claim", { token, path: { id }, expect: 201 });
    await api("post", "/api/v1/coupon-templates/{id}/claim", { token, path: { id }, expect: 409 });
    await api("get", "/api/v1/users/me/coupons", { token, query: { status: "UNUSED" }, expect: 200 });
    await api("delete", "/api/v1/admin/coupon-templates/{id}", { token: admin, path: { id }, expect: 409 });
    const spare = await api("post", "/api/v1/admin/coupon-templates", { token: admin, body: { ...coupon, name: "OA spare" }, expect: 201 });
    await api("delete", "/api/v1/admin/coupon-templates/{id}", { token: admin, path: { id: spare.body.data.id }, expect: 200 });
    await api("post", "/api/v1/admin/coupon-templates", { token: admin, body: { ...coupon, type: "PERCENT", value: 10_001 }, expect: 422 });

    const promotion = {
      name: "OA promotion",
      type: "FULL_REDUCTION",
      rules: [{ threshold: 10_000, off: 1_000 }],
      startAt: window.validFrom,
      endAt: window.validTo,
      scope: { categoryIds: [catalog.categoryId] },
    };
    const promo = await api("post", "/api/v1/admin/promotions", { token: admin, body: promotion, headers: { "idempotency-key": key() }, expect: 201 });
    await api("get", "/api/v1/admin/promotions", { token: admin, expect: 200 });
    await api("patch", "/api/v1/admin/promotions/{id}", { token: admin, path: { id: promo.body.data.id }, body: { type: "DISCOUNT", rules: [{ threshold: 0, rateBp: 9_000 }] }, expect: 200 });
    await api("get", "/api/v1/promotions", { expect: 200 });
    await api("delete", "/api/v1/admin/promotions/{id}", { token: admin, path: { id: promo.body.data.id }, expect: 200 });
    await api("post", "/api/v1/admin/promotions", { token: admin, body: { ...promotion, rules: [{ threshold: 1_000, off: 1_000 }] }, expect: 422 });

    await api("post", "/api/v1/admin/users/{id}/points", { token: admin, path: { id: buyer.id }, body: { points: 500, reason: "OA points" }, headers: { "idempotency-key": key() }, expect: 200 });
    await api("get", "/api/v1/users/me/points", { token, expect: 200 });
  });

  it("seckill: publish, list, buy, ticket, figures, cancel", async () => {
    const token = buyer.token;
    const now = Date.now();
    const body = { skuId: catalog.otherSkuId, title: "OA flash", price: 990, quantity: 3, perUserLimit: 1, startAt: new Date(now - 1000).toISOString(), endAt: new Date(now + 600_000).toISOString() };
    const sale = (await api("post", "/api/v1/admin/seckill/events", { token: admin, body, headers: { "idempotency-key": key() }, expect: 201 })).body.data;
    await api("get", "/api/v1/admin/seckill/events", { token: admin, query: { status: "active" }, expect: 200 });
    await api("get", "/api/v1/admin/seckill/events/{id}", { token: admin, path: { id: sale.id }, expect: 200 });
    await api("get", "/api/v1/seckill/events", { query: { status: "active" }, expect: 200 });
    await api("get", "/api/v1/seckill/events/{id}", { path: { id: sale.id }, expect: 200 });
    const bought = (await api("post", "/api/v1/seckill/events/{id}/purchase", { token, path: { id: sale.id }, body: { addressId: buyer.addressId }, expect: 202 })).body.data;
    await api("post", "/api/v1/seckill/events/{id}/purchase", { token, path: { id: sale.id }, body: { addressId: buyer.addressId }, expect: 409 });
    await api("get", "/api/v1/seckill/tickets/{ticket}", { token, path: { ticket: bought.ticket }, expect: 200 });
    await api("get", "/api/v1/seckill/tickets/{ticket}", { token, path: { ticket: "nope" }, expect: 404 });
    const later = { ...body, skuId: catalog.skuId, quantity: 1, startAt: new Date(now + 600_000).toISOString(), endAt: new Date(now + 700_000).toISOString() };
    const upcoming = (await api("post", "/api/v1/admin/seckill/events", { token: admin, body: later, expect: 201 })).body.data;
    await api("post", "/api/v1/admin/seckill/events/{id}/cancel", { token: admin, path: { id: upcoming.id }, expect: 200 });
    await api("post", "/api/v1/admin/seckill/events/{id}/cancel", { token: admin, path: { id: sale.id }, expect: 409 });
  });

  it("messages: templates, preview, batches, the delivery log, the inbox and notification settings", async () => {
    const token = buyer.token;
    const code = `oa-${crypto.randomBytes(3).toString("hex")}`;
    await api("post", "/api/v1/admin/message-templates", { token: admin, body: { code, channel: "inbox", subject: "Hello {{nickname}}", body: "News: {{news}}" }, headers: { "idempotency-key": key() }, expect: 201 });
    await api("post", "/api/v1/admin/message-templates", { token: admin, body: { code, channel: "inbox", subject: "x", body: "y" }, expect: 409 });
    await api("get", "/api/v1/admin/message-templates", { token: admin, query: { channel: "inbox", pageSize: 100 }, expect: 200 });
    await api("patch", "/api/v1/admin/message-templates/{code}", { token: admin, path: { code }, body: { body: "Newer: {{news}}" }, expect: 200 });
    await api("patch", "/api/v1/admin/message-templates/{code}", { token: admin, path: { code: "order.paid.inbox" }, body: { locale: "en", body: "{{nope}}" }, expect: 422 });
    await api("post", "/api/v1/admin/message-templates/{code}/preview", { token: admin, path: { code }, body: { vars: { nickname: "OA", news: "documented" } }, expect: 200 });
    await api("post", "/api/v1/admin/message-templates/{code}/preview", { token: admin, path: { code: "no-such-template" }, body: { vars: {} }, expect: 404 });
    const batch = await api("post", "/api/v1/admin/messages/batch", { token: admin, body: { templateCode: code, userIds: [buyer.id], vars: { news: "OA" } }, headers: { "idempotency-key": key() }, expect: 201 });
    await waitFor(async () => (await client(shop).get(`admin/messages/batches/${batch.body.data.batchId}`, { token: admin })).body.data.status === "COMPLETED", { what: "OA batch" });
    await api("get", "/api/v1/admin/messages/batches/{id}", { token: admin, path: { id: batch.body.data.batchId }, expect: 200 });
    await api("post", "/api/v1/admin/messages/batch", { token: admin, body: { templateCode: code, all: true, vars: {} }, expect: 422 });
    const log = await api("get", "/api/v1/admin/messages/deliveries", { token: admin, query: { userId: buyer.id }, expect: 200 });
    await api("get", "/api/v1/admin/messages/deliveries/{id}", { token: admin, path: { id: log.body.data.items[0].id }, expect: 200 });
    const inbox = await api("get", "/api/v1/users/me/messages", { token, query: { unread: "true" }, expect: 200 });
    await api("get", "/api/v1/users/me/messages/unread-count", { token, expect: 200 });
    await api("post", "/api/v1/users/me/messages/{id}/read", { token, path: { id: inbox.body.data.items[0].id }, expect: 200 });
    await api("post", "/api/v1/users/me/messages/{id}/read", { token, path: { id: 999_999_999 }, expect: 404 });
    await api("post", "/api/v1/users/me/messages/read-all", { token, expect: 200 });
    await api("get", "/api/v1/users/me/notification-settings", { token, expect: 200 });
    await api("patch", "/api/v1/users/me/notification-settings", { token, body: { marketingSms: true }, expect: 200 });
    await api("delete", "/api/v1/admin/message-templates/{code}", { token: admin, path: { code }, expect: 200 });
    await api("delete", "/api/v1/admin/message-templates/{code}", { token: admin, path: { code: "order.paid.inbox" }, expect: 409 });
  });

  it("errors answer with a declared status and the error envelope", async () => {
    const token = buyer.token;
    await api("get", "/api/v1/users/me", { expect: 401 });
    await api("get", "/api/v1/admin/orders", { token, expect: 403 });
    await api("get", "/api/v1/orders/{orderNo}", { token, path: { orderNo: "NOSUCHORDER" }, expect: 404 });
    await api("post", "/api/v1/orders", { token, body: { addressId: buyer.addressId }, expect: 400 });
    await api("post", "/api/v1/cart/items", { token, body: { skuId: "x", quantity: 1 }, expect: 422 });
    await api("post", "/api/v1/cart/items", { token, raw: "{not json", headers: { "content-type": "application/json" }, expect: 400 });
    const cancelled = await order([{ skuId: catalog.skuId, quantity: 1 }]);
    await api("post", "/api/v1/orders/{orderNo}/cancel", { token, path: { orderNo: cancelled.orderNo }, expect: 200 });
    await api("post", "/api/v1/orders/{orderNo}/cancel", { token, path: { orderNo: cancelled.orderNo }, expect: 409 });
    await api("post", "/api/v1/payments/notify/sandbox", { raw: "{}", headers: { "content-type": "application/json", "x-sandbox-signature": "00" }, expect: 401 });
  });

  it("dead letters: listed and replayed", async () => {
    // a dead letter as the ops service records one (making a consumer give up takes retries and time)
    const db = acquireSequelize(shop.databaseUrl);
    try {
      const now = new Date();
      await db.query(
        "INSERT INTO dead_letters (channel, group_name, event_id, payload, error, attempts, status, replays, first_failed_at, last_failed_at) VALUES (?, ?, ?, ?, ?, 5, 'NEW', 0, ?, ?)",
        { replacements: ["openapi.tested", "openapi", crypto.randomUUID(), JSON.stringify({ n: 1 }), "gave up", now, now] },
      );
    } finally {
      await releaseSequelize(shop.databaseUrl);
    }
    const listed = await api("get", "/api/v1/admin/dead-letters", { token: admin, query: { channel: "openapi.tested" }, expect: 200 });
    await api("post", "/api/v1/admin/dead-letters/{id}/replay", { token: admin, path: { id: listed.body.data.items[0].id }, expect: 200 });
    await api("post", "/api/v1/admin/dead-letters/{id}/replay", { token: admin, path: { id: 999_999 }, expect: 404 });
  });

  it("every operation in the document was called and answered with success", () => {
    const documented = Object.entries(doc.paths as Record<string, Json>).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`));
    expect(documented.filter((op) => !conf.succeeded.has(op))).toEqual([]);
  });
});

describe("cluster: the gateway on its own node serves the same document", () => {
  let cluster: Shop;

  beforeAll(async () => {
    cluster = await startShop({ shape: "cluster", nodes: [["api"], ["users", "catalog", "inventory", "cart", "orders", "payments", "marketing", "ops", "seckill", "messages"]] });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("action definitions that crossed NATS give the same document, and answers match it", async () => {
    const remote = (await client(cluster).get("/api/openapi.json")).body;
    expect(remote).toEqual(doc);
    const api = caller(cluster, conformance(remote));
    const c = await newCustomer(cluster, "oc");
    await api("get", "/api/v1/users/me", { token: c.token, expect: 200 });
    await api("get", "/api/v1/products", { query: { pageSize: 5 }, expect: 200 });
    await api("get", "/api/v1/cart", { token: c.token, expect: 200 });
    await api("get", "/api/v1/orders/{orderNo}", { token: c.token, path: { orderNo: "NOSUCHORDER" }, expect: 404 });
  });
});
