/**
 * A flash sale bought in the browser, then the inbox telling the buyer about it.
 *
 * (a) An admin publishes a sale through the API; a buyer opens its deep link /seckill/:id signed
 *     out, sees the price and the countdown, is sent to sign in and back, buys, sees QUEUED, the
 *     ticket poll ends on the new order's pay button, pays in the sandbox and sees PAID. The sale's
 *     figures (admin API) count the unit as paid.
 * (b) The same buyer sees the unread badge, finds the order-paid message (messages' built-in
 *     order.paid inbox template) in the account inbox, opens it — marked read, the badge drops —
 *     and follows its link to the order.
 *
 * The two tests run in order and share the buyer and the order.
 */
import crypto from "node:crypto";
import { adminToken, apiCall, expect, seriousA11yViolations, test, type Page } from "./fixtures";

test.describe.configure({ mode: "serial" });

const buyer = { username: `flash_${crypto.randomBytes(4).toString("hex")}`, password: "buyer-pass-123", token: "" };
const sale = { id: 0, title: `限时秒杀 法压壶 ${crypto.randomBytes(2).toString("hex")}`, price: 990, skuPrice: 0 };
let orderNo = "";
let payable = 0;

const yuan = (fen: number) => `¥${(fen / 100).toFixed(2)}`;

test.beforeAll(async () => {
  const admin = await adminToken();
  // a demo SKU no other browser spec puts on sale (one sale per SKU and window)
  const found = await apiCall<{ items: { id: number; title: string }[] }>("GET", `/products?q=${encodeURIComponent("French Press")}`);
  const product = found.items.find((p) => p.title.startsWith("French Press"));
  if (!product) throw new Error("the demo catalog has no French Press (seed changed?)");
  const detail = await apiCall<{ skus: { id: number; price: number }[] }>("GET", `/products/${product.id}`);
  sale.skuPrice = detail.skus[0].price;
  const now = Date.now();
  const created = await apiCall<{ id: number; status: string; remaining: number }>("POST", "/admin/seckill/events", {
    token: admin,
    headers: { "idempotency-key": crypto.randomUUID() },
    body: { skuId: detail.skus[0].id, title: sale.title, price: sale.price, quantity: 5, perUserLimit: 1, startAt: new Date(now - 60_000).toISOString(), endAt: new Date(now + 30 * 60_000).toISOString() },
  });
  expect(created.status).toBe("active");
  sale.id = created.id;

  await apiCall("POST", "/auth/register", { body: { username: buyer.username, password: buyer.password, email: `${buyer.username}@example.com` } });
  buyer.token = (await apiCall<{ accessToken: string }>("POST", "/auth/login", { body: { username: buyer.username, password: buyer.password } })).accessToken;
  await apiCall("POST", "/users/me/addresses", {
    token: buyer.token,
    body: { name: "李四", mobile: "13900139000", province: "上海市", city: "上海市", district: "浦东新区", detail: "世纪大道 1 号", isDefault: true },
  });
});

async function signIn(page: Page) {
  await page.getByLabel(/用户名/).fill(buyer.username);
  await page.getByLabel("密码").fill(buyer.password);
  await page.getByRole("button", { name: "登录" }).click();
}

test("a flash-sale purchase: deep link, countdown, QUEUED, the ticket poll, pay, PAID", async ({ page, shot }) => {
  // the deep link opens directly, signed out: price, the original price, the countdown
  await page.goto(`/seckill/${sale.id}`);
  await expect(page.getByRole("heading", { level: 1, name: sale.title })).toBeVisible();
  await expect(page.locator(".price-big")).toContainText(yuan(sale.price));
  await expect(page.locator(".price-big s")).toHaveText(yuan(sale.skuPrice));
  const timer = page.getByRole("timer");
  await expect(timer).toHaveText(/^距结束 (\d+:)?\d{2}:\d{2}/);
  const first = await timer.innerText();
  await expect(timer).not.toHaveText(first); // it counts down
  await expect(page.getByTestId("seckill-remaining")).toHaveText("剩余 5 件");
  await shot("sale-signed-out");

  // buying asks to sign in first, then comes back to the sale
  await page.getByRole("button", { name: "立即抢购" }).click();
  await expect(page).toHaveURL(new RegExp(`/login\\?next=${encodeURIComponent(`/seckill/${sale.id}`)}`));
  await signIn(page);
  await expect(page).toHaveURL(new RegExp(`/seckill/${sale.id}$`));
  await expect(page.getByRole("combobox", { name: "收货地址" })).toContainText("李四");
  await shot("sale-signed-in");

  // hold the first answers to the ticket poll until QUEUED has been seen (the in-process writer is
  // quick); every answer still comes from the service, and all are recorded
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const polled: { status: string; orderNo?: string }[] = [];
  await page.route("**/api/v1/seckill/tickets/**", async (route) => {
    await held;
    const res = await route.fetch();
    polled.push(((await res.json()) as { data: { status: string; orderNo?: string } }).data);
    await route.fulfill({ response: res });
  });
  const purchase = page.waitForResponse((r) => r.url().endsWith(`/api/v1/seckill/events/${sale.id}/purchase`));
  await page.getByRole("button", { name: "立即抢购" }).click();
  const accepted = await purchase;
  expect(accepted.status()).toBe(202);
  expect(((await accepted.json()) as { data: { status: string } }).data.status).toBe("QUEUED");
  await expect(page.getByText("排队中，请稍候…")).toBeVisible();
  await expect(page.getByRole("button", { name: "立即抢购" })).toHaveCount(0);
  await shot("queued");
  release();

  const pay = page.getByRole("link", { name: "去付款" });
  await expect(pay).toBeVisible();
  await expect(page.getByText("抢购成功！请尽快付款")).toBeVisible();
  expect(polled.at(-1)?.status).toBe("SUCCEEDED");
  orderNo = polled.at(-1)!.orderNo!;
  expect(orderNo).toBeTruthy();
  await expect(pay).toHaveAttribute("href", `/pay/${orderNo}`);
  await shot("succeeded-pay-button");
  expect(await seriousA11yViolations(page)).toEqual([]);
  await page.unroute("**/api/v1/seckill/tickets/**");

  // the order is a SECKILL order at the sale's price
  const order = await apiCall<{ source: string; status: string; payable: number; items: { skuId: number; unitPrice: number; quantity: number }[] }>("GET", `/orders/${orderNo}`, { token: buyer.token });
  expect(order).toMatchObject({ source: "SECKILL", status: "PENDING_PAYMENT" });
  expect(order.items.map((i) => [i.unitPrice, i.quantity])).toEqual([[sale.price, 1]]);
  payable = order.payable;

  // pay in the sandbox
  await pay.click();
  await expect(page).toHaveURL(new RegExp(`/pay/${orderNo}$`));
  await expect(page.getByText(yuan(payable)).first()).toBeVisible();
  await page.getByRole("radio", { name: "沙箱支付（演示）" }).check();
  await shot("pay-page");
  await page.getByRole("button", { name: "立即支付" }).click();
  await expect(page.getByRole("heading", { name: "沙箱收银台" })).toBeVisible();
  await page.getByRole("button", { name: "确认付款" }).click();
  await expect(page).toHaveURL(new RegExp(`/orders/${orderNo}$`));
  await expect(page.locator(".tag").first()).toHaveText("已付款");
  await expect(page.getByTestId("order-no")).toHaveText(orderNo);
  await expect(page.getByText("秒杀订单")).toBeVisible();
  await shot("order-paid");

  // the sale counts the unit as paid; a second try hits the per-user limit
  const admin = await adminToken();
  await expect.poll(async () => (await apiCall<{ figures: { paid: number } }>("GET", `/admin/seckill/events/${sale.id}`, { token: admin })).figures.paid).toBe(1);
  await page.goto(`/seckill/${sale.id}`);
  // the ticket kept for this tab shows the purchase again after a reload
  await expect(page.getByText("抢购成功！请尽快付款")).toBeVisible();
  await expect(page.getByTestId("seckill-remaining")).toHaveText("剩余 4 件");
  await shot("sale-after-purchase");
});

