/**
 * Accessibility: axe-core finds no serious or critical violation on the main pages, and the
 * controls a buyer needs are reachable with the keyboard alone.
 */
import crypto from "node:crypto";
import { adminToken, apiCall, expect, seriousA11yViolations as axe, test, type Page } from "./fixtures";

async function signIn(page: Page) {
  const username = `a11y_${crypto.randomBytes(4).toString("hex")}`;
  await apiCall("POST", "/auth/register", { body: { username, password: "buyer-pass-123", email: `${username}@example.com` } });
  const login = await apiCall("POST", "/auth/login", { body: { username, password: "buyer-pass-123" } });
  await apiCall("POST", "/cart/items", { token: login.accessToken, body: { skuId: 1, quantity: 1 } });
  await page.goto("/");
  await page.evaluate((s) => localStorage.setItem("mall.storefront.session", s), JSON.stringify({ tokens: { accessToken: login.accessToken, refreshToken: login.refreshToken, expiresAt: Date.now() + 900_000 }, user: login.user }));
}

/** An upcoming flash sale (published through the admin API): its page, and the home page's flash-sale cards. */
let saleId = 0;
test.beforeAll(async () => {
  const admin = await adminToken();
  const found = await apiCall<{ items: { id: number; title: string }[] }>("GET", `/products?q=${encodeURIComponent("Atomic Habits")}`);
  const product = found.items.find((p) => p.title === "Atomic Habits");
  if (!product) throw new Error("the demo catalog has no Atomic Habits (seed changed?)");
  const sku = (await apiCall<{ skus: { id: number }[] }>("GET", `/products/${product.id}`)).skus[0].id;
  const start = Date.now() + 86_400_000;
  const sale = await apiCall<{ id: number }>("POST", "/admin/seckill/events", {
    token: admin,
    headers: { "idempotency-key": crypto.randomUUID() },
    body: { skuId: sku, title: "读书日秒杀 Atomic Habits", price: 2990, quantity: 3, perUserLimit: 1, startAt: new Date(start).toISOString(), endAt: new Date(start + 3_600_000).toISOString() },
  });
  saleId = sale.id;
});

const SIGNED_IN = ["/cart", "/checkout", "/orders", "/account", "/account/addresses", "/account/wallet", "/account/inbox"];

test("no serious or critical axe violations on the main pages", async ({ page, shot }) => {
  const PUBLIC = ["/", "/search?q=%E8%A5%BF%E7%BA%A2%E6%9F%BF", "/products/1", "/login", "/register", "/coupons", `/seckill/${saleId}`];
  for (const path of PUBLIC) {
    await page.goto(path);
    await expect(page.locator("main h1, main h2").first()).toBeVisible();
    await page.waitForLoadState("networkidle");
    expect([path, await axe(page)]).toEqual([path, []]);
  }
  // the flash sale's page and its card on the home page were among them
  await page.goto("/");
  await expect(page.getByRole("link", { name: "读书日秒杀 Atomic Habits" })).toBeVisible();
  await signIn(page);
  for (const path of SIGNED_IN) {
    await page.goto(path);
    await expect(page.locator("main h1").first()).toBeVisible();
    await page.waitForLoadState("networkidle");
    expect([path, await axe(page)]).toEqual([path, []]);
  }
  await page.getByRole("combobox", { name: "语言" }).selectOption("en");
  await page.goto("/products/1");
  await expect(page.locator("main h1")).toBeVisible();
  expect(["/products/1 (en)", await axe(page)]).toEqual(["/products/1 (en)", []]);
  await shot("product-en");
});

test("a buyer can search, pick a SKU and add it to the cart with the keyboard alone", async ({ page, shot }) => {
  await signIn(page);
  await page.goto("/");
  // the first Tab reaches the skip link, which jumps to the content
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "跳到主要内容" })).toBeFocused();

  const tabTo = async (target: ReturnType<Page["getByRole"]>, max = 40) => {
    for (let i = 0; i < max; i++) {
      if (await target.evaluate((el) => el === document.activeElement)) return;
      await page.keyboard.press("Tab");
    }
    throw new Error(`not reachable by Tab: ${target}`);
  };
  await tabTo(page.getByRole("searchbox", { name: "搜索商品" }));
  await page.keyboard.type("西红柿");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/search\?q=/);
  const result = page.getByRole("link", { name: /新鲜西红柿 500g/ });
  await expect(result).toBeVisible();
  await tabTo(result, 60);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { level: 1, name: "新鲜西红柿 500g" })).toBeVisible();
  await tabTo(page.getByRole("button", { name: "500g" }));
  await page.keyboard.press("Enter");
  await tabTo(page.getByRole("button", { name: "加入购物车" }));
  // the focused control shows where the focus is
  expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe("none");
  await page.keyboard.press("Enter");
  await expect(page.getByText("已加入购物车")).toBeVisible();
  await shot("added-by-keyboard");
});
