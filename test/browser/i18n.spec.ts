/**
 * zh-CN by default, English on request — kept across reloads — and a layout that works on a
 * 375 px phone: nothing wider than the screen, the header's controls reachable.
 */
import { expect, test } from "./fixtures";

test("the language switch turns the shop into English and back, and remembers the choice", async ({ page, shot }) => {
  await page.goto("/search?q=%E8%A5%BF%E7%BA%A2%E6%9F%BF");
  await expect(page.getByRole("button", { name: "搜索" })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await shot("zh-CN");

  await page.getByRole("combobox", { name: "语言" }).selectOption("en");
  await expect(page.getByRole("button", { name: "Search", exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
  await expect(page.getByText(/\d+ products/)).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await shot("en");

  await page.reload();
  await expect(page.getByRole("link", { name: "Coupons" })).toBeVisible();
  // money stays in yuan, formatted for the language
  await expect(page.getByText(/¥6\.90/).first()).toBeVisible();

  await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
  await expect(page.getByRole("link", { name: "领券中心" })).toBeVisible();
});

test.describe("on a 375 px phone", () => {
  test.use({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });

  for (const path of ["/", "/search?q=%E8%A5%BF%E7%BA%A2%E6%9F%BF", "/products/1", "/login", "/coupons"]) {
    test(`${path} fits the screen`, async ({ page, shot }) => {
      await page.goto(path);
      await expect(page.locator("main")).not.toBeEmpty();
      await page.waitForLoadState("networkidle");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await expect(page.getByRole("searchbox")).toBeInViewport();
      await shot(`phone-${path.replace(/\W+/g, "-")}`);
    });
  }
});
