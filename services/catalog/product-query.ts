/**
 * Product list and keyword search in SQL that runs unchanged on SQLite and MySQL/MariaDB — but
 * for the walks of SortedPlan, which name their index each in its dialect (salesWalk).
 * Every value is a bound parameter; the only text spliced in is an ORDER BY taken from a fixed
 * table (domain/listing.ts) and placeholder lists.
 */
import { QueryTypes, Sequelize } from "sequelize";
import type { Reader } from "./read-pool";
import type { Page, ProductListItem, ProductStatus } from "./catalog.contracts";
import { Sort, orderBy } from "./domain/listing";
import { HEAD_WEIGHT, IndexTerm, QuerySpelling, QueryTerm, prefixUpperBound } from "./domain/search-tokens";

/**
 * One spelling of a search (the query, or a synonym variant; domain/search-tokens.ts
 * querySpellings): required terms; the head, HEAD_WEIGHT more for a product whose term row for
 * it is flagged `head`; the exact mark, its weight more. Neither the head nor the mark filters.
 */
export type SearchSpelling = QuerySpelling & {
  /** set by planning: each term's postings, capped (FREQUENCY_CAP), in the order of `terms` */
  counts?: number[];
};

/**
 * The head bonus read from a term row `alias` that matched the query term `t`: its flag, when
 * the row's term can only be the head; for a prefix, only the row whose term is the head.
 */
function headBonus(t: QueryTerm, head: string, alias: string): { sql: string; args: unknown[] } {
  return t.prefix
    ? { sql: `CASE WHEN ${alias}.term = ? AND ${alias}.head = 1 THEN ${HEAD_WEIGHT} ELSE 0 END`, args: [head] }
    : { sql: `${alias}.head * ${HEAD_WEIGHT}`, args: [] };
}

/** Which of a spelling's terms reads the head's row (-1: none does, its row is looked up). */
function headTerm({ terms, head }: SearchSpelling): number {
  if (!head) return -1;
  const exact = terms.findIndex((t) => !t.prefix && t.term === head);
  if (exact >= 0) return exact;
  return terms.findIndex((t) => t.prefix && head.startsWith(t.term));
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

/**
 * WHERE for the non-keyword filters over `alias`: a product `p`, or a term row, which carries
 * copies of the same four columns (status, min_price, category_id, brand_id; see
 * syncSearchFacets) so a keyword search filters, counts and orders by price or age without
 * reading products.
 */
function filters(f: ListFilter, alias = "p"): { sql: string; args: unknown[] } {
  // deleted products carry status DELETED, so every list condition starts on a status index
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.status) {
    where.push(`${alias}.status = ?`);
    args.push(f.status);
  } else {
    where.push(`${alias}.status IN ('ON_SALE', 'OFF_SALE')`);
  }
  if (f.categoryIds) {
    where.push(`${alias}.category_id IN (${placeholders(f.categoryIds.length)})`);
    args.push(...f.categoryIds);
  }
  if (f.brandId !== undefined) {
    where.push(`${alias}.brand_id = ?`);
    args.push(f.brandId);
  }
  if (f.minPrice !== undefined) {
    where.push(`${alias}.min_price >= ?`);
    args.push(f.minPrice);
  }
  if (f.maxPrice !== undefined) {
    where.push(`${alias}.min_price <= ?`);
    args.push(f.maxPrice);
  }
  return { sql: where.join(" AND "), args };
}

/**
 * Every `EXISTS` probe below ends in `LIMIT 1`. It changes no result, and it keeps SQLite from
 * rewriting the EXISTS as a join: SQLite 3.52.0, the version the sqlite3 package bundles,
 * returned the wrong OFFSET window for a WHERE EXISTS over a prefix range that matches several
 * of a product's terms (a page one row early). Node's own SQLite 3.53.4 did not.
 * test/integration/search-plans.test.ts caught it.
 */

/** `term = ?` or the prefix range, over the alias `t`. */
function termCondition(t: QueryTerm, alias: string): { sql: string; args: unknown[] } {
  return t.prefix
    ? { sql: `${alias}.term >= ? AND ${alias}.term < ?`, args: [t.term, prefixUpperBound(t.term)] }
    : { sql: `${alias}.term = ?`, args: [t.term] };
}

