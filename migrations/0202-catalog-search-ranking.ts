/**
 * Search ranking and synonyms:
 *  - `search_synonyms`: groups of words a search treats as the same (番茄 = 西红柿), edited by
 *    admins at /admin/search/synonyms; a few common grocery groups ship as defaults.
 *  - every product is re-indexed so its terms carry the ranking marks (`=title`, `$head`) of
 *    services/catalog/domain/search-tokens.ts.
 */
import { DataTypes, QueryInterface, QueryTypes, Transaction } from "sequelize";
import { DEFAULT_SYNONYMS, indexTerms, normalise } from "../services/catalog/domain/search-tokens";
import { pk, timestamps } from "./helpers";

const BATCH = 500;

/** The term rows as this migration knows them (0203 adds the facet columns, with defaults). */
async function insertTerms(s: QueryInterface["sequelize"], rows: [string, number, number][], transaction: Transaction) {
  const CHUNK = 300; // 900 bound values, under SQLite's limit
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    await s.query(`INSERT INTO product_search_terms (term, product_id, weight) VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")}`, {
      replacements: chunk.flat(),
      transaction,
    });
  }
}

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.createTable("search_synonyms", {
    id: pk(qi),
    words: { type: DataTypes.TEXT, allowNull: false },
    ...timestamps(),
  });
  const now = new Date();
  if (DEFAULT_SYNONYMS.length) {
    await qi.bulkInsert(
      "search_synonyms",
      DEFAULT_SYNONYMS.map((g) => ({ words: JSON.stringify(g.map(normalise)), created_at: now, updated_at: now })),
    );
  }
  const s = qi.sequelize;
  for (let after = 0; ; ) {
    const rows = await s.query<{ id: number; title: string; subtitle: string | null }>(
      "SELECT id, title, subtitle FROM products WHERE id > ? ORDER BY id LIMIT ?",
      { replacements: [after, BATCH], type: QueryTypes.SELECT },
    );
    if (!rows.length) break;
    await s.transaction(async (transaction) => {
      const ids = rows.map((r) => Number(r.id));
      await s.query(`DELETE FROM product_search_terms WHERE product_id IN (${ids.map(() => "?").join(", ")})`, { replacements: ids, transaction });
      await insertTerms(s, rows.flatMap((r) => indexTerms(r.title, r.subtitle).map((t) => [t.term, Number(r.id), t.weight] as [string, number, number])), transaction);
    });
    after = Number(rows[rows.length - 1].id);
  }
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.dropTable("search_synonyms");
}
