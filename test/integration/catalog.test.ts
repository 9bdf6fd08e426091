/**
 * Catalog through the gateway, embedded shape (SQLite, memory cache, in-process inventory):
 * search, filters, sorting and paging; what customers may see; bad input; cache invalidation on
 * price and stock changes; uploads; the internal actions cart and orders use.
 */
import fs from "node:fs";
import path from "node:path";
import { Shop, client, loginAdmin, newCustomer, startShop, waitFor } from "../helpers/shop";
import { JPEG_TINY, PNG_1x1, createFixture, upload } from "../helpers/catalog-fixtures";

let shop: Shop;
let http: ReturnType<typeof client>;
let admin: string;
let customer: string;
let ids: Record<string, any>;

const titles = (r: { body: any }) => r.body.data.items.map((p: { title: string }) => p.title);
const call = <T = any>(action: string, params: unknown) => shop.brokerFor("catalog").call(action, params) as Promise<T>;
const productCount = async () => (await http.get("products?pageSize=1", { token: admin })).body.data.total as number;

beforeAll(async () => {
  shop = await startShop({ shape: "embedded" });
  http = client(shop);
  admin = await loginAdmin(shop);
  customer = (await newCustomer(shop)).token;
  ids = await createFixture(shop, admin);
  await call("catalog.addSales", { lines: [{ skuId: ids.enTomato.skus[0].id, quantity: 50 }] });
  await call("catalog.addSales", { lines: [{ skuId: ids.soupBook.skus[0].id, quantity: 20 }] });
  await call("catalog.addSales", { lines: [{ skuId: ids.cnTomato.skus[1].id, quantity: 10 }] });
  // the subtitle-only match sells best: ranking must still put title matches first
  await call("catalog.addSales", { lines: [{ skuId: ids.salad.skus[0].id, quantity: 100 }] });
});

afterAll(async () => {
  await shop?.stop();
});

describe("search", () => {
  it("finds Chinese words inside titles and subtitles, title matches first", async () => {
    const r = await http.get(`products?q=${encodeURIComponent("西红柿")}`);
    expect(r.status).toBe(200);
    expect(r.body.code).toBe(0);
    const t = titles(r);
    expect(t.slice(0, 2).sort()).toEqual(["新鲜西红柿 500g", "有机 Organic 西红柿 礼盒"].sort());
    expect(t[2]).toBe("Garden Salad Mix"); // subtitle match ranks after title matches
    expect(r.body.data.total).toBe(3);
  });

  it("finds English words case-insensitively, ranked by title then subtitle", async () => {
    const r = await http.get("products?q=TOMATO");
    expect(titles(r)).toEqual(["Organic Tomato Pack", "The Tomato Soup Cookbook", "Garden Salad Mix"]);
    expect(r.body.data.total).toBe(3);
    expect(titles(await http.get("products?q=tom"))).toContain("Organic Tomato Pack");
  });

  it("requires every word of a mixed Chinese/English query", async () => {
    const r = await http.get(`products?q=${encodeURIComponent("organic 西红柿")}`);
    expect(titles(r)).toEqual(["有机 Organic 西红柿 礼盒"]);
    expect((await http.get(`products?q=${encodeURIComponent("西红柿 cookbook")}`)).body.data.total).toBe(0);
  });

  it("never shows off-sale products to customers or visitors, but staff can list them", async () => {
    for (const token of [undefined, customer]) {
      const r = await http.get(`products?q=${encodeURIComponent("种子")}`, { token });
      expect(r.body.data.total).toBe(0);
      const d = await http.get(`products/${ids.offSale.id}`, { token });
      expect(d.status).toBe(404);
      expect(d.body.type).toBe("PRODUCT_NOT_FOUND");
      // asking for off-sale explicitly changes nothing for a customer
      const all = await http.get(`products?status=OFF_SALE&pageSize=100`, { token });
      expect(titles(all)).not.toContain(ids.offSale.title);
    }
    const staff = await http.get(`products?q=${encodeURIComponent("种子")}`, { token: admin });
    expect(titles(staff)).toEqual([ids.offSale.title]);
    expect((await http.get(`products/${ids.offSale.id}`, { token: admin })).status).toBe(200);
    expect(titles(await http.get("products?status=OFF_SALE", { token: admin }))).toEqual([ids.offSale.title]);
  });
});