/**
 * Products matching every term of one spelling under the filters, with their score: per term the
 * best weight (title 2, subtitle 1), summed, plus HEAD_WEIGHT when the row of the query's head
 * is flagged `head` (read from the row that term already reads), plus the weight of the exact
 * mark when the product has it (its title is the query). The rarest term drives (one range of
 * the (term, product_id) primary key, whose rows carry the filtered columns); each other term is
 * an inner join and the mark a left join on that key — one seek per candidate, index-only on
 * both databases — so a query of two common words with few
 * products in common stays cheap. Joins, not scalar subqueries in the select list: SQLite
 * copies a subquery's expression into every place the outer query names its column, and ran
 * each probe twice (16.6 → 5.4 ms for 礼盒装 at 100k products).
 */
function matchSubquery(sp: SearchSpelling, f: ListFilter): { sql: string; args: unknown[] } {
  const { terms, marks } = sp;
  const [first, ...rest] = terms;
  const d = termCondition(first, "d");
  const facets = filters(f, "d");
  const args: unknown[] = [];
  const selectArgs: unknown[] = [];
  const joins = rest.map((t, i) => {
    const c = termCondition(t, `w${i + 1}`);
    args.push(...c.args);
    return `CROSS JOIN product_search_terms w${i + 1} ON w${i + 1}.product_id = d.product_id AND ${c.sql}`;
  });
  const bonuses = marks.map((m, i) => {
    args.push(m);
    return `LEFT JOIN product_search_terms b${i} ON b${i}.term = ? AND b${i}.product_id = d.product_id`;
  });
  // the head's flag is on a row a term already reads; a head no term reads (a query cut to
  // MAX_QUERY_TERMS, "iphone15" read as iphone + 15) is looked up
  const h = headTerm(sp);
  if (sp.head && h < 0) {
    args.push(sp.head);
    bonuses.push(`LEFT JOIN product_search_terms hd ON hd.term = ? AND hd.product_id = d.product_id AND hd.head = 1`);
  }
  args.push(...d.args, ...facets.args);
  // a prefix term matches several indexed terms of one product: one row per product, best weights
  const grouped = terms.some((t) => t.prefix);
  const w = (col: string) => (grouped ? `MAX(${col})` : col);
  const weight = (i: number, alias: string) => {
    if (i !== h || !sp.head) return w(`${alias}.weight`);
    // a flagged row is a title row: the best weight of its term, so one MAX covers both
    const b = headBonus(terms[i], sp.head, alias);
    selectArgs.push(...b.args);
    return w(`${alias}.weight + ${b.sql}`);
  };
  const parts = [weight(0, "d"), ...rest.map((_, i) => weight(i + 1, `w${i + 1}`)), ...marks.map((_, i) => `COALESCE(${w(`b${i}.weight`)}, 0)`)];
  if (sp.head && h < 0) parts.push(`COALESCE(${w("hd.head")}, 0) * ${HEAD_WEIGHT}`);
  return {
    sql: `SELECT d.product_id, ${parts.join(" + ")} AS score FROM product_search_terms d ${[...joins, ...bonuses].join(" ")}
           WHERE ${d.sql} AND ${facets.sql}${grouped ? " GROUP BY d.product_id" : ""}`,
    args: [...selectArgs, ...args],
  };
}

/** Every spelling's matches; a product found by several keeps its best score. */
function matchAny(spellings: SearchSpelling[], f: ListFilter): { sql: string; args: unknown[] } {
  if (spellings.length === 1) return matchSubquery(spellings[0], f);
  const subs = spellings.map((sp) => matchSubquery(sp, f));
  return {
    sql: `SELECT product_id, MAX(score) AS score FROM (${subs.map((q) => q.sql).join(" UNION ALL ")}) u GROUP BY product_id`,
    args: subs.flatMap((q) => q.args),
  };
}

/** Postings counted up to this many: enough to tell a rare term from a common one. */
const FREQUENCY_CAP = 5000;

/**
 * What planning learnt of a term or a mark: its postings counted up to `cap` (a count under
 * the cap is exact), when. Only statistics that steer a plan are kept, and only non-zero ones:
 * a term's count only orders a spelling's terms, and a mark kept as present when no product has
 * it any more joins nothing. A term or mark seen with no posting is asked again every time, and
 * so is the range of indexed terms a prefix covers, so a product saved a moment ago is found at
 * once. Like a database's column statistics: per reader (per catalog node), for a minute, at
 * most TERM_STATS entries. The number of products a status lists (listedCount) is kept here too.
 */
