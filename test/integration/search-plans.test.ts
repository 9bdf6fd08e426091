/**
 * Keyword search against a reference, on SQLite (the read pool) and MariaDB: the term rows carry
 * copies of each product's status, price, category and brand (migration 0203), and the search
 * filters, counts and orders by them — so every query, order, filter and page is checked
 * against the same search computed in JavaScript from the products themselves, with the sales
 * order read both ways (down the sales index and from the term index: SortedPlan). The
 * migration's back-fill of a shop that already has products is checked too.
 */
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, ensureDatabase, releaseSequelize } from "../../services/shared/db";
import { buildUmzug } from "../../services/shared/migrator";
import { bulkInsertProducts, BulkProduct } from "../../services/catalog/bulk";
import { createReader, Reader } from "../../services/catalog/read-pool";
import { ListFilter, SearchSpelling, SortedPlan, listProducts } from "../../services/catalog/product-query";
import type { ProductStatus } from "../../services/catalog/catalog.contracts";
import type { Sort } from "../../services/catalog/domain/listing";
import { DEFAULT_SYNONYMS, HEAD_WEIGHT, indexTerms, querySpellings, titleHeads } from "../../services/catalog/domain/search-tokens";
import { scratchDatabase } from "../helpers/databases";

interface P {
  id: number;
  title: string;
  subtitle: string;
  status: ProductStatus;
  minPrice: number;
  categoryId: number;
  brandId: number | null;
  sales: number;
}

// deterministic catalog: a common word, rarer ones, prefix families, CJK phrases and a synonym
let seed = 7;
const rnd = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
const WORDS = ["tomato", "tomatoes", "kettle", "lamp", "beta", "礼盒装", "西红柿", "番茄", "有机", "新鲜", "手机壳", "手机"];

function generate(n: number, categories: number[], brands: number[], tag: string): BulkProduct[] {
  return Array.from({ length: n }, (_, i) => {
    const words = [rnd() < 0.4 ? "alpha" : "", pick(WORDS), rnd() < 0.5 ? pick(WORDS) : ""].filter(Boolean);
    if (rnd() < 0.2) words.reverse();
    const price = pick([990, 1290, 1290, 2500, 4999, 12000]);
    return {
      title: words.join(" "),
      subtitle: rnd() < 0.5 ? `${pick(WORDS)} ${pick(["gift", "fresh", "alpha"])}` : "",
      categoryId: pick(categories),
      brandId: rnd() < 0.2 ? null : pick(brands),
      status: rnd() < 0.15 ? "OFF_SALE" : "ON_SALE",
      sales: pick([0, 0, 3, 10, 10, 50]),
      skus: [{ skuCode: `${tag}-${i}`, attrs: {}, price }],
    };
  });
}

/** The search as a shopper means it, over the products' own columns. */
function reference(products: P[], f: ListFilter): { ids: number[]; total: number } {
  const spellings = f.search;
  const scored: { p: P; score: number }[] = [];
  for (const p of products) {
    if (f.status ? p.status !== f.status : !["ON_SALE", "OFF_SALE"].includes(p.status)) continue;
    if (f.categoryIds && !f.categoryIds.includes(p.categoryId)) continue;
    if (f.brandId !== undefined && p.brandId !== f.brandId) continue;
    if (f.minPrice !== undefined && p.minPrice < f.minPrice) continue;
    if (f.maxPrice !== undefined && p.minPrice > f.maxPrice) continue;
    const terms = indexTerms(p.title, p.subtitle);
    let best: number | null = null;
    for (const sp of spellings) {
      let score = 0;
      let all = true;
      for (const t of sp.terms) {
        const ws = terms.filter((x) => (t.prefix ? x.term.startsWith(t.term) : x.term === t.term)).map((x) => x.weight);
        if (!ws.length) {
          all = false;
          break;
        }
        score += Math.max(...ws);
      }
      if (!all) continue;
      if (sp.head && terms.some((x) => x.term === sp.head && x.head)) score += HEAD_WEIGHT;
      for (const m of sp.marks) score += terms.find((x) => x.term === m)?.weight ?? 0;
      if (best === null || score > best) best = score;
    }
    if (best !== null) scored.push({ p, score: best });
  }
  const sort = f.sort ?? "relevance";
  const cmp: Record<Sort, (a: { p: P; score: number }, b: { p: P; score: number }) => number> = {
    relevance: (a, b) => b.score - a.score || b.p.sales - a.p.sales || b.p.id - a.p.id,
    price_asc: (a, b) => a.p.minPrice - b.p.minPrice || b.p.id - a.p.id,
    price_desc: (a, b) => b.p.minPrice - a.p.minPrice || b.p.id - a.p.id,
    sales: (a, b) => b.p.sales - a.p.sales || b.p.id - a.p.id,
    newest: (a, b) => b.p.id - a.p.id,
  };
  scored.sort(cmp[sort]);
  const offset = (f.page - 1) * f.pageSize;
  return { ids: scored.slice(offset, offset + f.pageSize).map((x) => x.p.id), total: scored.length };
}