describe("filters, sorting and paging", () => {
  it("filters by a category including its sub-categories", async () => {
    const food = await http.get(`products?categoryId=${ids.food.id}&pageSize=100`);
    expect(titles(food).sort()).toEqual(["Garden Salad Mix", "Organic Tomato Pack", "新鲜西红柿 500g", "有机 Organic 西红柿 礼盒"].sort());
    const leaf = await http.get(`products?categoryId=${ids.tomatoes.id}`);
    expect(titles(leaf).sort()).toEqual(["新鲜西红柿 500g", "有机 Organic 西红柿 礼盒"].sort());
    const books = await http.get(`products?categoryId=${ids.books.id}&q=tomato`);
    expect(titles(books)).toEqual(["The Tomato Soup Cookbook"]);
  });

  it("filters by brand and by price range (lowest SKU price)", async () => {
    expect(titles(await http.get(`products?brandId=${ids.ink.id}`))).toEqual(["The Tomato Soup Cookbook"]);
    const r = await http.get("products?minPrice=690&maxPrice=1590&sort=price_asc");
    expect(titles(r)).toEqual(["新鲜西红柿 500g", "Garden Salad Mix", "Organic Tomato Pack"]);
    expect(r.body.data.items[0].minPrice).toBe(690);
  });

  it("sorts by price, sales and newest", async () => {
    const asc = (await http.get("products?sort=price_asc&pageSize=100")).body.data.items.map((p: any) => p.minPrice);
    expect(asc).toEqual([...asc].sort((a: number, b: number) => a - b));
    const desc = (await http.get("products?sort=price_desc&pageSize=100")).body.data.items.map((p: any) => p.minPrice);
    expect(desc).toEqual([...asc].reverse());
    const sales = await http.get("products?sort=sales");
    expect(titles(sales).slice(0, 4)).toEqual(["Garden Salad Mix", "Organic Tomato Pack", "The Tomato Soup Cookbook", "新鲜西红柿 500g"]);
    expect(sales.body.data.items.map((p: any) => p.sales).slice(0, 4)).toEqual([100, 50, 20, 10]);
    // an explicit sort applies to keyword results too
    expect(titles(await http.get("products?q=tomato&sort=sales"))[0]).toBe("Garden Salad Mix");
    const newest = await http.get("products?sort=newest");
    expect(titles(newest)[0]).toBe("有机 Organic 西红柿 礼盒"); // the off-sale one was created later but is hidden
  });

  it("pages with the right totals", async () => {
    const all = await http.get("products?pageSize=100&sort=price_asc");
    const total = all.body.data.total;
    expect(total).toBe(5);
    const seen: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const r = await http.get(`products?pageSize=2&page=${page}&sort=price_asc`);
      expect(r.body.data).toMatchObject({ total, page, pageSize: 2 });
      seen.push(...titles(r));
    }
    expect(seen).toEqual(titles(all));
    const beyond = await http.get("products?pageSize=2&page=9&q=tomato");
    expect(beyond.body.data.items).toEqual([]);
    expect(beyond.body.data.total).toBe(3);
  });
});

