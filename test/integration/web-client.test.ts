/**
 * The web apps' API client (web/shared/client.ts) against a real shop: the envelope unwrapped
 * into typed data, errors as ApiError with the envelope's type and words for a buyer, and the
 * token rotation — many requests refused at once share ONE refresh and all succeed; a refused
 * refresh ends the session (listeners hear "expired").
 */
import { createMallClient } from "../../web/shared/client";
import { ApiError, errorMessage } from "../../web/shared/errors";
import { ERRORS } from "../../services/shared/errors";
import { KNOWN_ERROR_TYPES } from "../../web/shared/errors";
import { Shop, newCustomer, startShop } from "../helpers/shop";

let shop: Shop;
beforeAll(async () => {
  shop = await startShop({ shape: "embedded" });
}, 60_000);
afterAll(() => shop?.stop());

function counted() {
  const calls: string[] = [];
  const f = (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    calls.push(url.replace(shop.url, ""));
    return fetch(input, init);
  };
  return { calls, fetch: f as typeof fetch };
}

it("unwraps the envelope and maps failures to ApiError with a buyer's sentence", async () => {
  const mall = createMallClient({ baseUrl: shop.url, storageKey: "t" });
  const page = await mall.call(mall.api.GET("/api/v1/products", { params: { query: { pageSize: 5 } } }));
  expect(Array.isArray(page.items)).toBe(true);
  const err = await mall.call(mall.api.POST("/api/v1/auth/login", { body: { username: "nobody_here", password: "wrong-password-1" } })).catch((e) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect(err).toMatchObject({ status: 401, type: "INVALID_CREDENTIALS" });
  expect(errorMessage(err, "zh-CN")).toBe("用户名或密码错误");
  expect(errorMessage(err, "en")).toBe("Wrong username or password.");
  const bad = await mall.call(mall.api.POST("/api/v1/auth/register", { body: { username: "x", password: "short", email: "no" } })).catch((e) => e);
  expect(bad).toMatchObject({ status: 422, type: "VALIDATION_ERROR" });
  expect(Object.keys(bad.fields)).toEqual(expect.arrayContaining(["username", "password", "email"]));
  const down = await createMallClient({ baseUrl: "http://127.0.0.1:9", storageKey: "t2" }).call(createMallClient({ baseUrl: "http://127.0.0.1:9", storageKey: "t3" }).api.GET("/api/v1/products")).catch((e) => e);
  expect(down).toMatchObject({ status: 0, type: "NETWORK_ERROR" });
  expect(errorMessage(down, "en")).toMatch(/can't reach the shop/);
});

it("every business error a buyer can meet has words in both languages", () => {
  const buyerFacing = Object.keys(ERRORS).filter((t) => /^(USERNAME|EMAIL|MOBILE|INVALID_CRED|ADDRESS|INSUFFICIENT|PRODUCT|SKU_NOT|ORDER|OUT_OF|CART|COUPON_(NOT_FOUND|SOLD|LIMIT|NOT_APP|NOT_CLAIM|EXPIRED)|SECKILL|PAYMENT_(NOT|STATE|IN_PROG|CHANNEL)|REVIEW|RATE_LIMITED|LOGIN_RATE|TOKEN)/.test(t));
  expect(buyerFacing.filter((t) => !KNOWN_ERROR_TYPES.includes(t) && !["ORDER_LINE_NOT_FOUND"].includes(t))).toEqual([]);
});

it("concurrent 401s share one refresh, then every request succeeds; a refused refresh signs out", async () => {
  const buyer = await newCustomer(shop, "cli");
  const net = counted();
  const mall = createMallClient({ baseUrl: shop.url, storageKey: "s", fetch: net.fetch });
  // as if the access token had expired: the gateway refuses it, the refresh token is good
  mall.session.signIn({ accessToken: "expired.access.token", refreshToken: buyer.refreshToken, expiresIn: 900 }, null);
  const results = await Promise.all([
    mall.call(mall.api.GET("/api/v1/users/me")),
    mall.call(mall.api.GET("/api/v1/cart")),
    mall.call(mall.api.GET("/api/v1/users/me/addresses")),
    mall.call(mall.api.GET("/api/v1/users/me/wallet")),
    mall.call(mall.api.GET("/api/v1/orders")),
  ]);
  expect(results[0].username).toBe(buyer.username);
  expect(net.calls.filter((c) => c === "/api/v1/auth/refresh")).toHaveLength(1);
  expect(net.calls.filter((c) => c === "/api/v1/users/me")).toHaveLength(2); // refused, then repeated
  expect(mall.session.get().tokens!.refreshToken).not.toBe(buyer.refreshToken);

  // the old refresh token is spent; a request with a refused access token and it ends the session
  const heard: (string | undefined)[] = [];
  mall.session.subscribe((_s, reason) => heard.push(reason));
  mall.session.signIn({ accessToken: "expired.again", refreshToken: "not-a-refresh-token", expiresIn: 900 }, null);
  const err = await mall.call(mall.api.GET("/api/v1/users/me")).catch((e) => e);
  expect(err).toMatchObject({ status: 401 });
  expect(mall.session.get().tokens).toBeNull();
  expect(heard).toContain("expired");
});

it("a create sent twice at once with the same Idempotency-Key makes one address", async () => {
  const buyer = await newCustomer(shop, "idem");
  const mall = createMallClient({ baseUrl: shop.url, storageKey: "i" });
  mall.session.signIn({ accessToken: buyer.token, refreshToken: buyer.refreshToken, expiresIn: 900 }, null);
  const key = mall.idempotencyKey();
  const body = { name: "李四", mobile: "13900000000", province: "上海", city: "上海", district: "浦东", detail: "世纪大道 1 号" };
  const [a, b] = await Promise.all([
    mall.call(mall.api.POST("/api/v1/users/me/addresses", { body, headers: { "Idempotency-Key": key } })),
    mall.call(mall.api.POST("/api/v1/users/me/addresses", { body, headers: { "Idempotency-Key": key } })).catch((e) => e),
  ]);
  const list = await mall.call(mall.api.GET("/api/v1/users/me/addresses"));
  expect(list).toHaveLength(1);
  expect(list[0].id).toBe(a.id);
  if (!(b instanceof ApiError)) expect(b.id).toBe(a.id);
});