interface TermStat {
  n: number;
  cap: number;
  at: number;
}
const TERM_STATS = 20_000;
const TERM_STATS_TTL_MS = 60_000;
const termStats = new WeakMap<Reader, Map<string, TermStat>>();

function statsOf(db: Reader): Map<string, TermStat> {
  let m = termStats.get(db);
  if (!m) termStats.set(db, (m = new Map()));
  return m;
}

/** A kept count good for `cap`: counted with at least that cap, or exact. */
function knownCount(stats: Map<string, TermStat>, key: string, cap: number, now: number): number | null {
  const e = stats.get(key);
  if (!e) return null;
  if (now - e.at >= TERM_STATS_TTL_MS) {
    stats.delete(key);
    return null;
  }
  return e.cap >= cap || e.n < e.cap ? Math.min(e.n, cap) : null;
}

function keepCount(stats: Map<string, TermStat>, key: string, n: number, cap: number, now: number): void {
  if (n <= 0) return;
  stats.delete(key);
  if (stats.size >= TERM_STATS) stats.delete(stats.keys().next().value!);
  stats.set(key, { n, cap, at: now });
}

/**
 * Plan every spelling in one statement: order its terms rarest first (capped counts over the
 * primary key), turn a prefix that covers a single indexed term ("tea" → just "tea") into an
 * exact term (no GROUP BY needed), and drop a spelling with a term that has no posting at all —
 * nothing can match it (a synonym the catalog never uses is not scanned and merged), and its
 * ranking marks that no product has. Counts kept from earlier plans (TermStat) are not asked
 * again; when every one is kept, planning runs no statement. Returns the spellings that can match.
 */
async function planSpellings(db: Reader, spellings: SearchSpelling[]): Promise<SearchSpelling[]> {
  const stats = statsOf(db);
  const now = Date.now();
  const cols: string[] = [];
  const args: unknown[] = [];
  /** what a column will count, to keep it: the key and the cap it counted with */
  const asked = new Map<string, { key: string; cap: number }>();
  const known = new Map<string, number>();
  spellings.forEach((sp, i) =>
    sp.terms.forEach((t, j) => {
      const c = termCondition(t, "t");
      // one term needs no ordering, only to know that it has a posting
      const cap = sp.terms.length === 1 ? 1 : FREQUENCY_CAP;
      const key = `${t.prefix ? "p" : "t"}:${t.term}`;
      const kept = knownCount(stats, key, cap, now);
      if (kept !== null) {
        known.set(`n_${i}_${j}`, kept);
      } else {
        cols.push(`(SELECT COUNT(*) FROM (SELECT 1 FROM product_search_terms t WHERE ${c.sql} LIMIT ${cap}) x) AS n_${i}_${j}`);
        args.push(...c.args);
        asked.set(`n_${i}_${j}`, { key, cap });
      }
      // which indexed terms a prefix covers is asked every time (two seeks): a term indexed a
      // moment ago must not be missed because the plan had turned the prefix into another one
      if (t.prefix) {
        cols.push(`(SELECT MIN(t.term) FROM product_search_terms t WHERE ${c.sql}) AS lo_${i}_${j}`, `(SELECT MAX(t.term) FROM product_search_terms t WHERE ${c.sql}) AS hi_${i}_${j}`);
        args.push(...c.args, ...c.args);
      }
    }),
  );
  // a mark no product carries (no title is the query, as a rule) adds nothing: no join for it
  spellings.forEach((sp, i) =>
    sp.marks.forEach((m, k) => {
      const key = `m:${m}`;
      const kept = knownCount(stats, key, 1, now);
      if (kept !== null) {
        known.set(`m_${i}_${k}`, kept);
        return;
      }
      cols.push(`(SELECT COUNT(*) FROM (SELECT 1 FROM product_search_terms t WHERE t.term = ? LIMIT 1) x) AS m_${i}_${k}`);
      args.push(m);
      asked.set(`m_${i}_${k}`, { key, cap: 1 });
    }),
  );
  const row: Record<string, string | number | null> = cols.length ? ((await db.select<Record<string, string | number | null>>(`SELECT ${cols.join(", ")}`, args))[0] ?? {}) : {};
  for (const [col, { key, cap }] of asked) keepCount(stats, key, Number(row[col] ?? 0), cap, now);
  for (const [col, n] of known) row[col] = n;
  const out: SearchSpelling[] = [];
  spellings.forEach((sp, i) => {
    const terms = sp.terms.map((t, j) => {
      const n = Number(row[`n_${i}_${j}`] ?? 0);
      const lo = row[`lo_${i}_${j}`];
      const single = t.prefix && lo !== null && lo !== undefined && lo === row[`hi_${i}_${j}`];
      return { t: single ? { term: String(lo), prefix: false } : t, n };
    });
    if (terms.some((x) => x.n === 0)) return;
    terms.sort((a, b) => a.n - b.n);
    out.push({ terms: terms.map((x) => x.t), counts: terms.map((x) => x.n), head: sp.head, marks: sp.marks.filter((_, k) => Number(row[`m_${i}_${k}`] ?? 0) > 0) });
  });
  return out;
}

