/**
 * The demo catalog: loaded on an embedded start with SEED_DEMO on, with stock, and never twice.
 */
import { Shop, client, startShop, waitFor } from "../helpers/shop";

let shop: Shop;
let http: ReturnType<typeof client>;

beforeAll(async () => {
  shop = await startShop({ shape: "embedded", env: { SEED_DEMO: "true" } });
  http = client(shop);
});

afterAll(async () => {
  await shop?.stop();
});

it("loads at least 40 products over several categories and brands, with Chinese and English names and stock", async () => {
  const page = await waitFor(async () => {
    const r = await http.get("products?pageSize=100");
    return r.body.data?.total >= 40 ? r.body.data : null;
  }, { what: "demo products" });
  const titles: string[] = page.items.map((p: { title: string }) => p.title);
  expect(titles.some((t) => /[\u4e00-\u9fff]/.test(t))).toBe(true);
  expect(titles.some((t) => /^[A-Za-z][A-Za-z0-9 ,.'"-]+$/.test(t))).toBe(true);
  expect(new Set(page.items.map((p: { categoryId: number }) => p.categoryId)).size).toBeGreaterThanOrEqual(5);
  expect((await http.get("brands")).body.data.length).toBeGreaterThanOrEqual(3);
  const tree = (await http.get("categories")).body.data;
  expect(tree.length).toBeGreaterThanOrEqual(3);
  expect(tree.some((c: { children: unknown[] }) => c.children.length > 0)).toBe(true);
  for (const p of page.items) {
    expect(Number.isInteger(p.minPrice) && p.minPrice > 0).toBe(true);
  }
  // the demo search examples
  expect((await http.get(`products?q=${encodeURIComponent("西红柿")}`)).body.data.items[0].title).toBe("新鲜西红柿 500g");
  expect((await http.get("products?q=tomato")).body.data.items.map((p: { title: string }) => p.title)).toContain("Organic Tomato Pack");
  // stock arrives through inventory.init right after the catalog rows
  const first = page.items[0];
  await waitFor(async () => (await http.get(`products/${first.id}`)).body.data.skus.every((s: { available: number }) => s.available > 0), { what: "demo stock" });
});

it("is never loaded twice", async () => {
  const before = (await http.get("products?pageSize=1")).body.data.total;
  const again = await shop.brokerFor("catalog").call<{ products: number; skipped?: string }, { force: boolean }>("catalog.seedDemo", { force: true });
  expect(again.products).toBe(0);
  expect(again.skipped).toMatch(/loaded before/);
  expect((await http.get("products?pageSize=1")).body.data.total).toBe(before);
});
