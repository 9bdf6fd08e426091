/**
 * Tokens in the browser: an access token the gateway refuses is refreshed once — however many
 * requests hit the 401 at the same moment — and the requests succeed; when the refresh token is
 * refused too, the buyer lands on the sign-in page with a sentence saying why.
 */
import crypto from "node:crypto";
import { apiCall, expect, test } from "./fixtures";

const KEY = "mall.storefront.session";

async function newBuyer() {
  const username = `sess_${crypto.randomBytes(4).toString("hex")}`;
  await apiCall("POST", "/auth/register", { body: { username, password: "buyer-pass-123", email: `${username}@example.com` } });
  const login = await apiCall<{ accessToken: string; refreshToken: string; expiresIn: number; user: unknown }>("POST", "/auth/login", { body: { username, password: "buyer-pass-123" } });
  return { username, ...login };
}

test("a refused access token is refreshed once for all concurrent requests; a refused refresh signs out", async ({ page, shot }) => {
  const buyer = await newBuyer();
  await page.goto("/");
  // a session whose access token the gateway will refuse (as an expired one) but whose refresh token is good
  await page.evaluate(
    ([key, state]) => localStorage.setItem(key, state),
    [KEY, JSON.stringify({ tokens: { accessToken: "expired.token.value", refreshToken: buyer.refreshToken, expiresAt: 0 }, user: buyer.user })] as const,
  );
  const refreshes: string[] = [];
  const unauthorized: string[] = [];
  page.on("request", (r) => r.url().endsWith("/api/v1/auth/refresh") && refreshes.push(r.url()));
  page.on("response", (r) => r.status() === 401 && unauthorized.push(r.url()));

  // checkout fires addresses, coupons, points, cart and the quote at once
  await page.goto("/checkout");
  await expect(page.getByRole("heading", { name: "确认订单" })).toBeVisible();
  await expect(page.getByRole("form", { name: "新增收货地址" })).toBeVisible();
  await shot("checkout-after-refresh");
  // (many-at-once is proven in test/integration/web-client.test.ts; here: the page recovers)
  expect(unauthorized.length).toBeGreaterThanOrEqual(1);
  expect(refreshes).toHaveLength(1);
  const stored = await page.evaluate((key) => JSON.parse(localStorage.getItem(key)!), KEY);
  expect(stored.tokens.accessToken).not.toBe("expired.token.value");
  expect(stored.tokens.refreshToken).not.toBe(buyer.refreshToken);

  // both tokens refused: signed out, sent to sign in, told why
  await page.evaluate((key) => {
    const s = JSON.parse(localStorage.getItem(key)!);
    s.tokens.accessToken = "bad.access.token";
    s.tokens.refreshToken = "bad-refresh-token";
    localStorage.setItem(key, JSON.stringify(s));
  }, KEY);
  await page.goto("/account");
  await expect(page).toHaveURL(/\/login\?next=%2Faccount/);
  await expect(page.getByText("登录已过期，请重新登录")).toBeVisible();
  await shot("signed-out");
  expect(await page.evaluate((key) => localStorage.getItem(key), KEY)).toBeNull();
  await expect(page.getByRole("link", { name: "登录" })).toBeVisible();
});
