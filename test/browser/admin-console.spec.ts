/**
 * The admin console in Chromium against the embedded shop (global-setup.ts): an admin signs in,
 * creates a product with an uploaded image, sets its stock, creates a coupon, ships a paid order,
 * approves a refund and sees today's figures on the dashboard move; an operator is refused the
 * admin-only pages. axe-core finds no serious or critical violation on the pages visited.
 *
 * Still to finish once those services are merged (their pages are built against API.md):
 *   - flash sale: create one in Marketing → Flash sales and watch its live figures
 *     (`flashSale()` below, now asserting the "not available" notice);
 *   - batch message: send a template to a user in Messages → Batch send and watch the progress
 *     (`batchMessage()` below, same).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { adminToken, apiCall, expect, test, type Page } from "./fixtures";

const PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

async function noSeriousA11yIssues(page: Page, where: string) {
  const r = await new AxeBuilder({ page }).analyze();
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.map((v) => `${where}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`)).toEqual([]);
}

async function signIn(page: Page, username: string, password: string) {
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/admin\/login/);
  await page.getByLabel(/^\*?\s*Username$/).fill(username);
  await page.getByLabel(/^\*?\s*Password$/).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
}

const key = () => ({ "idempotency-key": crypto.randomUUID() });

/** A customer with an address and wallet money, who orders `quantity` of `skuId` and pays from the wallet. */
async function paidOrder(admin: string, skuId: number, quantity = 1) {
  const username = `buyer${crypto.randomBytes(4).toString("hex")}`;
  const password = "buyer-pass-1234";
  const user = await apiCall<{ id: number }>("POST", "/auth/register", { body: { username, password, email: `${username}@example.com` } });
  const token = (await apiCall<{ accessToken: string }>("POST", "/auth/login", { body: { username, password } })).accessToken;
  const address = await apiCall<{ id: number }>("POST", "/users/me/addresses", {
    token,
    body: { name: "Buyer", mobile: "13800000000", province: "Zhejiang", city: "Hangzhou", district: "Xihu", detail: "1 Test Road" },
  });
  await apiCall("POST", `/admin/users/${user.id}/wallet/credit`, { token: admin, headers: key(), body: { amount: 1_000_000, reason: "browser test" } });
  const order = await apiCall<{ orderNo: string }>("POST", "/orders", { token, headers: key(), body: { addressId: address.id, items: [{ skuId, quantity }] } });
  await apiCall("POST", "/payments", { token, body: { orderNo: order.orderNo, channel: "wallet" } });
  await expect.poll(async () => (await apiCall<{ status: string }>("GET", `/orders/${order.orderNo}`, { token })).status).toBe("PAID");
  return { orderNo: order.orderNo, token };
}

async function todayFigure(page: Page, label: string): Promise<number> {
  const card = page.getByTestId("overview-Today");
  const value = card.locator(".ant-statistic").filter({ hasText: label }).locator(".ant-statistic-content-value");
  return Number((await value.innerText()).split("·")[0].replace(/[^\d.]/g, ""));
}

