/**
 * Search ranking and synonyms through the gateway, embedded (SQLite) and as a cluster with two
 * catalog nodes on MariaDB: the keyword as a phrase's head ranks above a product that merely
 * contains it; the exact title ranks first; shipped and admin-made synonym groups widen a search
 * on every catalog node at once; bad input changes nothing.
 */
import { Shop, client, loginAdmin, newCustomer, startShop, waitFor } from "../helpers/shop";

const shapes = [
  { name: "embedded", opts: { shape: "embedded" as const } },
  { name: "cluster, two catalog nodes", opts: { shape: "cluster" as const, nodes: [["api"], ["users", "catalog", "inventory"], ["catalog"]] } },
];

describe.each(shapes)("search ranking and synonyms ($name)", ({ opts }) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;
  const titles = (r: { body: any }) => r.body.data.items.map((p: { title: string }) => p.title);
  const search = async (q: string) => {
    const r = await http.get(`products?q=${encodeURIComponent(q)}`);
    expect(r.status).toBe(200);
    return titles(r) as string[];
  };

  beforeAll(async () => {
    shop = await startShop(opts);
    http = client(shop);
    admin = await loginAdmin(shop);
    const cat = (await http.post("categories", { name: "Phones 手机" }, { token: admin })).body.data;
    let n = 0;
    const product = async (title: string, price: number) => {
      const r = await http.post("products", { title, categoryId: cat.id, skus: [{ skuCode: `SR-${++n}`, price, stock: 5 }] }, { token: admin });
      if (r.status !== 201) throw new Error(`${title}: ${r.status} ${r.text}`);
      return r.body.data.id as number;
    };
    // accessories sell far better: relevance must still put the phones first
    const caseId = await product("手机壳 透明防摔", 1900);
    const filmId = await product("手机钢化膜 高清 2片装", 990);
    await product("华为 Mate 60 Pro 手机", 549900);
    await product("小米14 智能手机 12GB", 399900);
    await product("新鲜西红柿 500g", 690);
    await product("圣女果 小番茄 礼盒", 2990);
    await product("黄心土豆 2.5kg", 1290);
    const skus = async (id: number) => (await http.get(`products/${id}`, { token: admin })).body.data.skus.map((s: { id: number }) => s.id);
    for (const [id, qty] of [[caseId, 500], [filmId, 300]] as const) {
      await shop.brokerFor("catalog").call("catalog.addSales", { lines: (await skus(id)).map((skuId: number) => ({ skuId, quantity: qty })) });
    }
  });

  afterAll(async () => {
    await shop?.stop();
  });

  it("ranks phones above phone cases for 手机, though the cases sell more", async () => {
    const t = await search("手机");
    expect(t).toHaveLength(4);
    expect(t.slice(0, 2).sort()).toEqual(["华为 Mate 60 Pro 手机", "小米14 智能手机 12GB"].sort());
    expect(t.slice(2).sort()).toEqual(["手机壳 透明防摔", "手机钢化膜 高清 2片装"].sort());
    // the other sorts are untouched by relevance
    const cheap = titles(await http.get(`products?q=${encodeURIComponent("手机")}&sort=price_asc`));
    expect(cheap[0]).toBe("手机钢化膜 高清 2片装");
  });

  it("ranks the product whose title is the query first", async () => {
    await http.post("products", { title: "手机", categoryId: (await http.get("categories")).body.data[0].id, skus: [{ skuCode: "SR-EXACT", price: 100, stock: 1 }] }, { token: admin });
    await waitFor(async () => (await search("手机"))[0] === "手机");
  });

  it("finds 西红柿 for 番茄 with the shipped synonyms, and 番茄 products too", async () => {
    const t = await search("番茄");
    expect(t.sort()).toEqual(["圣女果 小番茄 礼盒", "新鲜西红柿 500g"].sort());
    expect((await search("西红柿")).sort()).toEqual(["圣女果 小番茄 礼盒", "新鲜西红柿 500g"].sort());
    expect(await search("马铃薯")).toEqual(["黄心土豆 2.5kg"]);
  });

  it("lets admins add, change and delete synonym groups, seen by every catalog node at once", async () => {
    expect(await search("cellphone")).toEqual([]);
    const created = await http.post("admin/search/synonyms", { words: ["Cellphone", "手机"] }, { token: admin });
    expect(created.status).toBe(201);
    expect(created.body.data.words).toEqual(["cellphone", "手机"]);
    const id = created.body.data.id;
    // every search below may be answered by either catalog node (cluster): each must know
    for (let i = 0; i < 6; i++) expect((await search("cellphone")).length).toBeGreaterThanOrEqual(4);
    const list = (await http.get("admin/search/synonyms", { token: admin })).body.data;
    expect(list.map((g: { words: string[] }) => g.words)).toEqual(expect.arrayContaining([["番茄", "西红柿"], ["cellphone", "手机"]]));

    expect((await http.put(`admin/search/synonyms/${id}`, { words: ["cellphone", "西红柿"] }, { token: admin })).status).toBe(200);
    for (let i = 0; i < 6; i++) expect(await search("cellphone")).toEqual(["新鲜西红柿 500g"]);

    expect((await http.del(`admin/search/synonyms/${id}`, { token: admin })).status).toBe(200);
    for (let i = 0; i < 6; i++) expect(await search("cellphone")).toEqual([]);
  });

  it("filters a keyword by the product's current status, price, category and brand, in every order", async () => {
    // the term rows carry copies of these four columns (migration 0203): each write must move them
    const catA = (await http.post("categories", { name: "Kettles A" }, { token: admin })).body.data.id;
    const catB = (await http.post("categories", { name: "Kettles B" }, { token: admin })).body.data.id;
    const brand = (await http.post("brands", { name: `Facet ${Date.now()}` }, { token: admin })).body.data.id;
    const created = (await http.post("products", { title: "不锈钢电水壶 1.7L", categoryId: catA, skus: [{ skuCode: "SR-KETTLE", price: 1000, stock: 3 }] }, { token: admin })).body.data;
    const q = encodeURIComponent("电水壶");
    /** whether the kettle is found under `filter`: every order must say the same, totals included */
    const found = async (filter: string, token?: string) => {
      const seen = new Set<boolean>();
      for (const sort of ["", "&sort=price_asc", "&sort=sales", "&sort=newest"]) {
        const r = await http.get(`products?q=${q}${filter}${sort}`, token ? { token } : undefined);
        expect(r.status).toBe(200);
        const ids: number[] = r.body.data.items.map((p: { id: number }) => p.id);
        expect(r.body.data.total).toBe(ids.length);
        seen.add(ids.includes(created.id));
      }
      if (seen.size !== 1) throw new Error(`the orders disagree on ${filter}`);
      return [...seen][0];
    };
    expect(await found(`&categoryId=${catA}`)).toBe(true);
    expect(await found(`&categoryId=${catB}`)).toBe(false);
    expect(await found(`&brandId=${brand}`)).toBe(false);

    expect((await http.patch(`products/${created.id}`, { categoryId: catB, brandId: brand }, { token: admin })).status).toBe(200);
    expect(await found(`&categoryId=${catA}`)).toBe(false);
    expect(await found(`&categoryId=${catB}&brandId=${brand}`)).toBe(true);

    expect(await found("&minPrice=1500")).toBe(false);
    const skuId = created.skus[0].id;
    expect((await http.patch(`products/${created.id}/skus/${skuId}`, { price: 2000 }, { token: admin })).status).toBe(200);
    expect(await found("&minPrice=1500")).toBe(true);
    expect(await found("&maxPrice=1500")).toBe(false);

    expect((await http.patch(`products/${created.id}`, { status: "OFF_SALE" }, { token: admin })).status).toBe(200);
    expect(await found("")).toBe(false);
    expect(await found("&minPrice=1500", admin)).toBe(true); // staff see products off sale
    expect((await http.patch(`products/${created.id}`, { status: "ON_SALE", title: "不锈钢电水壶 2L" }, { token: admin })).status).toBe(200);
    expect(await found(`&minPrice=1500&categoryId=${catB}`)).toBe(true);
    expect((await http.del(`products/${created.id}`, { token: admin })).status).toBe(200);
    expect(await found("", admin)).toBe(false);
  });

  it("refuses bad synonym input and customers, changing nothing", async () => {
    const before = (await http.get("admin/search/synonyms", { token: admin })).body.data.length;
    for (const words of [["tomato"], ["tomato", "TOMATO"], ["!!!", "番茄"], "番茄", [], ["a".repeat(33), "b"]]) {
      const r = await http.post("admin/search/synonyms", { words }, { token: admin });
      expect(r.status).toBe(422);
      expect(r.body.code).not.toBe(0);
    }
    expect((await http.put("admin/search/synonyms/999999", { words: ["x1", "x2"] }, { token: admin })).body.type).toBe("SYNONYM_GROUP_NOT_FOUND");
    expect((await http.del("admin/search/synonyms/999999", { token: admin })).status).toBe(404);
    const customer = (await newCustomer(shop)).token;
    expect((await http.post("admin/search/synonyms", { words: ["x1", "x2"] }, { token: customer })).status).toBe(403);
    expect((await http.get("admin/search/synonyms", { token: customer })).status).toBe(403);
    expect((await http.get("admin/search/synonyms", { token: admin })).body.data.length).toBe(before);
  });
});