test("the inbox: unread badge, the order-paid message, opened and read, its link to the order", async ({ page, shot }) => {
  expect(orderNo, "the flash-sale test ran first").toBeTruthy();
  const subject = `订单 ${orderNo} 已支付`;
  // messages writes the inbox row when it hears order.paid: wait for it outside the page
  await expect
    .poll(async () => (await apiCall<{ items: { subject: string }[] }>("GET", "/users/me/messages", { token: buyer.token })).items.map((m) => m.subject), { timeout: 20_000 })
    .toContain(subject);
  const before = await apiCall<{ unread: number; items: { subject: string; read: boolean }[] }>("GET", "/users/me/messages", { token: buyer.token });
  // the "you got it" message of the sale, then the order paid; both unread
  expect(before.items.map((m) => [m.subject, m.read])).toEqual([
    [subject, false],
    [`抢购成功：${sale.title}`, false],
  ]);

  await page.goto("/login");
  await signIn(page);
  await expect(page.getByRole("link", { name: buyer.username })).toBeVisible();
  const badge = page.getByTestId("inbox-unread");
  await expect(badge).toHaveText("2");
  await shot("unread-badge");

  await page.getByRole("link", { name: "消息 2" }).click();
  await expect(page).toHaveURL(/\/account\/inbox$/);
  await expect(page.getByTestId("inbox-count")).toHaveText("2");
  const message = page.getByTestId("inbox-message").filter({ hasText: subject });
  await expect(message).toHaveClass(/unread/);
  await shot("inbox");

  // opening it shows the template's text (order.paid, zh-CN: the username stands in for the nickname)
  await message.getByRole("button", { name: new RegExp(subject) }).click();
  await expect(message.getByText(`${buyer.username}，您的订单 ${orderNo} 已成功支付 ${yuan(payable)}，我们会尽快为您发货。`)).toBeVisible();
  await expect(message).not.toHaveClass(/unread/);
  await expect(message.getByRole("button", { name: new RegExp(subject) })).toHaveAttribute("aria-expanded", "true");
  await expect(page.getByTestId("inbox-count")).toHaveText("1");
  await expect(badge).toHaveText("1");
  await shot("message-opened");
  expect(await seriousA11yViolations(page)).toEqual([]);
  await expect
    .poll(async () => (await apiCall<{ items: { subject: string; read: boolean }[] }>("GET", "/users/me/messages", { token: buyer.token })).items.find((m) => m.subject === subject)?.read)
    .toBe(true);

  // its link is the order
  await message.getByRole("link", { name: "查看订单" }).click();
  await expect(page).toHaveURL(new RegExp(`/orders/${orderNo}$`));
  await expect(page.getByTestId("order-no")).toHaveText(orderNo);
  await expect(page.locator(".tag").first()).toHaveText("已付款");
  await expect(badge).toHaveText("1");
  await shot("order-from-message");

  // read stays read after a reload; "mark all read" takes the badge away
  await page.goto("/account/inbox");
  await expect(page.getByTestId("inbox-message").filter({ hasText: subject })).not.toHaveClass(/unread/);
  await page.getByRole("button", { name: "全部标为已读" }).click();
  await expect(page.getByTestId("inbox-count")).toHaveText("0");
  await expect(badge).toHaveCount(0);
  await shot("all-read");
});
