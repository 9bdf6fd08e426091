/**
 * Product list and keyword search in SQL that runs unchanged on SQLite and MySQL/MariaDB.
 * Every value is a bound parameter; the only text spliced in is an ORDER BY taken from a fixed
 * table (domain/listing.ts) and placeholder lists.
 */
import { Sequelize } from "sequelize";
import type { Reader } from "./read-pool";
import type { Page, ProductListItem, ProductStatus } from "./catalog.contracts";
import { Sort, orderBy } from "./domain/listing";
import { QueryTerm, prefixUpperBound } from "./domain/search-tokens";

/** One spelling of a search (the query, or a synonym variant): required terms and optional marks. */
export interface SearchSpelling {
  terms: QueryTerm[];
  /** ranking marks (domain/search-tokens.ts queryMarks): add their weight, never filter */
  marks: string[];
}

export interface ListFilter {
  /** empty: no keyword; several: a product matching any of them is found, with its best score */
  search: SearchSpelling[];
  /** the category and all of its sub-categories */
  categoryIds?: number[];
  brandId?: number;
  minPrice?: number;
  maxPrice?: number;
  /** null: every visible status (staff); deleted products are never listed */
  status: ProductStatus | null;
  sort?: Sort;
  page: number;
  pageSize: number;
}

interface Row {
  id: number;
  title: string;
  subtitle: string;
  images: string;
  min_price: number | string;
  max_price: number | string;
  currency: string;
  sales: number | string;
  rating: number;
  review_count: number;
  category_id: number;
  brand_id: number | null;
  status: ProductStatus;
  total_count?: number | string;
}

const COLUMNS =
  "p.id, p.title, p.subtitle, p.images, p.min_price, p.max_price, p.currency, p.sales, p.rating, p.review_count, p.category_id, p.brand_id, p.status";

function firstImage(images: string): string | null {
  try {
    const list = JSON.parse(images) as unknown;
    return Array.isArray(list) && typeof list[0] === "string" ? list[0] : null;
  } catch {
    return null;
  }
}

export function toListItem(r: Row): ProductListItem {
  return {
    id: Number(r.id),
    title: r.title,
    subtitle: r.subtitle,
    imageUrl: firstImage(r.images),
    minPrice: Number(r.min_price),
    maxPrice: Number(r.max_price),
    currency: r.currency,
    sales: Number(r.sales),
    rating: Number(r.rating),
    reviewCount: Number(r.review_count),
    categoryId: Number(r.category_id),
    brandId: r.brand_id === null ? null : Number(r.brand_id),
    status: r.status,
  };
}

const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");

/** WHERE over `p` for the non-keyword filters. */
function filters(f: ListFilter): { sql: string; args: unknown[] } {
  // deleted products carry status DELETED, so every list condition starts on a status index
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.status) {
    where.push("p.status = ?");
    args.push(f.status);
  } else {
    where.push("p.status IN ('ON_SALE', 'OFF_SALE')");
  }
  if (f.categoryIds) {
    where.push(`p.category_id IN (${placeholders(f.categoryIds.length)})`);
    args.push(...f.categoryIds);
  }
  if (f.brandId !== undefined) {
    where.push("p.brand_id = ?");
    args.push(f.brandId);
  }
  if (f.minPrice !== undefined) {
    where.push("p.min_price >= ?");
    args.push(f.minPrice);
  }
  if (f.maxPrice !== undefined) {
    where.push("p.min_price <= ?");
    args.push(f.maxPrice);
  }
  return { sql: where.join(" AND "), args };
}

/** `term = ?` or the prefix range, over the alias `t`. */
function termCondition(t: QueryTerm, alias: string): { sql: string; args: unknown[] } {
  return t.prefix
    ? { sql: `${alias}.term >= ? AND ${alias}.term < ?`, args: [t.term, prefixUpperBound(t.term)] }
    : { sql: `${alias}.term = ?`, args: [t.term] };
}

/**
 * Products matching every term of one spelling, with their score: per term the best weight
 * (title 2, subtitle 1), summed, plus the weight of each ranking mark the product has (its title
 * is the query; the query's head is a title phrase's head). The rarest term drives (one range
 * scan of the (term, product_id) primary key); each other term and each mark is a probe of the
 * (product_id, term, weight) index per candidate — index-only reads on both databases — so a
 * query of two common words with few products in common stays cheap.
 */
function matchSubquery({ terms, marks }: SearchSpelling): { sql: string; args: unknown[] } {
  const [first, ...rest] = terms;
  const d = termCondition(first, "t");
  const driver = first.prefix
    ? `SELECT t.product_id, MAX(t.weight) AS w0 FROM product_search_terms t WHERE ${d.sql} GROUP BY t.product_id`
    : `SELECT t.product_id, t.weight AS w0 FROM product_search_terms t WHERE ${d.sql}`;
  const args: unknown[] = [];
  const probes = rest.map((t, i) => {
    const c = termCondition(t, "t");
    args.push(...c.args);
    return `(SELECT MAX(t.weight) FROM product_search_terms t WHERE t.product_id = d.product_id AND ${c.sql}) AS w${i + 1}`;
  });
  const bonuses = marks.map((m, i) => {
    args.push(m);
    return `COALESCE((SELECT t.weight FROM product_search_terms t WHERE t.product_id = d.product_id AND t.term = ?), 0) AS b${i}`;
  });
  args.push(...d.args);
  const ws = rest.map((_, i) => `w${i + 1}`);
  const parts = ["w0", ...ws, ...marks.map((_, i) => `b${i}`)];
  const selected = ["d.product_id", "d.w0", ...probes, ...bonuses].join(", ");
  const required = ws.length ? `WHERE ${ws.map((w) => `${w} IS NOT NULL`).join(" AND ")}` : "";
  return {
    sql: `SELECT product_id, ${parts.join(" + ")} AS score FROM (SELECT ${selected} FROM (${driver}) d) x ${required}`,
    args,
  };
}