test("an admin runs the shop from the console and sees the dashboard move", async ({ page, shot }) => {
  test.setTimeout(300_000);
  // a real PNG (1×1) for the upload, among the test's own artifacts
  const PNG = test.info().outputPath("upload.png");
  fs.writeFileSync(PNG, Buffer.from(PNG_1X1, "base64"));
  const admin = await adminToken();
  const tag = crypto.randomBytes(3).toString("hex");

  // a product to sell, stocked (set up through the API: the UI flows below are about the console)
  const category = await apiCall<{ id: number }>("POST", "/categories", { token: admin, headers: key(), body: { name: `Console ${tag}` } });
  const goods = await apiCall<{ id: number; skus: { id: number }[] }>("POST", "/products", {
    token: admin,
    headers: key(),
    body: { title: `Console goods ${tag}`, categoryId: category.id, status: "ON_SALE", skus: [{ skuCode: `CG-${tag}`, attrs: {}, price: 5_000, stock: 50 }] },
  });
  const goodsSku = (await apiCall<{ skus: { id: number }[] }>("GET", `/products/${goods.id}`, { token: admin })).skus[0].id;

  await page.goto("/admin/login");
  await noSeriousA11yIssues(page, "login");
  await shot("login");
  await signIn(page, process.env.MALL_ADMIN_USERNAME!, process.env.MALL_ADMIN_PASSWORD!);
  await expect(page.getByTestId("overview-Today")).toBeVisible();
  await expect(page.getByRole("img", { name: /Chart of orders and revenue/ })).toBeVisible();
  const paidBefore = await todayFigure(page, "Paid orders");
  const refundsBefore = await todayFigure(page, "Refunds");
  await noSeriousA11yIssues(page, "dashboard");
  await shot("dashboard-before");

  // catalog: a new product with an uploaded image and one SKU with starting stock
  await page.getByRole("link", { name: "Catalog" }).click();
  await page.getByRole("button", { name: "New product" }).click();
  const drawer = page.getByRole("dialog", { name: "New product" });
  await drawer.getByLabel(/^\*?\s*Title$/).fill(`Console teapot ${tag}`);
  await drawer.getByLabel(/^\*?\s*Category$/).click();
  await page.locator(".ant-select-tree-title", { hasText: `Console ${tag}` }).click();
  await drawer.locator("input[type=file]").setInputFiles(PNG);
  await expect(drawer.locator(".ant-upload-list-item-done, .ant-upload-list-item img").first()).toBeVisible();
  await drawer.getByLabel(/^\*?\s*SKU\ code$/).fill(`TP-${tag}`);
  await drawer.getByLabel(/^\*?\s*SKU\ attributes$/).fill("color=blue");
  await drawer.getByLabel(/^\*?\s*SKU\ price$/).fill("88.50");
  await drawer.getByLabel(/^\*?\s*SKU\ starting\ stock$/).fill("3");
  await shot("new-product");
  await drawer.getByRole("button", { name: "Create product" }).click();
  await expect(page.getByText(/Product \d+ created/)).toBeVisible();
  await page.getByLabel(/^\*?\s*Search\ products$/).fill(`Console teapot ${tag}`);
  await page.getByLabel(/^\*?\s*Search\ products$/).press("Enter");
  const row = page.locator("tr", { hasText: `Console teapot ${tag}` });
  await expect(row).toBeVisible();
  await expect(row.locator("img")).toHaveAttribute("src", /\/uploads\//);
  await noSeriousA11yIssues(page, "catalog");
  await shot("catalog");
  const created = await apiCall<{ items: { id: number }[] }>("GET", `/products?q=${encodeURIComponent(`Console teapot ${tag}`)}`, { token: admin });
  const teapotSku = (await apiCall<{ skus: { id: number }[] }>("GET", `/products/${created.items[0].id}`, { token: admin })).skus[0].id;

  // inventory: add 7 units with a reason; the movement log shows it
  await page.getByRole("link", { name: "Inventory" }).click();
  await page.getByLabel(/^\*?\s*SKU\ id$/).fill(String(teapotSku));
  await page.getByRole("button", { name: "Open" }).first().click();
  await expect(page.getByTestId("available")).toHaveText("3");
  await page.getByLabel(/^\*?\s*Add\ \/\ take$/).fill("7");
  await page.getByLabel(/^\*?\s*Reason$/).fill("stocktake");
  await page.getByRole("button", { name: "Adjust" }).click();
  await expect(page.getByTestId("available")).toHaveText("10");
  await expect(page.locator("td", { hasText: "stocktake" })).toBeVisible();
  await shot("inventory");

  // marketing: a coupon template
  await page.getByRole("link", { name: "Marketing" }).click();
  await page.getByRole("button", { name: "New coupon template" }).click();
  const cd = page.getByRole("dialog", { name: "New coupon template" });
  await cd.getByLabel(/^\*?\s*Name$/).fill(`Console coupon ${tag}`);
  await cd.getByLabel(/^\*?\s*Value\ \(¥\ or\ %\)$/).fill("10");
  await cd.getByLabel(/^\*?\s*Minimum\ spend\ \(¥\)$/).fill("100");
  await cd.getByLabel(/^\*?\s*Valid$/).click();
  await page.locator(".ant-picker-dropdown .ant-picker-now-btn, .ant-picker-dropdown .ant-picker-cell-today").first().click();
  await page.locator(".ant-picker-dropdown .ant-picker-ok button").click();
  await page.locator(".ant-picker-dropdown .ant-picker-cell-in-view").last().click();
  await page.locator(".ant-picker-dropdown .ant-picker-ok button").click();
  await cd.getByRole("button", { name: "Create" }).click();
  await expect(page.locator("tr", { hasText: `Console coupon ${tag}` })).toBeVisible();
  await shot("coupon");
  await flashSale(page);

  // orders: ship a paid order
  const toShip = await paidOrder(admin, goodsSku, 2);
  await page.getByRole("link", { name: "Orders & refunds" }).click();
  await page.getByLabel(/^\*?\s*Order\ number$/).fill(toShip.orderNo);
  await page.getByLabel(/^\*?\s*Order\ number$/).press("Enter");
  await page.getByRole("button", { name: toShip.orderNo }).click();
  await expect(page.getByTestId("order-status")).toHaveText("PAID");
  await page.getByLabel(/^\*?\s*Carrier$/).fill("SF Express");
  await page.getByLabel(/^\*?\s*Tracking\ number$/).fill(`SF${tag}`);
  await page.getByRole("button", { name: "Ship" }).click();
  await expect(page.getByTestId("order-status")).toHaveText("SHIPPED");
  await expect(page.locator(".ant-timeline", { hasText: `SF${tag}` })).toBeVisible();
  await noSeriousA11yIssues(page, "order detail");
  await shot("order-shipped");
  await page.keyboard.press("Escape");

  // refunds: approve a buyer's request with a note
  const toRefund = await paidOrder(admin, goodsSku, 1);
  await apiCall("POST", `/orders/${toRefund.orderNo}/refund`, { token: toRefund.token, headers: key(), body: { reason: "wrong colour" } });
  await page.getByRole("tab", { name: "Refunds" }).click();
  const request = page.locator("tr", { hasText: toRefund.orderNo });
  await request.getByRole("button", { name: "Approve" }).click();
  await page.getByLabel(/^\*?\s*Note$/).fill("approved in the console");
  await page.locator(".ant-modal").getByRole("button", { name: "Approve" }).click();
  await expect(page.getByText(/Refund approved/)).toBeVisible();
  await expect.poll(async () => (await apiCall<{ status: string }>("GET", `/orders/${toRefund.orderNo}`, { token: toRefund.token })).status).toBe("REFUNDED");
  await shot("refund-approved");

  await batchMessage(page);

  // the dashboard: two more paid orders today, one more refund
  await page.getByRole("link", { name: "Dashboard" }).click();
  await expect
    .poll(
      async () => {
        await page.reload();
        await expect(page.getByTestId("overview-Today").locator(".ant-statistic").first()).toBeVisible();
        return [await todayFigure(page, "Paid orders"), await todayFigure(page, "Refunds")];
      },
      { timeout: 30_000, intervals: [2_500] },
    )
    .toEqual([paidBefore + 2, refundsBefore + 1]);
  await shot("dashboard-after");
});

/** Marketing → Flash sales. TODO once seckill is merged: create an event and watch accepted/ordered/paid/remaining. */
async function flashSale(page: Page) {
  await page.getByRole("tab", { name: "Flash sales" }).click();
  const missing = page.getByText("Flash sales are not available on this shop yet");
  // antd 6 names the pane `ant-tabs-body…` (no `ant-tabs-tabpane-active`): find it by its role
  const table = page.getByRole("tabpanel", { name: "Flash sales" }).locator(".ant-table");
  await expect(missing.or(table)).toBeVisible();
}

/** Messages → Batch send. TODO once messages is merged: send a template to a user and watch the progress reach "sent". */
async function batchMessage(page: Page) {
  await page.getByRole("link", { name: "Messages" }).click();
  await expect(page.getByText("Messages are not available on this shop yet").or(page.getByRole("button", { name: "New template" }))).toBeVisible();
}

test("an operator runs the daily work but is refused the admin-only pages", async ({ page, shot }) => {
  const admin = await adminToken();
  const username = `op${crypto.randomBytes(4).toString("hex")}`;
  const password = "operator-pass-1234";
  const user = await apiCall<{ id: number }>("POST", "/auth/register", { body: { username, password, email: `${username}@example.com` } });
  await apiCall("PUT", `/admin/users/${user.id}/roles`, { token: admin, body: { roles: ["operator"] } });

  await signIn(page, username, password);
  await expect(page.getByText("Sales figures are shown to admins.")).toBeVisible();
  await expect(page.getByRole("link", { name: "Orders & refunds" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Analytics" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Users" })).toHaveCount(0);
  await noSeriousA11yIssues(page, "operator dashboard");
  await shot("operator-dashboard");

  for (const p of ["/admin/analytics", "/admin/users"]) {
    await page.goto(p);
    await expect(page.getByText("Admins only")).toBeVisible();
    await shot(`operator-refused-${p.split("/").pop()}`);
  }
  // the server refuses too, whatever the console shows
  const token = (await apiCall<{ accessToken: string }>("POST", "/auth/login", { body: { username, password } })).accessToken;
  const res = await fetch(`${process.env.MALL_URL}/api/v1/admin/stats/overview`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(403);

  // a customer cannot use the console at all
  await page.getByRole("button", { name: "Sign out" }).click();
  const c = `cu${crypto.randomBytes(4).toString("hex")}`;
  await apiCall("POST", "/auth/register", { body: { username: c, password, email: `${c}@example.com` } });
  await page.getByLabel(/^\*?\s*Username$/).fill(c);
  await page.getByLabel(/^\*?\s*Password$/).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("This account is not staff")).toBeVisible();
  await shot("customer-refused");
});