/**
 * `EXISTS` probes: the product `p` matches one of the spellings (all of its terms), the filters
 * checked on the first term's row (its copies of the product's columns).
 */
function matchProbe(spellings: SearchSpelling[], f: ListFilter): { sql: string; args: unknown[] } {
  const args: unknown[] = [];
  const any = spellings.map(({ terms }) =>
    terms
      .map((t, i) => {
        const c = termCondition(t, "t");
        const facets = i === 0 ? filters(f, "t") : null;
        args.push(...c.args, ...(facets?.args ?? []));
        return `EXISTS (SELECT 1 FROM product_search_terms t WHERE t.product_id = p.id AND ${c.sql}${facets ? ` AND ${facets.sql}` : ""} LIMIT 1)`;
      })
      .join(" AND "),
  );
  return { sql: any.length === 1 ? any[0] : any.map((a) => `(${a})`).join(" OR "), args };
}

/**
 * Whether to read a spelling's matches as one range per term, grouped by product (a product
 * with a row for every term matches), instead of driving from the rarest term and probing the
 * others once per candidate. On MariaDB a probe costs ≈ 1.6 µs and a grouped row ≈ 0.45 µs
 * (four pairs of about equally common terms such as 西红 + 红柿, 3,400–5,900 matches each: a
 * count 7.5 → 4 ms on average), so grouping
 * wins when the terms are about equally common and loses when one is rare. Exact terms only (a
 * product has one row per exact term; a prefix may cover several of its terms). SQLite groups
 * more slowly than it probes (2.9 → 4.0 ms): it always probes.
 */
const MERGE_RATIO = 3;
function merged(sp: SearchSpelling, dialect: Reader["dialect"]): boolean {
  const n = sp.counts;
  if (dialect !== "mysql" || sp.terms.length < 2 || !n || n.length !== sp.terms.length || sp.terms.some((t) => t.prefix)) return false;
  return n.reduce((a, b) => a + b, 0) < MERGE_RATIO * n[0];
}

/**
 * The products matching one of the spellings under the filters, each once, with the sort keys
 * the term rows carry: `product_id`, `min_price`. Index-only on both databases: the driver is a
 * range of the (term, product_id) primary key, whose rows hold the filtered columns; every
 * further term is one probe.
 */
function matchRows(spellings: SearchSpelling[], f: ListFilter, dialect?: Reader["dialect"]): { sql: string; args: unknown[] } {
  const args: unknown[] = [];
  const subs = spellings.map((sp) => {
    if (dialect && merged(sp, dialect)) {
      const facets = filters(f, "d");
      args.push(...sp.terms.map((t) => t.term), ...facets.args, sp.terms.length);
      // every row of a product carries the same copies of its columns: any row's will do
      return `SELECT d.product_id, MAX(d.min_price) AS min_price FROM product_search_terms d
               WHERE d.term IN (${placeholders(sp.terms.length)}) AND ${facets.sql} GROUP BY d.product_id HAVING COUNT(*) = ?`;
    }
    const [first, ...rest] = sp.terms;
    const d = termCondition(first, "d");
    const facets = filters(f, "d");
    args.push(...d.args, ...facets.args);
    const probes = rest.map((t) => {
      const c = termCondition(t, "t");
      args.push(...c.args);
      return ` AND EXISTS (SELECT 1 FROM product_search_terms t WHERE t.product_id = d.product_id AND ${c.sql} LIMIT 1)`;
    });
    // a prefix spans several terms one product may have more than one of
    return `SELECT ${first.prefix ? "DISTINCT " : ""}d.product_id, d.min_price FROM product_search_terms d WHERE ${d.sql} AND ${facets.sql}${probes.join("")}`;
  });
  return { sql: subs.join(" UNION "), args };
}

