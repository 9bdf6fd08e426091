/**
 * `npm run bench:search-sql`: what a keyword search costs in SQL, one query at a time, without
 * the gateway, the cache or other clients — the cost each uncached search of bench:catalog pays.
 *
 * Runs bench:catalog's keywords × 5 orders × 3 price filters × pages 1 and 4 (page size 50:
 * 1,260 searches, customers' ON_SALE view, the shipped synonyms) through the catalog's own
 * reader (services/catalog/read-pool.ts) and prints the mean and p95 per order and the time of
 * each kind of statement. The first 200 searches warm the caches and are not counted.
 *
 * BENCH_DATABASE_URL: the database to read (sqlite:<file> or mysql://…); it is seeded with
 * bench:catalog's 100k products when it has none. Prints only; RESULTS.md quotes it by hand.
 * For a before/after, run it from two checkouts on databases each seeded by its own code.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { QueryTypes } from "sequelize";
import { KEYWORDS, seedDatabase } from "./catalog";
import { acquireSequelize, releaseSequelize } from "../services/shared/db";
import { createReader, Reader } from "../services/catalog/read-pool";
import { listProducts } from "../services/catalog/product-query";
import { DEFAULT_SYNONYMS, normalise, querySpellings } from "../services/catalog/domain/search-tokens";
import type { Sort } from "../services/catalog/domain/listing";

const URL = process.env.BENCH_DATABASE_URL ?? "";

/** Which step of a search a statement is (services/catalog/product-query.ts). */
function kind(sql: string): string {
  if (/^SELECT \(SELECT (COUNT|MIN)/.test(sql)) return "plan";
  if (sql.includes("GROUP BY score")) return "score groups";
  if (sql.includes("INDEXED BY products_status_sales") || sql.includes("FORCE INDEX")) return "sales walk";
  if (sql.startsWith("SELECT COUNT(*) AS n FROM (")) return "count";
  if (sql.includes("FROM products p WHERE p.id IN")) return "page rows";
  if (sql.startsWith("SELECT COUNT(*) AS n FROM products")) return "listed count";
  return "page";
}

async function main() {
  if (!URL) throw new Error("set BENCH_DATABASE_URL (sqlite:<file> or mysql://…)");
  const sequelize = acquireSequelize(URL);
  const tables = await sequelize.getQueryInterface().showAllTables();
  const [row] = tables.includes("products") ? await sequelize.query<{ n: number }>("SELECT COUNT(*) AS n FROM products", { type: QueryTypes.SELECT }) : [{ n: 0 }];
  if (!Number(row.n)) {
    await releaseSequelize(URL);
    console.log("seeding …");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-search-sql-"));
    await seedDatabase(dir, URL);
  }
  const s = acquireSequelize(URL);
  const base = createReader(s, URL, 2);
  const stats = new Map<string, { n: number; ms: number }>();
  let label = "";
  const reader: Reader = {
    dialect: base.dialect,
    close: () => base.close(),
    select: async <T>(sql: string, args: unknown[]) => {
      const t0 = performance.now();
      const r = await base.select<T>(sql, args);
      const k = `${label}: ${kind(sql)}`;
      const e = stats.get(k) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += performance.now() - t0;
      stats.set(k, e);
      return r;
    },
  };
  const groups = DEFAULT_SYNONYMS.map((g) => g.map(normalise));
  const sorts: (Sort | undefined)[] = [undefined, "price_asc", "sales", "newest", "price_desc"];
  const prices = [{}, { minPrice: 1000 }, { maxPrice: 100000 }];
  const searches: (Parameters<typeof listProducts>[1] & { label: string })[] = [];
  for (const q of KEYWORDS)
    for (const sort of sorts)
      for (const price of prices)
        for (const page of [1, 4])
          searches.push({ search: querySpellings(q, groups), status: "ON_SALE", sort, page, pageSize: 50, ...price, label: sort ?? "relevance" });
  for (const f of searches.slice(0, 200)) await listProducts(reader, f);
  stats.clear();
  const per = new Map<string, number[]>();
  const all: number[] = [];
  for (const f of searches) {
    label = f.label;
    const t0 = performance.now();
    await listProducts(reader, f);
    const ms = performance.now() - t0;
    all.push(ms);
    if (!per.has(f.label)) per.set(f.label, []);
    per.get(f.label)!.push(ms);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];
  console.log(`${searches.length} searches, ${base.dialect}: mean ${mean(all).toFixed(2)} ms, p95 ${p95(all).toFixed(1)} ms`);
  for (const [k, v] of per) console.log(`  ${k.padEnd(10)} mean ${mean(v).toFixed(2)} ms, p95 ${p95(v).toFixed(1)} ms`);
  for (const [k, v] of [...stats].sort()) console.log(`    ${k.padEnd(24)} ${String(v.n).padStart(4)} statements, ${(v.ms / v.n).toFixed(2)} ms each, ${(v.ms / searches.length).toFixed(2)} ms per search`);
  await reader.close();
  await releaseSequelize(URL);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