/** A reader of its own over `reader` (kept planner statistics are per reader) that records every statement. */
function recording(reader: Reader): { reader: Reader; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    reader: {
      dialect: reader.dialect,
      close: async () => undefined,
      select: <T>(sql: string, args: unknown[]) => {
        seen.push(sql);
        return reader.select<T>(sql, args);
      },
    },
  };
}

describe.each([
  ["SQLite", "sqlite"],
  ["MariaDB", "mysql"],
] as const)("keyword search plans against a reference (%s)", (_name, dialect) => {
  const { url, drop } = scratchDatabase(dialect, "search");
  let sequelize: Sequelize;
  let reader: Reader;
  let products: P[] = [];
  let categories: number[] = [];
  let brands: number[] = [];
  let before: number[] = [];

  beforeAll(async () => {
    await ensureDatabase(url);
    sequelize = acquireSequelize(url);
    const umzug = buildUmzug(sequelize);
    // a shop from before the facet copies, with products already indexed
    await umzug.up({ to: "0202-catalog-search-ranking" });
    const now = new Date();
    for (let i = 0; i < 4; i++) {
      await sequelize.query("INSERT INTO categories (name, parent_id, sort, created_at, updated_at) VALUES (?, NULL, ?, ?, ?)", { replacements: [`C${i}`, i, now, now] });
      await sequelize.query("INSERT INTO brands (name, logo_url, created_at, updated_at) VALUES (?, NULL, ?, ?)", { replacements: [`B${i}`, now, now] });
    }
    categories = (await sequelize.query<{ id: number }>("SELECT id FROM categories ORDER BY id", { type: QueryTypes.SELECT })).map((r) => Number(r.id));
    brands = (await sequelize.query<{ id: number }>("SELECT id FROM brands ORDER BY id", { type: QueryTypes.SELECT })).map((r) => Number(r.id));
    for (const p of generate(40, categories, brands, "OLD")) {
      await sequelize.query(
        `INSERT INTO products (title, subtitle, description, category_id, brand_id, status, images, min_price, max_price, currency, sales, rating, review_count, created_at, updated_at)
         VALUES (?, ?, '', ?, ?, ?, '[]', ?, ?, 'CNY', ?, 0, 0, ?, ?)`,
        { replacements: [p.title, p.subtitle, p.categoryId, p.brandId ?? null, p.status, p.skus[0].price, p.skus[0].price, p.sales, now, now] },
      );
      const [{ pid }] = await sequelize.query<{ pid: number }>("SELECT MAX(id) AS pid FROM products", { type: QueryTypes.SELECT });
      // as that index wrote them: the heads as `$<head>` mark rows (migration 0204 makes them flags)
      for (const t of indexTerms(p.title, p.subtitle)) {
        await sequelize.query("INSERT INTO product_search_terms (term, product_id, weight) VALUES (?, ?, ?)", { replacements: [t.term, Number(pid), t.weight] });
      }
      for (const h of titleHeads(p.title)) {
        await sequelize.query("INSERT INTO product_search_terms (term, product_id, weight) VALUES (?, ?, ?)", { replacements: [`$${h}`, Number(pid), HEAD_WEIGHT] });
      }
    }
    before = (await sequelize.query<{ id: number }>("SELECT id FROM products ORDER BY id", { type: QueryTypes.SELECT })).map((r) => Number(r.id));
    await umzug.up();
    // the rest through the bulk importer, which writes the copies itself
    await bulkInsertProducts(sequelize, generate(1200, categories, brands, "NEW"), { batch: 400 });
    const rows = await sequelize.query<{ id: number; title: string; subtitle: string; status: ProductStatus; min_price: number; category_id: number; brand_id: number | null; sales: number }>(
      "SELECT id, title, subtitle, status, min_price, category_id, brand_id, sales FROM products",
      { type: QueryTypes.SELECT },
    );
    products = rows.map((r) => ({
      id: Number(r.id),
      title: r.title,
      subtitle: r.subtitle,
      status: r.status,
      minPrice: Number(r.min_price),
      categoryId: Number(r.category_id),
      brandId: r.brand_id === null ? null : Number(r.brand_id),
      sales: Number(r.sales),
    }));
    reader = createReader(sequelize, url, 2);
  }, 120_000);

  afterAll(async () => {
    await reader?.close();
    await releaseSequelize(url);
    await drop();
  });

  it("the migration copies every indexed product's status, price, category and brand onto its term rows", async () => {
    expect(before.length).toBe(40);
    const [{ n, wrong }] = await sequelize.query<{ n: number; wrong: number }>(
      `SELECT COUNT(*) AS n,
              SUM(CASE WHEN t.status = p.status AND t.min_price = p.min_price AND t.category_id = p.category_id
                        AND (t.brand_id = p.brand_id OR (t.brand_id IS NULL AND p.brand_id IS NULL)) THEN 0 ELSE 1 END) AS wrong
         FROM product_search_terms t JOIN products p ON p.id = t.product_id`,
      { type: QueryTypes.SELECT },
    );
    expect(Number(n)).toBeGreaterThan(1240 * 3);
    expect(Number(wrong)).toBe(0);
    // the products that were there before the migration have rows of their own, back-filled
    const [{ old }] = await sequelize.query<{ old: number }>(`SELECT COUNT(DISTINCT product_id) AS old FROM product_search_terms WHERE product_id <= ?`, {
      replacements: [Math.max(...before)],
      type: QueryTypes.SELECT,
    });
    expect(Number(old)).toBe(40);
  });

  it("the migration flags every product's title heads on their term rows and drops the old mark rows", async () => {
    const rows = await sequelize.query<{ term: string; product_id: number; head: number }>("SELECT term, product_id, head FROM product_search_terms", { type: QueryTypes.SELECT });
    expect(rows.filter((r) => r.term.startsWith("$"))).toEqual([]);
    const flagged = new Set(rows.filter((r) => Number(r.head) === 1).map((r) => `${r.product_id}:${r.term}`));
    const expected = new Set(products.flatMap((p) => titleHeads(p.title).map((h) => `${p.id}:${h}`)));
    expect(flagged.size).toBeGreaterThan(1240);
    expect([...flagged].filter((x) => !expected.has(x))).toEqual([]);
    expect([...expected].filter((x) => !flagged.has(x))).toEqual([]);
  });

  it("every query, order, filter and page agrees with the reference, by every plan", async () => {
    const queries = ["alpha", "tomat", "tomato", "礼盒装", "番茄", "alpha 西红柿", "手机", "lamp beta", "gift", "手", "nothing-here", "tomato1", "beta lamp", "有机手机"];
    const sorts: (Sort | undefined)[] = [undefined, "price_asc", "price_desc", "sales", "newest"];
    const filterSets: Partial<ListFilter>[] = [
      {},
      { minPrice: 1290 },
      { maxPrice: 2500, brandId: brands[1] },
      { categoryIds: [categories[0], categories[2]] },
      { minPrice: 1000, maxPrice: 5000, categoryIds: [categories[3]] },
    ];
    let checked = 0;
    let nonEmpty = 0;
    const wrong: unknown[] = [];
    for (const q of queries) {
      const search: SearchSpelling[] = querySpellings(q, DEFAULT_SYNONYMS);
      for (const sort of sorts)
        for (const extra of filterSets)
          for (const status of ["ON_SALE", null] as const)
            for (const [page, pageSize] of [
              [1, 7],
              [2, 7],
              [6, 7],
              [1, 100],
              [40, 50],
            ]) {
              const f: ListFilter = { search, status, sort, page, pageSize, ...extra };
              const want = reference(products, f);
              const plans: (SortedPlan | undefined)[] = sort === "sales" || sort === undefined ? [undefined, "walk", "drive"] : [undefined];
              for (const plan of plans) {
                const got = await listProducts(reader, { ...f, plan });
                const label = `${q} ${sort ?? "relevance"} ${JSON.stringify(extra)} ${status} p${page}/${pageSize} ${plan ?? "auto"}`;
                const ids = got.items.map((i) => i.id);
                if (got.total !== want.total || JSON.stringify(ids) !== JSON.stringify(want.ids)) wrong.push({ label, got: { total: got.total, ids }, want });
                checked++;
                if (want.ids.length) nonEmpty++;
              }
            }
    }
    expect({ wrong: wrong.length, first: wrong.slice(0, 3) }).toEqual({ wrong: 0, first: [] });
    expect(checked).toBeGreaterThan(4000);
    expect(nonEmpty).toBeGreaterThan(800);
  }, 240_000);

  it("a price page brings its total on MariaDB: no count statement, but for a page past the end", async () => {
    const { reader: counting, seen } = recording(reader);
    const search = querySpellings("tomato", DEFAULT_SYNONYMS);
    for (const [page, pageSize] of [
      [1, 10],
      [3, 10],
      [400, 10],
    ]) {
      const f: ListFilter = { search, status: "ON_SALE", sort: "price_desc", page, pageSize, minPrice: 1000 };
      const got = await listProducts(counting, f);
      expect({ total: got.total, ids: got.items.map((i) => i.id) }).toEqual(reference(products, f));
    }
    const counts = seen.filter((sql) => sql.startsWith("SELECT COUNT(*) AS n"));
    // SQLite counts first (its window was slower), MariaDB only past the end
    expect(counts).toHaveLength(dialect === "mysql" ? 1 : 3);
  });

  it("two about equally common terms are read grouped on MariaDB, probed on SQLite, with the same answers", async () => {
    const { reader: logging, seen } = recording(reader);
    // 西红 and 红柿 have the same postings; "alpha" is far more common than 西红柿
    for (const q of ["西红柿", "alpha 西红柿"])
      for (const sort of ["price_asc", "newest", "sales"] as const)
        for (const plan of sort === "sales" ? (["walk", "drive"] as const) : [undefined]) {
          const f: ListFilter = { search: querySpellings(q, DEFAULT_SYNONYMS), status: "ON_SALE", sort, page: 2, pageSize: 5 };
          const got = await listProducts(logging, { ...f, plan });
          expect({ q, sort, plan, total: got.total, ids: got.items.map((i) => i.id) }).toEqual({ q, sort, plan, ...reference(products, f) });
        }
    const grouped = seen.filter((sql) => sql.includes("HAVING COUNT(*) = ?"));
    if (dialect === "mysql") expect(grouped.length).toBeGreaterThanOrEqual(5);
    else expect(grouped).toEqual([]);
  });

  it("a relevance page within one score group brings its display columns: no second read of the products", async () => {
    const { reader: logging, seen } = recording(reader);
    for (const plan of ["walk", "drive"] as const) {
      seen.length = 0;
      const f: ListFilter = { search: querySpellings("tomato", DEFAULT_SYNONYMS), status: "ON_SALE", page: 2, pageSize: 3 };
      const got = await listProducts(logging, { ...f, plan });
      expect({ total: got.total, ids: got.items.map((i) => i.id) }).toEqual(reference(products, f));
      expect(got.items.every((i) => typeof i.title === "string" && i.title.includes("tomato"))).toBe(true);
      expect(seen.filter((sql) => sql.includes("WHERE p.id IN"))).toEqual([]);
      // the plan and the listed count (remembered per reader) aside: the histogram and the page
      expect(seen.filter((sql) => !/^SELECT \(SELECT|^SELECT COUNT\(\*\) AS n FROM products p WHERE/.test(sql))).toHaveLength(2);
    }
  });

  it("planning keeps term counts: a repeated search asks none again, an unknown term is asked every time", async () => {
    // a reader of its own: the kept counts are per reader
    const { reader: counting, seen } = recording(reader);
    const plans = () => seen.filter((sql) => /^SELECT \(SELECT (COUNT|MIN)/.test(sql));
    const search = (q: string, sort?: Sort) => listProducts(counting, { search: querySpellings(q, DEFAULT_SYNONYMS), status: "ON_SALE", sort, page: 1, pageSize: 10 });
    const first = await search("西红柿 礼盒装");
    expect(plans()).toHaveLength(1);
    // the same terms in another order and sort: no plan statement, the same answer as the reference
    for (const sort of [undefined, "price_asc", "sales"] as const) {
      const again = await search("西红柿 礼盒装", sort);
      const want = reference(products, { search: querySpellings("西红柿 礼盒装", DEFAULT_SYNONYMS), status: "ON_SALE", sort, page: 1, pageSize: 10 });
      expect({ total: again.total, ids: again.items.map((i) => i.id) }).toEqual(want);
    }
    expect(plans()).toHaveLength(1);
    expect(first.total).toBeGreaterThan(0);
    // a prefix's count is kept, but which terms it covers is asked every time (a plan may turn
    // it into the one term it covers, and a product indexed since may add another)
    await search("tomat");
    await search("tomat");
    expect(plans()).toHaveLength(3);
    expect(plans()[1]).toMatch(/AS n_0_0/);
    expect(plans()[2]).not.toMatch(/AS n_0_0/);
    expect(plans()[2]).toContain("MIN(t.term)");
    // a term with no posting is not kept: a product indexed after the miss is found at once
    expect((await search("zebrafish")).total).toBe(0);
    expect((await search("zebrafish")).total).toBe(0);
    expect(plans()).toHaveLength(5);
    await bulkInsertProducts(sequelize, [{ title: "zebrafish lamp", subtitle: "", categoryId: categories[0], brandId: null, status: "ON_SALE", sales: 0, skus: [{ skuCode: "ZEBRA-1", attrs: {}, price: 1290 }] }], { batch: 10 });
    const found = await search("zebrafish");
    expect(found.items.map((i) => i.title)).toEqual(["zebrafish lamp"]);
    expect(plans()).toHaveLength(6);
    expect(plans().slice(3).every((sql) => /AS n_0_0/.test(sql))).toBe(true);
    // and once it has postings, its count is kept
    await search("zebrafish");
    expect(plans()).toHaveLength(7);
    expect(plans()[6]).not.toMatch(/AS n_0_0/);
  });
});
