/**
 * A buyer's whole purchase in the browser: register, search 西红柿, pick a SKU, add to cart,
 * claim a coupon, check out with a new address and the coupon, pay in the sandbox, see PAID —
 * then ask for a refund. Every step is screenshotted.
 */
import crypto from "node:crypto";
import { adminToken, apiCall, expect, test } from "./fixtures";

const couponName = `满减测试券-${crypto.randomBytes(3).toString("hex")}`;

test.beforeAll(async () => {
  const token = await adminToken();
  const now = Date.now();
  await apiCall("POST", "/admin/coupon-templates", {
    token,
    body: { name: couponName, type: "FIXED", value: 300, threshold: 500, totalQuantity: 1000, perUserLimit: 1, validFrom: new Date(now - 60_000).toISOString(), validTo: new Date(now + 7 * 86400_000).toISOString() },
  });
});

test("register, search 西红柿, cart, checkout with a coupon, sandbox pay, PAID, refund request", async ({ page, shot }) => {
  const username = `buyer_${crypto.randomBytes(4).toString("hex")}`;

  await page.goto("/register");
  await page.getByLabel("用户名", { exact: true }).fill(username);
  await page.getByLabel("邮箱").fill(`${username}@example.com`);
  await page.getByLabel("密码").fill("buyer-pass-123");
  await shot("register-form");
  await page.getByRole("button", { name: "注册" }).click();
  await expect(page.getByRole("link", { name: username })).toBeVisible();
  await shot("registered");

  await page.getByRole("searchbox", { name: "搜索商品" }).fill("西红柿");
  await page.getByRole("button", { name: "搜索" }).click();
  await expect(page).toHaveURL(/\/search\?q=%E8%A5%BF%E7%BA%A2%E6%9F%BF/);
  const result = page.getByRole("link", { name: /新鲜西红柿 500g/ });
  await expect(result).toBeVisible();
  await shot("search-results");

  await result.click();
  await expect(page.getByRole("heading", { level: 1, name: "新鲜西红柿 500g" })).toBeVisible();
  await page.getByRole("button", { name: "1kg" }).click();
  await expect(page.getByText("有货")).toBeVisible();
  await page.getByRole("button", { name: "增加数量" }).click();
  await shot("product-sku-picked");
  await page.getByRole("button", { name: "加入购物车" }).click();
  await expect(page.getByText("已加入购物车")).toBeVisible();
  await expect(page.getByTestId("cart-count")).toHaveText("2");

  await page.getByRole("link", { name: "领券中心" }).click();
  await page.getByRole("button", { name: `立即领取 ${couponName}` }).click();
  await expect(page.getByText("领取成功")).toBeVisible();
  await shot("coupon-claimed");

  await page.getByRole("link", { name: /购物车/ }).click();
  await expect(page.getByTestId("cart-line")).toHaveCount(1);
  await expect(page.getByTestId("cart-line")).toContainText("1kg");
  await shot("cart");
  await page.getByRole("button", { name: /去结算/ }).click();

  await expect(page.getByRole("heading", { name: "确认订单" })).toBeVisible();
  const form = page.getByRole("form", { name: "新增收货地址" });
  await form.getByLabel("收货人").fill("张三");
  await form.getByLabel("手机号").fill("13800138000");
  await form.getByLabel("省").fill("浙江省");
  await form.getByLabel("市").fill("杭州市");
  await form.getByLabel("区/县").fill("西湖区");
  await form.getByLabel("详细地址").fill("文三路 100 号");
  await form.getByRole("button", { name: "保存地址" }).click();
  await expect(page.getByRole("radio", { name: /张三/ })).toBeChecked();
  // 2 × ¥12.90 = ¥25.80, the coupon takes ¥3.00 off, ¥10.00 shipping under the free-shipping line
  const coupon = page.getByRole("combobox", { name: "优惠券" });
  await coupon.selectOption((await coupon.locator("option", { hasText: couponName }).getAttribute("value"))!);
  await expect(page.getByText(`优惠券: ${couponName}`)).toBeVisible();
  await expect(page.getByTestId("payable")).toHaveText("¥32.80");
  await shot("checkout-with-coupon");

  // a double click places one order (the same Idempotency-Key)
  await page.getByRole("button", { name: "提交订单" }).dblclick();
  await expect(page).toHaveURL(/\/pay\/\w+/);
  const orderNo = page.url().split("/pay/")[1];
  await expect(page.getByText("¥32.80")).toBeVisible();
  await shot("pay-page");
  await page.getByRole("radio", { name: "沙箱支付（演示）" }).check();
  await page.getByRole("button", { name: "立即支付" }).click();
  await expect(page.getByRole("heading", { name: "沙箱收银台" })).toBeVisible();
  await shot("sandbox-cashier");
  await page.getByRole("button", { name: "确认付款" }).click();

  await expect(page).toHaveURL(new RegExp(`/orders/${orderNo}$`));
  await expect(page.locator(".tag").first()).toHaveText("已付款");
  await expect(page.getByTestId("order-no")).toHaveText(orderNo);
  await shot("order-paid");

  await page.goto("/orders");
  await expect(page.getByTestId("order-row")).toHaveCount(1);

  // refund request on the paid order
  await page.goto(`/orders/${orderNo}`);
  await page.getByRole("button", { name: "申请退款" }).click();
  await page.getByLabel("退款原因").fill("买多了");
  await shot("refund-form");
  await page.getByRole("button", { name: "提交退款申请" }).click();
  await expect(page.getByRole("heading", { name: "售后记录" })).toBeVisible();
  await expect(page.getByText("买多了", { exact: true })).toBeVisible();
  await expect(page.locator(".tag").first()).toHaveText("退款中");
  await shot("refund-requested");
});