/** How many products one status lists, kept with the term counts (TermStat): it only steers a plan. */
async function listedCount(db: Reader, status: ProductStatus): Promise<number> {
  const stats = statsOf(db);
  const key = `l:${status}`;
  const now = Date.now();
  const kept = knownCount(stats, key, Infinity, now);
  if (kept !== null) return kept;
  const [row] = await db.select<{ n: number }>("SELECT COUNT(*) AS n FROM products p WHERE p.status = ?", [status]);
  const n = Number(row?.n ?? 0);
  keepCount(stats, key, n, Infinity, now);
  return n;
}

/** Every match counted (a page past the end, or a sorted search's total). */
async function countMatches(db: Reader, match: { sql: string; args: unknown[] }): Promise<number> {
  const [row] = await db.select<{ n: number }>(`SELECT COUNT(*) AS n FROM (${match.sql}) m`, match.args);
  return Number(row?.n ?? 0);
}

/** An ORDER BY over `p` (price and age orders) read from matchRows' columns instead. */
function onMatchRows(order: string): string {
  return order.replace(/\bp\.id\b/g, "m.product_id").replace(/\bp\.min_price\b/g, "m.min_price");
}

/**
 * How a keyword page in sales order — or a relevance score group, whose ties go to the best
 * sellers — is read (price and age orders are on the term rows, read index-only whatever the
 * plan).
 * - "walk": down the (status, sales, id) index on products, probing each product for the match
 *   (and its score), until the page is full: about (offset + pageSize) × listed ÷ matches
 *   probes, however many products match. Cheap when matches are common.
 * - "drive": every match from the term index, one products seek each for its sales, sorted.
 *   Cheap when matches are rare.
 * Chosen per query from the exact match count, for one status (customers; the staff's two
 * statuses are two runs of the index). `plan` forces one (tests).
 */
export type SortedPlan = "walk" | "drive";

/**
 * The relevance score of the product `p` as an expression (-1 when it matches no spelling),
 * the filters checked on the first term's row. Correlated probes, for a walk: the EXISTS tests
 * come first so a product without the first term costs one seek.
 */
function scoreProbe(db: Reader, spellings: SearchSpelling[], f: ListFilter): { sql: string; args: unknown[] } {
  const args: unknown[] = [];
  const per = spellings.map((sp) => {
    const { terms, marks } = sp;
    const h = headTerm(sp);
    const exists = terms.map((t, i) => {
      const c = termCondition(t, "t");
      const facets = i === 0 ? filters(f, "t") : null;
      args.push(...c.args, ...(facets?.args ?? []));
      return `EXISTS (SELECT 1 FROM product_search_terms t WHERE t.product_id = p.id AND ${c.sql}${facets ? ` AND ${facets.sql}` : ""} LIMIT 1)`;
    });
    const weights = terms.map((t, i) => {
      const b = i === h && sp.head ? headBonus(t, sp.head, "t") : null;
      const c = termCondition(t, "t");
      args.push(...(b?.args ?? []), ...c.args);
      return `(SELECT MAX(t.weight${b ? ` + ${b.sql}` : ""}) FROM product_search_terms t WHERE t.product_id = p.id AND ${c.sql})`;
    });
    const bonuses = marks.map((m) => {
      args.push(m);
      return `COALESCE((SELECT t.weight FROM product_search_terms t WHERE t.product_id = p.id AND t.term = ?), 0)`;
    });
    if (sp.head && h < 0) {
      args.push(sp.head);
      bonuses.push(`COALESCE((SELECT ${HEAD_WEIGHT} FROM product_search_terms t WHERE t.product_id = p.id AND t.term = ? AND t.head = 1), 0)`);
    }
    return `CASE WHEN ${exists.join(" AND ")} THEN ${[...weights, ...bonuses].join(" + ")} ELSE -1 END`;
  });
  // the larger of several values: SQLite's scalar max(), MySQL's GREATEST(); one spelling needs none
  return { sql: per.length === 1 ? per[0] : `${db.dialect === "sqlite" ? "max" : "GREATEST"}(${per.join(", ")})`, args };
}

/**
 * Relevance for one status: the score's histogram first (index-only: the term rows
 * carry the filters), which gives the total and which score groups the page falls in; then each
 * such group in sales order — down the (status, sales, id) index with a score probe per product
 * when the group is common (a page of a 6,000-product keyword reads a few hundred products,
 * not 6,000 products rows), or from the matches joined to products when it is rare.
 */
