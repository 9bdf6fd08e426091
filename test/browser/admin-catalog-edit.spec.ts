/**
 * Editing the catalog from the console, checked where a buyer sees it: an admin opens a product
 * in the console, changes its title and a SKU's price, adds a SKU (a taken SKU code is refused
 * with words), renames its brand and its category, and adds a search synonym group; the
 * storefront's product page shows the new title, prices and brand name after a reload, and a
 * search for one synonym finds the product titled with the other (and no longer does once the
 * group is deleted in the console). axe-core finds no serious or critical violation in the edit
 * drawer. An operator may edit the catalog too (the server's catalog roles are operator + admin).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { adminToken, apiCall, expect, seriousA11yViolations, test, type Page } from "./fixtures";

const PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const key = () => ({ "idempotency-key": crypto.randomUUID() });
/** a made-up word of lower-case letters only (a search term no demo product has) */
const word = () => "zq" + Array.from(crypto.randomBytes(8), (b) => String.fromCharCode(97 + (b % 26))).join("");

async function signIn(page: Page, username: string, password: string) {
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/admin\/login/);
  await page.getByLabel(/^\*?\s*Username$/).fill(username);
  await page.getByLabel(/^\*?\s*Password$/).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
}

interface Detail {
  id: number;
  title: string;
  subtitle: string;
  images: string[];
  skus: { id: number; skuCode: string; price: number; attrs: Record<string, string> }[];
}

async function productWithBrand(admin: string, tag: string, title: string) {
  const category = await apiCall<{ id: number; name: string }>("POST", "/categories", { token: admin, headers: key(), body: { name: `Edit cat ${tag}` } });
  const brand = await apiCall<{ id: number; name: string }>("POST", "/brands", { token: admin, headers: key(), body: { name: `Edit brand ${tag}` } });
  const created = await apiCall<{ id: number }>("POST", "/products", {
    token: admin,
    headers: key(),
    body: { title, categoryId: category.id, brandId: brand.id, status: "ON_SALE", skus: [{ skuCode: `ED-${tag}`, attrs: { size: "M" }, price: 5_000, stock: 20 }] },
  });
  const detail = await apiCall<Detail>("GET", `/products/${created.id}`, { token: admin });
  return { category, brand, detail };
}

