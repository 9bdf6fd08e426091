/**
 * Catalog in the cluster shape: MariaDB, the Redis cacher shared by two catalog nodes, NATS
 * between gateway, catalog and inventory. Search on MySQL collations, cache invalidation seen
 * through whichever catalog node answers, stock broadcasts across nodes, uploads streamed over
 * the transporter.
 */
import { Shop, client, loginAdmin, startShop, waitFor } from "../helpers/shop";
import { PNG_1x1, createFixture, upload } from "../helpers/catalog-fixtures";

let shop: Shop;
let http: ReturnType<typeof client>;
let admin: string;
let ids: Record<string, any>;

const titles = (r: { body: any }) => r.body.data.items.map((p: { title: string }) => p.title);

beforeAll(async () => {
  shop = await startShop({ shape: "cluster", nodes: [["api"], ["users", "catalog"], ["catalog", "inventory"]] });
  http = client(shop);
  admin = await loginAdmin(shop);
  ids = await createFixture(shop, admin);
  await shop.brokers[1].call("catalog.addSales", { lines: [{ skuId: ids.salad.skus[0].id, quantity: 100 }] });
});

afterAll(async () => {
  await shop?.stop();
});

it("searches Chinese, English and mixed keywords on MariaDB, title matches first, off-sale hidden", async () => {
  const cn = await http.get(`products?q=${encodeURIComponent("西红柿")}`);
  expect(titles(cn).slice(0, 2).sort()).toEqual(["新鲜西红柿 500g", "有机 Organic 西红柿 礼盒"].sort());
  expect(titles(cn)[2]).toBe("Garden Salad Mix");
  expect(cn.body.data.total).toBe(3);
  const en = await http.get("products?q=Tomato");
  expect(titles(en).slice(0, 2).sort()).toEqual(["Organic Tomato Pack", "The Tomato Soup Cookbook"]);
  expect(titles(en)[2]).toBe("Garden Salad Mix");
  expect(titles(await http.get("products?q=TOM"))).toHaveLength(3);
  expect(titles(await http.get(`products?q=${encodeURIComponent("organic 西红柿")}`))).toEqual(["有机 Organic 西红柿 礼盒"]);
  expect((await http.get(`products?q=${encodeURIComponent("种子")}`)).body.data.total).toBe(0);
  expect((await http.get(`products/${ids.offSale.id}`)).status).toBe(404);
});

it("filters by category subtree, price and pages with right totals", async () => {
  const r = await http.get(`products?categoryId=${ids.food.id}&minPrice=600&maxPrice=2000&sort=price_desc&pageSize=2`);
  expect(r.body.data.total).toBe(3);
  expect(titles(r)).toEqual(["Organic Tomato Pack", "Garden Salad Mix"]);
  const p2 = await http.get(`products?categoryId=${ids.food.id}&minPrice=600&maxPrice=2000&sort=price_desc&pageSize=2&page=2`);
  expect(titles(p2)).toEqual(["新鲜西红柿 500g"]);
  expect((await http.get("products?pageSize=500")).status).toBe(422);
});

it("shows a price change at once, whichever catalog node answers", async () => {
  const path = `products/${ids.enTomato.id}`;
  const sku = ids.enTomato.skus[0];
  for (let i = 0; i < 4; i++) expect((await http.get(path)).body.data.skus[0].price).toBe(1590);
  await http.get("products?q=tomato");
  const patched = await http.patch(`${path}/skus/${sku.id}`, { price: 1490 }, { token: admin });
  expect(patched.status).toBe(200);
  for (let i = 0; i < 4; i++) {
    const d = (await http.get(path)).body.data;
    expect([d.skus[0].price, d.minPrice]).toEqual([1490, 1490]);
  }
  const list = (await http.get("products?q=tomato")).body.data.items;
  expect(list.find((p: any) => p.id === ids.enTomato.id).minPrice).toBe(1490);
});

it("shows stock changes made on the inventory node", async () => {
  const path = `products/${ids.cnTomato.id}`;
  const skuId = ids.cnTomato.skus[1].id;
  expect((await http.get(path)).body.data.skus[1].available).toBe(5);
  expect((await http.post(`inventory/${skuId}/adjust`, { delta: -2, reason: "damaged" }, { token: admin })).status).toBe(200);
  await waitFor(async () => (await http.get(path)).body.data.skus[1].available === 3, { timeout: 5000, what: "availability 3" });
});

it("stores an upload sent through the gateway node and serves it back", async () => {
  const r = await upload(shop, { token: admin, bytes: PNG_1x1, filename: "dot.png", type: "image/png" });
  expect(r.status).toBe(201);
  const g = await fetch(`${shop.url}${r.body.data.url}`);
  expect(g.status).toBe(200);
  expect(g.headers.get("content-type")).toBe("image/png");
  expect(Buffer.from(await g.arrayBuffer()).equals(PNG_1x1)).toBe(true);
  const bad = await upload(shop, { token: admin, bytes: Buffer.from("not an image"), filename: "x.jpg", type: "image/jpeg" });
  expect([bad.status, bad.body.type]).toEqual([415, "UPLOAD_INVALID_TYPE"]);
});

it("answers catalog.getSkus from another node", async () => {
  const skus = await shop.brokers[0].call<any[], { ids: number[] }>("catalog.getSkus", { ids: [ids.giftBox.skus[0].id, ids.offSale.skus[0].id] });
  expect(skus.map((s) => [s.skuCode, s.price, s.status]).sort()).toEqual([
    ["FX-GIFT", 8800, "ON_SALE"],
    ["FX-SEEDS", 300, "OFF_SALE"],
  ]);
});