async function rankedByGroups(
  db: Reader,
  f: ListFilter & { status: ProductStatus; plan?: SortedPlan },
  planned: SearchSpelling[],
  offset: number,
): Promise<Page<ProductListItem>> {
  const match = matchAny(planned, f);
  const groups = await db.select<{ score: number; n: number }>(`SELECT score, COUNT(*) AS n FROM (${match.sql}) m GROUP BY score ORDER BY score DESC`, match.args);
  const total = groups.reduce((a, g) => a + Number(g.n), 0);
  if (offset >= total) return { items: [], total, page: f.page, pageSize: f.pageSize };
  const listed = await listedCount(db, f.status);
  // the part of each score group the page takes
  const spans: { score: number; n: number; skip: number; take: number }[] = [];
  let before = 0;
  for (const g of groups) {
    const n = Number(g.n);
    const from = Math.max(offset, before);
    const to = Math.min(offset + f.pageSize, before + n);
    before += n;
    if (from < to) spans.push({ score: g.score, n, skip: from - (before - n), take: to - from });
    if (before >= offset + f.pageSize) break;
  }
  const idsOf = ({ score, n, skip, take }: (typeof spans)[number]): { sql: string; args: unknown[] } => {
    const walked = ((skip + take) * listed) / n;
    const plan = f.plan ?? (walked < total * WALK_RATIO ? "walk" : "drive");
    if (plan === "walk") {
      const probe = scoreProbe(db, planned, f);
      return {
        sql: `SELECT p.id FROM ${salesWalk(db)} WHERE p.status = ? AND (${probe.sql}) = ? ORDER BY p.sales DESC, p.id DESC LIMIT ? OFFSET ?`,
        args: [f.status, ...probe.args, score, take, skip],
      };
    }
    return {
      sql: `SELECT p.id FROM (${match.sql}) m CROSS JOIN products p ON p.id = m.product_id WHERE m.score = ? ORDER BY p.sales DESC, p.id DESC LIMIT ? OFFSET ?`,
      args: [...match.args, score, take, skip],
    };
  };
  if (spans.length === 1) {
    // the page lies in one group (as a rule): its display columns come with it, one statement
    const q = idsOf(spans[0]);
    const rows = await db.select<Row>(`SELECT ${COLUMNS} FROM (${q.sql}) r JOIN products p ON p.id = r.id ORDER BY p.sales DESC, p.id DESC`, q.args);
    return { items: rows.map(toListItem), total, page: f.page, pageSize: f.pageSize };
  }
  const ids: number[] = [];
  for (const span of spans) {
    const q = idsOf(span);
    ids.push(...(await db.select<{ id: number }>(q.sql, q.args)).map((r) => Number(r.id)));
  }
  const rows = ids.length ? await db.select<Row>(`SELECT ${COLUMNS} FROM products p WHERE p.id IN (${placeholders(ids.length)})`, ids) : [];
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  return { items: ids.flatMap((id) => (byId.has(id) ? [toListItem(byId.get(id)!)] : [])), total, page: f.page, pageSize: f.pageSize };
}

/**
 * `products p` read down its (status, sales, id) index, named: left to choose, SQLite would
 * rather range-scan the price index for a price filter and sort every match, and MariaDB would
 * turn the EXISTS probe into a semi-join driven from the terms — the work a walk exists to avoid.
 */
function salesWalk(db: Reader): string {
  return db.dialect === "sqlite" ? "products p INDEXED BY products_status_sales" : "products p FORCE INDEX (products_status_sales)";
}

/** A walked product costs one probe; a driven match a seek and its share of a sort. */
const WALK_RATIO = 4;

