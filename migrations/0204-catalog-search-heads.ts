/**
 * Search heads as flags: a term row says whether its term is the head of one of the product's
 * title phrases (`head`), instead of a separate `$<head>` mark row. The relevance score then
 * reads the flag from the row the query's term already reads — one lookup per match fewer, the
 * larger part of a relevance query's cost on MariaDB (bench/RESULTS.md).
 * Every product's heads are computed again from its title (services/catalog/domain/
 * search-tokens.ts titleHeads), so the flags are right whatever index version a shop had, and
 * the old mark rows are deleted.
 */
import { QueryInterface, QueryTypes } from "sequelize";
import { titleHeads } from "../services/catalog/domain/search-tokens";

const BATCH = 500;
/** (term, product_id) pairs per UPDATE: 800 bound values, under SQLite's old limit of 999. */
const PAIRS = 400;
/** `$` and the next code point: the old head marks are the primary key range [$, %). */
const MARKS = ["$", "%"];

export async function up({ context: qi }: { context: QueryInterface }) {
  const s = qi.sequelize;
  await s.query("ALTER TABLE product_search_terms ADD COLUMN head SMALLINT NOT NULL DEFAULT 0");
  for (let after = 0; ; ) {
    const rows = await s.query<{ id: number; title: string }>("SELECT id, title FROM products WHERE id > ? ORDER BY id LIMIT ?", {
      replacements: [after, BATCH],
      type: QueryTypes.SELECT,
    });
    if (!rows.length) break;
    const pairs = rows.flatMap((r) => titleHeads(r.title).map((h) => [h, Number(r.id)] as const));
    await s.transaction(async (transaction) => {
      for (let i = 0; i < pairs.length; i += PAIRS) {
        const chunk = pairs.slice(i, i + PAIRS);
        await s.query(
          `UPDATE product_search_terms SET head = 1 WHERE ${chunk.map(() => "(term = ? AND product_id = ?)").join(" OR ")}`,
          { replacements: chunk.flat(), transaction },
        );
      }
    });
    after = Number(rows[rows.length - 1].id);
  }
  await s.query("DELETE FROM product_search_terms WHERE term >= ? AND term < ?", { replacements: MARKS });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  const s = qi.sequelize;
  const mark = s.getDialect() === "sqlite" ? "'$' || term" : "CONCAT('$', term)";
  await s.query(
    `INSERT INTO product_search_terms (term, product_id, weight, status, min_price, category_id, brand_id)
     SELECT ${mark}, product_id, 3, status, min_price, category_id, brand_id FROM product_search_terms WHERE head = 1`,
  );
  await s.query("ALTER TABLE product_search_terms DROP COLUMN head");
}