/** Every spelling's matches; a product found by several keeps its best score. */
function matchAny(spellings: SearchSpelling[]): { sql: string; args: unknown[] } {
  if (spellings.length === 1) return matchSubquery(spellings[0]);
  const subs = spellings.map(matchSubquery);
  return {
    sql: `SELECT product_id, MAX(score) AS score FROM (${subs.map((q) => q.sql).join(" UNION ALL ")}) u GROUP BY product_id`,
    args: subs.flatMap((q) => q.args),
  };
}

/** Postings counted up to this many: enough to tell a rare term from a common one. */
const FREQUENCY_CAP = 5000;

/**
 * Order the terms rarest first (capped counts over the primary key), turn a prefix that covers
 * a single indexed term ("tea" → just "tea") into an exact term (no GROUP BY needed), and
 * answer null when some term has no posting at all: nothing can match.
 */
async function planTerms(db: Reader, terms: QueryTerm[]): Promise<QueryTerm[] | null> {
  const planned: { t: QueryTerm; n: number }[] = [];
  for (const t of terms) {
    let term = t;
    if (t.prefix) {
      const [span] = await db.select<{ lo: string | null; hi: string | null }>(
        "SELECT MIN(term) AS lo, MAX(term) AS hi FROM product_search_terms WHERE term >= ? AND term < ?",
        [t.term, prefixUpperBound(t.term)],
      );
      if (!span?.lo) return null;
      if (span.lo === span.hi) term = { term: span.lo, prefix: false };
    }
    if (terms.length === 1) return [term];
    const c = termCondition(term, "t");
    const [count] = await db.select<{ n: number }>(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM product_search_terms t WHERE ${c.sql} LIMIT ${FREQUENCY_CAP}) x`,
      c.args,
    );
    const n = Number(count?.n ?? 0);
    if (n === 0) return null;
    planned.push({ t: term, n });
  }
  return planned.sort((a, b) => a.n - b.n).map((p) => p.t);
}

export async function listProducts(db: Reader, f: ListFilter): Promise<Page<ProductListItem>> {
  const offset = (f.page - 1) * f.pageSize;
  const where = filters(f);
  const order = orderBy(f.sort, f.search.length > 0);
  const empty = { items: [], total: 0, page: f.page, pageSize: f.pageSize };

  if (f.search.length) {
    const planned: SearchSpelling[] = [];
    for (const sp of f.search) {
      const terms = await planTerms(db, sp.terms);
      if (terms) planned.push({ terms, marks: sp.marks });
    }
    if (!planned.length) return empty;
    // The matched set is materialised for ranking anyway, so the total comes with the page
    // (window count); only the page's rows are joined again for their display columns.
    // CROSS JOIN keeps the matches as the outer loop: without statistics SQLite would rather
    // walk every ON_SALE product and probe the matches (20x slower at 100k). MySQL/MariaDB read
    // CROSS JOIN … ON as an inner join and choose the same order on their own.
    const match = matchAny(planned);
    const ranked = `SELECT p.id, m.score, p.sales, p.min_price, COUNT(*) OVER () AS total_count
                      FROM (${match.sql}) m CROSS JOIN products p ON p.id = m.product_id
                     WHERE ${where.sql}
                     ORDER BY ${order} LIMIT ? OFFSET ?`;
    const rows = await db.select<Row>(
      `SELECT ${COLUMNS}, r.total_count FROM (${ranked}) r JOIN products p ON p.id = r.id
        ORDER BY ${order.replace(/\bm\.score\b/g, "r.score")}`,
      [...match.args, ...where.args, f.pageSize, offset],
    );
    let total = rows.length ? Number(rows[0].total_count) : 0;
    if (!rows.length && offset > 0) {
      const c = await db.select<{ n: number }>(
        `SELECT COUNT(*) AS n FROM (${match.sql}) m CROSS JOIN products p ON p.id = m.product_id WHERE ${where.sql}`,
        [...match.args, ...where.args],
      );
      total = Number(c[0]?.n ?? 0);
    }
    return { items: rows.map(toListItem), total, page: f.page, pageSize: f.pageSize };
  }

  // without a keyword the page walks an index in order and stops: count separately
  const [rows, count] = await Promise.all([
    db.select<Row>(`SELECT ${COLUMNS} FROM products p WHERE ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`, [...where.args, f.pageSize, offset]),
    db.select<{ n: number }>(`SELECT COUNT(*) AS n FROM products p WHERE ${where.sql}`, where.args),
  ]);
  return { items: rows.map(toListItem), total: Number(count[0]?.n ?? 0), page: f.page, pageSize: f.pageSize };
}

/** Replace a product's search terms (inside the caller's transaction). */
export async function reindexProduct(
  sequelize: Sequelize,
  productId: number,
  terms: { term: string; weight: number }[],
  transaction: import("sequelize").Transaction,
): Promise<void> {
  await sequelize.query("DELETE FROM product_search_terms WHERE product_id = ?", { replacements: [productId], transaction });
  await insertTerms(sequelize, terms.map((t) => [t.term, productId, t.weight]), transaction);
}

/** Multi-row insert of (term, product_id, weight), in chunks the drivers accept. */
export async function insertTerms(
  sequelize: Sequelize,
  rows: [string, number, number][],
  transaction?: import("sequelize").Transaction,
): Promise<void> {
  const CHUNK = 300; // 900 bound values, under SQLite's limit
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    await sequelize.query(`INSERT INTO product_search_terms (term, product_id, weight) VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")}`, {
      replacements: chunk.flat(),
      transaction,
    });
  }
}