export async function listProducts(db: Reader, f: ListFilter & { plan?: SortedPlan }): Promise<Page<ProductListItem>> {
  const offset = (f.page - 1) * f.pageSize;
  const where = filters(f);
  const order = orderBy(f.sort, f.search.length > 0);
  const empty = { items: [], total: 0, page: f.page, pageSize: f.pageSize };

  if (f.search.length) {
    // the ranking marks only add to the relevance score: another order does not read them
    const ranking = (f.sort ?? "relevance") === "relevance";
    const planned = await planSpellings(
      db,
      f.search.map((sp) => ({ terms: sp.terms, head: ranking ? sp.head : null, marks: ranking ? sp.marks : [] })),
    );
    if (!planned.length) return empty;
    if (!ranking) return sortedSearch(db, f, planned, offset);
    if (f.status) return rankedByGroups(db, { ...f, status: f.status }, planned, offset);
    // The matched set is materialised for ranking anyway, so the total comes with the page
    // (window count); only the page's rows are joined again for their display columns.
    // CROSS JOIN keeps the matches as the outer loop: without statistics SQLite would rather
    // walk every ON_SALE product and probe the matches (20x slower at 100k). MySQL/MariaDB read
    // CROSS JOIN … ON as an inner join and choose the same order on their own.
    const match = matchAny(planned, f);
    const ranked = `SELECT p.id, m.score, p.sales, p.min_price, COUNT(*) OVER () AS total_count
                      FROM (${match.sql}) m CROSS JOIN products p ON p.id = m.product_id
                     ORDER BY ${order} LIMIT ? OFFSET ?`;
    const rows = await db.select<Row>(
      `SELECT ${COLUMNS}, r.total_count FROM (${ranked}) r JOIN products p ON p.id = r.id
        ORDER BY ${order.replace(/\bm\.score\b/g, "r.score")}`,
      [...match.args, f.pageSize, offset],
    );
    let total = rows.length ? Number(rows[0].total_count) : 0;
    if (!rows.length && offset > 0) total = await countMatches(db, matchRows(planned, f));
    return { items: rows.map(toListItem), total, page: f.page, pageSize: f.pageSize };
  }

  // without a keyword the page walks an index in order and stops: count separately
  const [rows, count] = await Promise.all([
    db.select<Row>(`SELECT ${COLUMNS} FROM products p WHERE ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`, [...where.args, f.pageSize, offset]),
    db.select<{ n: number }>(`SELECT COUNT(*) AS n FROM products p WHERE ${where.sql}`, where.args),
  ]);
  return { items: rows.map(toListItem), total: Number(count[0]?.n ?? 0), page: f.page, pageSize: f.pageSize };
}

/**
 * A keyword search in price, sales or age order: no scores. The exact count first, index-only;
 * nothing more when the page is past the end; then the page's ids — by price or age straight
 * from the term rows, by sales through the plan that reads fewer rows (SortedPlan) — and their
 * display columns.
 */
async function sortedSearch(db: Reader, f: ListFilter & { plan?: SortedPlan }, planned: SearchSpelling[], offset: number): Promise<Page<ProductListItem>> {
  // every match read (a count, a price page, a drive): grouped where that is cheaper; the age
  // order's page walks the driving term's rows in id order and stops, so it keeps the probes
  const match = matchRows(planned, f, db.dialect);
  if ((f.sort === "price_asc" || f.sort === "price_desc") && db.dialect === "mysql") return pricedSearch(db, f, match, offset);
  const total = await countMatches(db, match);
  if (offset >= total) return { items: [], total, page: f.page, pageSize: f.pageSize };
  const order = orderBy(f.sort, true);
  let ids: string;
  let args: unknown[];
  if (f.sort !== "sales") {
    const walk = matchRows(planned, f);
    ids = `SELECT m.product_id AS id FROM (${walk.sql}) m ORDER BY ${onMatchRows(order)} LIMIT ? OFFSET ?`;
    args = [...walk.args, f.pageSize, offset];
  } else {
    let plan: SortedPlan = "drive";
    // one status: the index's order is the page's (the staff's two statuses are two runs)
    if (f.status) {
      const listed = await listedCount(db, f.status);
      plan = f.plan ?? ((offset + f.pageSize) * listed < total * total * WALK_RATIO ? "walk" : "drive");
    }
    if (plan === "walk") {
      const probe = matchProbe(planned, f);
      ids = `SELECT p.id FROM ${salesWalk(db)} WHERE p.status = ? AND (${probe.sql}) ORDER BY ${order} LIMIT ? OFFSET ?`;
      args = [f.status, ...probe.args, f.pageSize, offset];
    } else {
      ids = `SELECT p.id FROM (${match.sql}) m CROSS JOIN products p ON p.id = m.product_id ORDER BY ${order} LIMIT ? OFFSET ?`;
      args = [...match.args, f.pageSize, offset];
    }
  }
  const rows = await db.select<Row>(`SELECT ${COLUMNS} FROM (${ids}) r JOIN products p ON p.id = r.id ORDER BY ${order}`, args);
  return { items: rows.map(toListItem), total, page: f.page, pageSize: f.pageSize };
}