describe("bad input changes nothing", () => {
  it("rejects absurd page sizes and malformed filters with 422", async () => {
    for (const qs of ["pageSize=101", "pageSize=0", "page=0", "page=-1", "pageSize=2.5", "minPrice=-1", "minPrice=1.5", "maxPrice=abc", "sort=random", "minPrice=500&maxPrice=100", "page=9999&pageSize=100"]) {
      const r = await http.get(`products?${qs}`);
      expect([qs, r.status, r.body.type]).toEqual([qs, 422, "VALIDATION_ERROR"]);
      expect(r.body.code).toBe(1422);
    }
  });

  it("answers 404 for unknown ids", async () => {
    expect((await http.get("products/999999")).body.type).toBe("PRODUCT_NOT_FOUND");
    expect((await http.get("products/999999")).status).toBe(404);
    expect((await http.get("products?categoryId=999999")).status).toBe(404);
    expect((await http.get("products?brandId=999999")).body.type).toBe("BRAND_NOT_FOUND");
    expect((await http.patch("products/999999", { title: "x" }, { token: admin })).status).toBe(404);
    expect((await http.patch(`products/${ids.enTomato.id}/skus/999999`, { price: 100 }, { token: admin })).body.type).toBe("SKU_NOT_FOUND");
    expect((await http.patch(`products/${ids.enTomato.id}/skus/${ids.cnTomato.skus[0].id}`, { price: 100 }, { token: admin })).status).toBe(404);
    expect((await http.del("categories/999999", { token: admin })).body.type).toBe("CATEGORY_NOT_FOUND");
  });

  it("rejects negative or fractional prices and stock, and unknown categories, creating nothing", async () => {
    const before = await productCount();
    const base = { title: "Bad", categoryId: ids.veg.id };
    const cases: [unknown, number][] = [
      [{ ...base, skus: [{ skuCode: "BAD-1", price: -100, stock: 1 }] }, 422],
      [{ ...base, skus: [{ skuCode: "BAD-2", price: 9.99, stock: 1 }] }, 422],
      [{ ...base, skus: [{ skuCode: "BAD-3", price: 0, stock: 1 }] }, 422],
      [{ ...base, skus: [{ skuCode: "BAD-4", price: "100", stock: 1 }] }, 422],
      [{ ...base, skus: [{ skuCode: "BAD-5", price: 100, stock: 1.5 }] }, 422],
      [{ ...base, skus: [{ skuCode: "BAD-6", price: 100, stock: -1 }] }, 422],
      [{ ...base, skus: [] }, 422],
      [{ ...base, skus: [{ skuCode: "BAD-7", price: 100, colour: "red" }] }, 422],
      [{ ...base, categoryId: 999999, skus: [{ skuCode: "BAD-8", price: 100 }] }, 404],
      [{ ...base, brandId: 999999, skus: [{ skuCode: "BAD-9", price: 100 }] }, 404],
      [{ ...base, skus: [{ skuCode: "FX-GIFT", price: 100 }] }, 409],
      [{ ...base, skus: [{ skuCode: "dup-1", price: 100 }, { skuCode: "DUP-1", price: 100 }] }, 409],
    ];
    for (const [body, status] of cases) {
      const r = await http.post("products", body, { token: admin });
      expect([JSON.stringify(body), r.status]).toEqual([JSON.stringify(body), status]);
      expect(r.body.code).not.toBe(0);
      expect(typeof r.body.message).toBe("string");
    }
    expect(await productCount()).toBe(before);
    const sku = ids.enTomato.skus[0];
    for (const price of [-1, 1.25, 0]) {
      expect((await http.patch(`products/${ids.enTomato.id}/skus/${sku.id}`, { price }, { token: admin })).status).toBe(422);
    }
    expect((await http.get(`products/${ids.enTomato.id}`)).body.data.skus[0].price).toBe(sku.price);
  });

  it("refuses to make a category its own ancestor, and to delete a category that is in use", async () => {
    const treeBefore = (await http.get("categories")).body.data;
    for (const parentId of [ids.food.id, ids.veg.id, ids.tomatoes.id]) {
      const r = await http.patch(`categories/${ids.food.id}`, { parentId }, { token: admin });
      expect(r.status).toBe(422);
      expect(r.body.type).toBe("CATEGORY_CYCLE");
    }
    expect((await http.get("categories")).body.data).toEqual(treeBefore);
    const withChildren = await http.del(`categories/${ids.food.id}`, { token: admin });
    expect([withChildren.status, withChildren.body.type]).toEqual([409, "CATEGORY_NOT_EMPTY"]);
    const withProducts = await http.del(`categories/${ids.tomatoes.id}`, { token: admin });
    expect(withProducts.status).toBe(409);
    expect((await http.del(`brands/${ids.farm.id}`, { token: admin })).body.type).toBe("BRAND_IN_USE");
    expect((await http.get("categories")).body.data).toEqual(treeBefore);

    // an empty category can move and then be deleted
    const tmp = (await http.post("categories", { name: "Temp", parentId: ids.books.id }, { token: admin })).body.data;
    expect((await http.patch(`categories/${tmp.id}`, { parentId: ids.tomatoes.id }, { token: admin })).body.data.parentId).toBe(ids.tomatoes.id);
    expect((await http.del(`categories/${tmp.id}`, { token: admin })).status).toBe(200);
    expect((await http.get("categories")).body.data).toEqual(treeBefore);
  });

  it("returns the category tree nested", async () => {
    const tree = (await http.get("categories")).body.data;
    const food = tree.find((c: any) => c.id === ids.food.id);
    expect(food.children[0]).toMatchObject({ id: ids.veg.id, children: [{ id: ids.tomatoes.id, name: "Tomatoes", children: [] }] });
  });

  it("keeps writes to admins", async () => {
    const r = await http.post("products", { title: "x", categoryId: ids.veg.id, skus: [{ skuCode: "CUST-1", price: 100 }] }, { token: customer });
    expect([r.status, r.body.type]).toEqual([403, "FORBIDDEN"]);
    expect((await http.post("categories", { name: "x" })).status).toBe(401);
    expect((await http.patch(`products/${ids.enTomato.id}`, { status: "OFF_SALE" }, { token: customer })).status).toBe(403);
  });
});