test("an admin edits a product, its SKUs, brand, category and synonyms; the storefront shows it", async ({ page, shot }) => {
  test.setTimeout(240_000);
  const admin = await adminToken();
  const tag = crypto.randomBytes(3).toString("hex");
  const [before, after] = [word(), word()];
  const oldTitle = `Kettle ${tag}`;
  const newTitle = `Edited kettle ${after}`;
  const { category, brand, detail } = await productWithBrand(admin, tag, oldTitle);
  const sku = detail.skus[0];
  // another product whose SKU code the edit will try to take
  const other = await productWithBrand(admin, `${tag}o`, `Other kettle ${tag}`);

  // the storefront before: old title, ¥50.00, the brand's first name
  await page.goto(`/products/${detail.id}`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(oldTitle);
  await expect(page.locator(".price-big")).toContainText("50.00");

  await signIn(page, process.env.MALL_ADMIN_USERNAME!, process.env.MALL_ADMIN_PASSWORD!);
  await page.getByRole("link", { name: "Catalog" }).click();
  await page.getByLabel(/^\*?\s*Search\ products$/).fill(oldTitle);
  await page.getByLabel(/^\*?\s*Search\ products$/).press("Enter");
  await page.getByRole("button", { name: `Edit ${oldTitle}` }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/catalog\\?edit=${detail.id}$`));
  const drawer = page.getByRole("dialog", { name: `Edit product ${detail.id}` });
  await expect(drawer.getByLabel(/^\*?\s*Title$/)).toHaveValue(oldTitle);

  // the product's fields and a first image
  const png = test.info().outputPath("upload.png");
  fs.writeFileSync(png, Buffer.from(PNG_1X1, "base64"));
  await drawer.getByLabel(/^\*?\s*Title$/).fill(newTitle);
  await drawer.getByLabel(/^\*?\s*Subtitle$/).fill("Boils water, edited from the console");
  await drawer.locator("input[type=file]").setInputFiles(png);
  await expect(drawer.locator(".ant-upload-list-item-done, .ant-upload-list-item img").first()).toBeVisible();
  await drawer.getByRole("button", { name: "Save product" }).click();
  await expect(page.getByText("Product saved")).toBeVisible();

  // a SKU's price, inline
  await drawer.getByLabel(`Price of SKU ${sku.id}`).fill("66.60");
  await drawer.getByRole("button", { name: `Save SKU ${sku.id}` }).click();
  await expect(page.getByText(`SKU ${sku.skuCode} saved`)).toBeVisible();

  // a code another SKU has: refused, said in words, nothing changed
  await drawer.getByLabel(`Code of SKU ${sku.id}`).fill(other.detail.skus[0].skuCode);
  await drawer.getByRole("button", { name: `Save SKU ${sku.id}` }).click();
  await expect(page.getByText("That SKU code is already used.")).toBeVisible();
  await drawer.getByRole("button", { name: `Undo changes to SKU ${sku.id}` }).click();
  await expect(drawer.getByLabel(`Code of SKU ${sku.id}`)).toHaveValue(sku.skuCode);

  // a new SKU with starting stock
  await drawer.getByLabel("New SKU code").fill(`ED-${tag}-L`);
  await drawer.getByLabel("New SKU attributes").fill("size=L");
  await drawer.getByLabel("New SKU price").fill("99");
  await drawer.getByLabel("New SKU starting stock").fill("4");
  await drawer.getByRole("button", { name: "Add SKU" }).click();
  await expect(page.getByText(`SKU ED-${tag}-L added`)).toBeVisible();
  await expect(drawer.locator("tbody tr.ant-table-row")).toHaveCount(2);
  await expect(drawer.getByText(/66\.60 – \S*99\.00/)).toBeVisible();

  expect(await seriousA11yViolations(page)).toEqual([]);
  await shot("edit-drawer");
  // the drawer is an address: a reload opens it again
  await page.reload();
  await expect(page.getByRole("dialog", { name: `Edit product ${detail.id}` }).getByLabel(/^\*?\s*Title$/)).toHaveValue(newTitle);
  await page.getByRole("dialog", { name: `Edit product ${detail.id}` }).getByRole("button", { name: "Close" }).click();
  await expect(page).toHaveURL(/\/admin\/catalog$/);

  const saved = await apiCall<Detail>("GET", `/products/${detail.id}`, { token: admin });
  expect(saved.title).toBe(newTitle);
  expect(saved.images).toEqual([expect.stringMatching(/\/uploads\//)]);
  expect(saved.skus.map((s) => [s.skuCode, s.price, s.attrs])).toEqual([
    [sku.skuCode, 6_660, { size: "M" }],
    // codes are stored upper-case
    [`ED-${tag}-L`.toUpperCase(), 9_900, { size: "L" }],
  ]);

  // brand and category renamed
  const newBrand = `Renamed brand ${tag}`;
  await page.getByRole("tab", { name: "Brands" }).click();
  await page.getByRole("button", { name: `Rename ${brand.name}`, exact: true }).click();
  const rb = page.getByRole("dialog", { name: /Rename brand/ });
  await rb.getByLabel("New name").fill(newBrand);
  await rb.getByRole("button", { name: "Rename" }).click();
  await expect(page.getByRole("cell", { name: newBrand, exact: true })).toBeVisible();
  await shot("brand-renamed");

  const newCategory = `Renamed cat ${tag}`;
  await page.getByRole("tab", { name: "Categories" }).click();
  await page.getByRole("button", { name: `Rename ${category.name}`, exact: true }).click();
  const rc = page.getByRole("dialog", { name: /Rename category/ });
  await rc.getByLabel("New name").fill(newCategory);
  await rc.getByRole("button", { name: "Rename" }).click();
  await expect(page.getByRole("button", { name: `Rename ${newCategory}`, exact: true })).toBeVisible();
  const tree = await apiCall<{ id: number; name: string }[]>("GET", "/categories");
  expect(tree.find((c) => c.id === category.id)?.name).toBe(newCategory);

  // a synonym group: `before` = `after`
  await page.getByRole("tab", { name: "Search synonyms" }).click();
  await expect(page).toHaveURL(/tab=synonyms/);
  await page.getByLabel("New synonym group").fill(`${before}, ${after}`);
  await page.getByRole("button", { name: "Add synonym group" }).click();
  const group = page.locator("tr", { hasText: before });
  await expect(group).toContainText(after);
  expect(await seriousA11yViolations(page)).toEqual([]);
  await shot("synonyms");

  // the storefront after a reload: the new title, the new prices, the brand's new name
  await page.goto(`/products/${detail.id}`);
  await page.reload();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(newTitle);
  await expect(page.locator(".price-big")).toContainText("66.60");
  await expect(page.locator(".price-big")).toContainText("99.00");
  await expect(page.getByText(newBrand)).toBeVisible();
  await shot("storefront-product");

  // a search for the other word finds it
  await page.goto(`/search?q=${before}`);
  await expect(page.locator(".product-title", { hasText: newTitle })).toBeVisible();
  await shot("storefront-synonym-search");

  // the group deleted in the console: the word finds nothing any more
  await page.goto("/admin/catalog?tab=synonyms");
  const row = page.locator("tr", { hasText: before });
  const groupId = (await row.locator("td").first().innerText()).trim();
  await row.getByRole("button", { name: `Delete synonym group ${groupId}` }).click();
  await page.getByRole("button", { name: "OK" }).click();
  await expect(page.getByText("Synonym group deleted")).toBeVisible();
  await expect(page.locator("tr", { hasText: before })).toHaveCount(0);
  await page.goto(`/search?q=${before}`);
  await expect(page.getByText("没有找到相关商品")).toBeVisible();
  await expect(page.locator(".product-title", { hasText: newTitle })).toHaveCount(0);
});

test("an operator may edit the catalog too", async ({ page, shot }) => {
  const admin = await adminToken();
  const tag = crypto.randomBytes(3).toString("hex");
  const { detail } = await productWithBrand(admin, `op${tag}`, `Operator kettle ${tag}`);
  const username = `op${crypto.randomBytes(4).toString("hex")}`;
  const password = "operator-pass-1234";
  const user = await apiCall<{ id: number }>("POST", "/auth/register", { body: { username, password, email: `${username}@example.com` } });
  await apiCall("PUT", `/admin/users/${user.id}/roles`, { token: admin, body: { roles: ["operator"] } });

  await signIn(page, username, password);
  await page.goto(`/admin/catalog?edit=${detail.id}`);
  const drawer = page.getByRole("dialog", { name: `Edit product ${detail.id}` });
  await drawer.getByLabel(/^\*?\s*Subtitle$/).fill("Set by an operator");
  await drawer.getByRole("button", { name: "Save product" }).click();
  await expect(page.getByText("Product saved")).toBeVisible();
  await drawer.getByLabel(`Price of SKU ${detail.skus[0].id}`).fill("45");
  await drawer.getByRole("button", { name: `Save SKU ${detail.skus[0].id}` }).click();
  await expect(page.getByText(`SKU ${detail.skus[0].skuCode} saved`)).toBeVisible();
  await shot("operator-edit");
  const saved = await apiCall<Detail>("GET", `/products/${detail.id}`, { token: admin });
  expect(saved.subtitle).toBe("Set by an operator");
  expect(saved.skus[0].price).toBe(4_500);
});
