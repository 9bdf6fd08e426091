/** Small real images and a multipart upload helper for catalog tests. */
import { client } from "./shop";

/** A valid 1×1 PNG. */
export const PNG_1x1 = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d8a5f20000000049454e44ae426082",
  "hex",
);
/** The smallest JPEG structure the sniffer accepts (SOI, APP0, EOI). */
export const JPEG_TINY = Buffer.from("ffd8ffe000104a46494600010100000100010000ffd9", "hex");

export async function upload(shop: { url: string }, opts: { token?: string; bytes: Buffer; filename: string; type: string; field?: string }) {
  const fd = new FormData();
  fd.append(opts.field ?? "file", new Blob([new Uint8Array(opts.bytes)], { type: opts.type }), opts.filename);
  const r = await fetch(`${shop.url}/api/v1/uploads`, { method: "POST", body: fd, headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {} });
  const text = await r.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, body, text };
}

/** Create the catalog fixture used by the search tests; returns ids by key. */
export async function createFixture(shop: { url: string }, admin: string) {
  const http = client(shop);
  const ok = <T = any>(r: { status: number; text: string; body: any }, what: string): T => {
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
    return r.body.data as T;
  };
  const food = ok(await http.post("categories", { name: "Food 食品" }, { token: admin }), "category");
  const veg = ok(await http.post("categories", { name: "Vegetables", parentId: food.id }, { token: admin }), "category");
  const tomatoes = ok(await http.post("categories", { name: "Tomatoes", parentId: veg.id }, { token: admin }), "category");
  const books = ok(await http.post("categories", { name: "Books 图书" }, { token: admin }), "category");
  const farm = ok(await http.post("brands", { name: "GreenFarm" }, { token: admin }), "brand");
  const ink = ok(await http.post("brands", { name: "InkBooks" }, { token: admin }), "brand");
  const product = async (key: string, body: Record<string, unknown>) => ok(await http.post("products", body, { token: admin }), key);
  const ids: Record<string, any> = { food, veg, tomatoes, books, farm, ink };
  ids.cnTomato = await product("cnTomato", {
    title: "新鲜西红柿 500g", subtitle: "当季自然成熟", categoryId: tomatoes.id, brandId: farm.id,
    skus: [{ skuCode: "FX-CN-500", attrs: { 规格: "500g" }, price: 690, stock: 30 }, { skuCode: "FX-CN-1000", attrs: { 规格: "1kg" }, price: 1290, stock: 5 }],
  });
  ids.enTomato = await product("enTomato", {
    title: "Organic Tomato Pack", subtitle: "Vine-ripened", categoryId: veg.id, brandId: farm.id,
    skus: [{ skuCode: "FX-EN-TOM", attrs: { weight: "750g" }, price: 1590, stock: 12 }],
  });
  ids.salad = await product("salad", {
    title: "Garden Salad Mix", subtitle: "with cherry tomato and 西红柿", categoryId: veg.id,
    skus: [{ skuCode: "FX-SALAD", price: 990, stock: 8 }],
  });
  ids.soupBook = await product("soupBook", {
    title: "The Tomato Soup Cookbook", subtitle: "100 recipes", categoryId: books.id, brandId: ink.id,
    skus: [{ skuCode: "FX-BOOK", price: 4500, stock: 3 }],
  });
  ids.giftBox = await product("giftBox", {
    title: "有机 Organic 西红柿 礼盒", subtitle: "gift box", categoryId: tomatoes.id, brandId: farm.id,
    skus: [{ skuCode: "FX-GIFT", price: 8800, stock: 2 }],
  });
  ids.offSale = await product("offSale", {
    title: "Tomato Seeds 西红柿种子 (discontinued)", subtitle: "no longer sold", categoryId: tomatoes.id, status: "OFF_SALE",
    skus: [{ skuCode: "FX-SEEDS", price: 300, stock: 50 }],
  });
  return ids;
}