describe("detail, availability and cache", () => {
  it("shows SKUs with live availability from inventory", async () => {
    const d = (await http.get(`products/${ids.cnTomato.id}`)).body.data;
    expect(d).toMatchObject({ id: ids.cnTomato.id, title: "新鲜西红柿 500g", status: "ON_SALE", minPrice: 690, maxPrice: 1290, sales: 10, brand: { name: "GreenFarm" } });
    expect(d.skus.map((s: any) => [s.skuCode, s.price, s.available])).toEqual([
      ["FX-CN-500", 690, 30],
      ["FX-CN-1000", 1290, 5],
    ]);
  });

  it("shows a price change on the very next read (detail and list)", async () => {
    const path = `products/${ids.cnTomato.id}`;
    const sku = ids.cnTomato.skus[0];
    await http.get(path); // warm the cache
    await http.get(`products?q=${encodeURIComponent("西红柿")}`);
    const p = await http.patch(`${path}/skus/${sku.id}`, { price: 590 }, { token: admin });
    expect(p.status).toBe(200);
    expect(p.body.data.price).toBe(590);
    const d = (await http.get(path)).body.data;
    expect(d.skus[0].price).toBe(590);
    expect(d.minPrice).toBe(590);
    const list = (await http.get(`products?q=${encodeURIComponent("西红柿")}`)).body.data.items;
    expect(list.find((x: any) => x.id === ids.cnTomato.id).minPrice).toBe(590);
  });

  it("shows a stock change on the next read", async () => {
    const path = `products/${ids.enTomato.id}`;
    const skuId = ids.enTomato.skus[0].id;
    expect((await http.get(path)).body.data.skus[0].available).toBe(12);
    const adj = await http.post(`inventory/${skuId}/adjust`, { delta: 7, reason: "restock" }, { token: admin });
    expect(adj.status).toBe(200);
    await waitFor(async () => (await http.get(path)).body.data.skus[0].available === 19, { timeout: 3000, what: "new availability" });
  });

  it("hides a product from customers at once when it goes off sale", async () => {
    const path = `products/${ids.salad.id}`;
    expect((await http.get(path)).status).toBe(200);
    expect((await http.patch(path, { status: "OFF_SALE" }, { token: admin })).body.data.status).toBe("OFF_SALE");
    expect((await http.get(path)).status).toBe(404);
    expect(titles(await http.get("products?q=salad"))).toEqual([]);
    expect((await http.patch(path, { status: "ON_SALE" }, { token: admin })).status).toBe(200);
    expect(titles(await http.get("products?q=salad"))).toEqual(["Garden Salad Mix"]);
  });

  it("re-indexes a renamed product and forgets a deleted one", async () => {
    const created = (await http.post("products", { title: "Purple Carrot", categoryId: ids.veg.id, skus: [{ skuCode: "FX-CARROT", price: 300, stock: 1 }] }, { token: admin })).body.data;
    expect(titles(await http.get("products?q=carrot"))).toEqual(["Purple Carrot"]);
    await http.patch(`products/${created.id}`, { title: "紫色胡萝卜" }, { token: admin });
    expect(titles(await http.get("products?q=carrot"))).toEqual([]);
    expect(titles(await http.get(`products?q=${encodeURIComponent("胡萝卜")}`))).toEqual(["紫色胡萝卜"]);
    expect((await http.del(`products/${created.id}`, { token: admin })).status).toBe(200);
    expect(titles(await http.get(`products?q=${encodeURIComponent("胡萝卜")}`, { token: admin }))).toEqual([]);
    expect((await http.get(`products/${created.id}`, { token: admin })).status).toBe(404);
  });
});

