/**
 * Search facets: every term row carries copies of its product's status, min_price, category_id
 * and brand_id, so a keyword search filters by them, counts its matches and orders by price or
 * age reading the term index alone — before, every match cost a seek into products (≈ 1 µs
 * each, 3.3 ms for a 3,500-product keyword with a price filter against 0.4 ms now; bench/RESULTS.md).
 * services/catalog/product-query.ts `syncSearchFacets` keeps the copies in step, in the
 * transaction that changes the product.
 */
import { QueryInterface, QueryTypes } from "sequelize";

const COLUMNS = [
  ["status", "VARCHAR(16) NOT NULL DEFAULT 'ON_SALE'"],
  ["min_price", "BIGINT NOT NULL DEFAULT 0"],
  ["category_id", "BIGINT NOT NULL DEFAULT 0"],
  ["brand_id", "BIGINT NULL"],
] as const;

export async function up({ context: qi }: { context: QueryInterface }) {
  const s = qi.sequelize;
  if (s.getDialect() === "sqlite") {
    for (const [name, type] of COLUMNS) await s.query(`ALTER TABLE product_search_terms ADD COLUMN ${name} ${type}`);
    await s.query(
      `UPDATE product_search_terms AS t
          SET status = p.status, min_price = p.min_price, category_id = p.category_id, brand_id = p.brand_id
         FROM products p WHERE p.id = t.product_id`,
    );
  } else {
    // status compares like products.status: the same character set and collation as that column
    const [col] = await s.query<{ cs: string; co: string }>(
      `SELECT CHARACTER_SET_NAME AS cs, COLLATION_NAME AS co FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'products' AND COLUMN_NAME = 'status'`,
      { type: QueryTypes.SELECT },
    );
    const typed = COLUMNS.map(([name, type]) => [name, name === "status" && col ? type.replace("VARCHAR(16)", `VARCHAR(16) CHARACTER SET ${col.cs} COLLATE ${col.co}`) : type]);
    await s.query(`ALTER TABLE product_search_terms ${typed.map(([name, type]) => `ADD COLUMN ${name} ${type}`).join(", ")}`);
    await s.query(
      `UPDATE product_search_terms t JOIN products p ON p.id = t.product_id
          SET t.status = p.status, t.min_price = p.min_price, t.category_id = p.category_id, t.brand_id = p.brand_id`,
    );
  }
}

export async function down({ context: qi }: { context: QueryInterface }) {
  // plain DROP COLUMN on both (SQLite ≥ 3.35): Sequelize's SQLite removeColumn rebuilds the table
  // and would lose WITHOUT ROWID
  for (const [name] of [...COLUMNS].reverse()) await qi.sequelize.query(`ALTER TABLE product_search_terms DROP COLUMN ${name}`);
}
