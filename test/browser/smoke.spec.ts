/**
 * The gateway serves the built storefront and the browser runs it under the shop's
 * Content-Security-Policy: the home page renders, a deep link opens directly, nothing errors.
 */
import { expect, test } from "./fixtures";

test("the storefront opens at / and on a deep link, with no page or CSP errors", async ({ page, shot }) => {
  const res = await page.goto("/");
  expect(res?.status()).toBe(200);
  expect(res?.headers()["content-security-policy"]).toContain("script-src 'self'");
  await expect(page.locator("#root")).not.toBeEmpty();
  await shot("home");

  const deep = await page.goto("/products/1");
  expect(deep?.status()).toBe(200);
  await expect(page.locator("#root")).not.toBeEmpty();
  await shot("product-deep-link");
});