describe("internal actions", () => {
  it("catalog.getSkus returns live SKU facts with the product's status", async () => {
    const ask = [ids.enTomato.skus[0].id, ids.offSale.skus[0].id, 999999];
    const skus = await call<any[]>("catalog.getSkus", { ids: ask });
    expect(skus).toHaveLength(2);
    const on = skus.find((s) => s.skuId === ids.enTomato.skus[0].id);
    expect(on).toEqual({
      skuId: ids.enTomato.skus[0].id, productId: ids.enTomato.id, skuCode: "FX-EN-TOM", title: "Organic Tomato Pack",
      attrs: { weight: "750g" }, price: 1590, currency: "CNY", status: "ON_SALE", imageUrl: null, categoryId: ids.veg.id, categoryPath: [ids.veg.id, ids.food.id],
    });
    expect(skus.find((s) => s.skuId === ids.offSale.skus[0].id).status).toBe("OFF_SALE");
  });

  it("catalog.addSales counts every unit under concurrency and applies a reference once", async () => {
    const sku = ids.giftBox.skus[0].id;
    const before = (await http.get(`products/${ids.giftBox.id}`)).body.data.sales;
    await Promise.all(Array.from({ length: 20 }, () => call("catalog.addSales", { lines: [{ skuId: sku, quantity: 2 }] })));
    await Promise.all(Array.from({ length: 5 }, () => call("catalog.addSales", { lines: [{ skuId: sku, quantity: 3 }], ref: "ORDER-X1" })));
    expect((await http.get(`products/${ids.giftBox.id}`)).body.data.sales).toBe(before + 40 + 3);
    await expect(call("catalog.addSales", { lines: [{ skuId: 999999, quantity: 1 }] })).rejects.toMatchObject({ type: "SKU_NOT_FOUND" });
    await expect(call("catalog.addSales", { lines: [{ skuId: sku, quantity: 1.5 }] })).rejects.toMatchObject({ type: "VALIDATION_ERROR" });
  });
});

describe("uploads", () => {
  const dir = () => shop.config().uploadDir;
  const stored = () => (fs.existsSync(dir()) ? fs.readdirSync(dir()).filter((f) => !f.startsWith(".")) : []);

  it("stores a real PNG and serves it back with caching headers", async () => {
    const r = await upload(shop, { token: admin, bytes: PNG_1x1, filename: "dot.png", type: "image/png" });
    expect(r.status).toBe(201);
    expect(r.body.data).toMatchObject({ size: PNG_1x1.length, contentType: "image/png" });
    expect(r.body.data.url).toMatch(/^\/api\/v1\/uploads\/[a-f0-9]{32}\.png$/);
    expect(fs.existsSync(path.join(dir(), r.body.data.name))).toBe(true);
    const g = await fetch(`${shop.url}${r.body.data.url}`);
    expect(g.status).toBe(200);
    expect(g.headers.get("content-type")).toBe("image/png");
    expect(g.headers.get("cache-control")).toMatch(/max-age=\d+/);
    expect(Buffer.from(await g.arrayBuffer()).equals(PNG_1x1)).toBe(true);
    const j = await upload(shop, { token: admin, bytes: JPEG_TINY, filename: "tiny.jpeg", type: "image/jpeg" });
    expect([j.status, j.body.data?.contentType]).toEqual([201, "image/jpeg"]);
  });

  it("refuses anything else with a 4xx and stores nothing", async () => {
    const before = stored();
    const html = Buffer.from("<html><script>alert(1)</script></html>");
    const cases = [
      { token: admin, bytes: html, filename: "evil.png", type: "image/png", expect: [415, "UPLOAD_INVALID_TYPE"] },
      { token: admin, bytes: JPEG_TINY, filename: "lying.png", type: "image/png", expect: [415, "UPLOAD_INVALID_TYPE"] },
      { token: admin, bytes: PNG_1x1, filename: "page.html", type: "text/html", expect: [415, "UPLOAD_INVALID_TYPE"] },
      { token: admin, bytes: Buffer.from("GIF89a\x01\x00\x01\x00"), filename: "a.gif", type: "image/gif", expect: [415, "UPLOAD_INVALID_TYPE"] },
      { token: admin, bytes: Buffer.concat([PNG_1x1, Buffer.alloc(5 * 1024 * 1024)]), filename: "big.png", type: "image/png", expect: [413] },
      { token: admin, bytes: PNG_1x1, filename: "dot.png", type: "image/png", field: "image", expect: [400, "UPLOAD_MISSING_FILE"] },
      { token: customer, bytes: PNG_1x1, filename: "x.png", type: "image/png", expect: [403, "FORBIDDEN"] },
      { token: undefined, bytes: PNG_1x1, filename: "x.png", type: "image/png", expect: [401, "UNAUTHORIZED"] },
    ];
    for (const c of cases) {
      const r = await upload(shop, c);
      expect([c.filename, r.status, ...(c.expect.length > 1 ? [r.body.type] : [])]).toEqual([c.filename, ...c.expect]);
      expect(r.body.code).not.toBe(0);
    }
    const json = await http.post("uploads", { file: "x" }, { token: admin });
    expect(json.status).toBe(415);
    expect(stored()).toEqual(before);
    expect((await fetch(`${shop.url}/api/v1/uploads/0123456789abcdef0123456789abcdef.png`)).status).toBe(404);
    expect((await fetch(`${shop.url}/api/v1/uploads/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
  });
});