/**
 * Price order reads every match anyway (the term rows carry the price, but no index orders a
 * keyword's rows by it): on MySQL/MariaDB the total comes with the page as a window count, one
 * pass over the matches instead of a count and then the page (bench:search-sql: a price search
 * 5.7 → 3.8 ms). A page past the end has no row to carry it, and is counted on its own. On SQLite
 * the same statement came out slower (2.4 → 2.6 ms per price search): it counts, then pages.
 */
async function pricedSearch(db: Reader, f: ListFilter, match: { sql: string; args: unknown[] }, offset: number): Promise<Page<ProductListItem>> {
  const order = orderBy(f.sort, true);
  const ids = `SELECT m.product_id AS id, COUNT(*) OVER () AS total_count FROM (${match.sql}) m
                ORDER BY ${onMatchRows(order)} LIMIT ? OFFSET ?`;
  const rows = await db.select<Row>(`SELECT ${COLUMNS}, r.total_count FROM (${ids}) r JOIN products p ON p.id = r.id ORDER BY ${order}`, [...match.args, f.pageSize, offset]);
  const total = rows.length ? Number(rows[0].total_count) : offset > 0 ? await countMatches(db, match) : 0;
  return { items: rows.map(toListItem), total, page: f.page, pageSize: f.pageSize };
}

/** A product's columns its term rows carry (migrations/0203). */
export interface SearchFacets {
  status: ProductStatus;
  minPrice: number;
  categoryId: number;
  brandId: number | null;
}

/** One term row: (term, product_id, weight, head) and the product's facets. */
export type TermRow = [term: string, productId: number, weight: number, head: 0 | 1, status: ProductStatus, minPrice: number, categoryId: number, brandId: number | null];

/** The row of an indexed term for a product with these facets. */
export function termRow(t: IndexTerm, productId: number, f: SearchFacets): TermRow {
  return [t.term, productId, t.weight, t.head ? 1 : 0, f.status, f.minPrice, f.categoryId, f.brandId];
}

/** Replace a product's search terms, with its current facets (inside the caller's transaction). */
export async function reindexProduct(
  sequelize: Sequelize,
  productId: number,
  terms: IndexTerm[],
  transaction: import("sequelize").Transaction,
): Promise<void> {
  await sequelize.query("DELETE FROM product_search_terms WHERE product_id = ?", { replacements: [productId], transaction });
  const [p] = await sequelize.query<{ status: ProductStatus; min_price: number | string; category_id: number; brand_id: number | null }>(
    "SELECT status, min_price, category_id, brand_id FROM products WHERE id = ?",
    { replacements: [productId], type: QueryTypes.SELECT, transaction },
  );
  if (!p) return;
  const brandId = p.brand_id === null ? null : Number(p.brand_id);
  const facets: SearchFacets = { status: p.status, minPrice: Number(p.min_price), categoryId: Number(p.category_id), brandId };
  await insertTerms(sequelize, terms.map((t) => termRow(t, productId, facets)), transaction);
}

/**
 * Copy a product's status, price and classification onto its term rows. Every write that
 * changes one of them calls this in its own transaction, so a search never filters or orders by
 * an old value (test/integration/search-facets.test.ts changes each and searches).
 */
export async function syncSearchFacets(sequelize: Sequelize, productId: number, transaction: import("sequelize").Transaction): Promise<void> {
  await sequelize.query(
    `UPDATE product_search_terms
        SET status = (SELECT p.status FROM products p WHERE p.id = ?),
            min_price = (SELECT p.min_price FROM products p WHERE p.id = ?),
            category_id = (SELECT p.category_id FROM products p WHERE p.id = ?),
            brand_id = (SELECT p.brand_id FROM products p WHERE p.id = ?)
      WHERE product_id = ?`,
    { replacements: [productId, productId, productId, productId, productId], transaction },
  );
}

/** Multi-row insert of term rows, in chunks the drivers accept. */
export async function insertTerms(sequelize: Sequelize, rows: TermRow[], transaction?: import("sequelize").Transaction): Promise<void> {
  const CHUNK = 110; // 880 bound values, under SQLite's old limit of 999
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    await sequelize.query(
      `INSERT INTO product_search_terms (term, product_id, weight, head, status, min_price, category_id, brand_id) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
      { replacements: chunk.flat(), transaction },
    );
  }
}
