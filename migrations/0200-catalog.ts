/**
 * Catalog: categories (tree), brands, products (SPU), SKUs, the search term index, reviews and
 * uploaded files. See services/catalog/domain/search-tokens.ts for why search is a term table.
 */
import { DataTypes, QueryInterface } from "sequelize";
import { money, pk, ref, timestamps } from "./helpers";

export async function up({ context: qi }: { context: QueryInterface }) {
  const sqlite = qi.sequelize.getDialect() === "sqlite";

  await qi.createTable("categories", {
    id: pk(qi),
    name: { type: DataTypes.STRING(64), allowNull: false },
    parent_id: { ...ref(qi, true), references: { model: "categories", key: "id" }, onDelete: "RESTRICT", onUpdate: "CASCADE" },
    sort: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    ...timestamps(),
  });
  await qi.addIndex("categories", ["parent_id", "sort"], { name: "categories_parent" });

  await qi.createTable("brands", {
    id: pk(qi),
    name: { type: DataTypes.STRING(64), allowNull: false },
    logo_url: { type: DataTypes.STRING(512), allowNull: true },
    ...timestamps(),
  });
  await qi.addIndex("brands", ["name"], { name: "brands_name", unique: true });

  await qi.createTable("products", {
    id: pk(qi),
    title: { type: DataTypes.STRING(200), allowNull: false },
    subtitle: { type: DataTypes.STRING(300), allowNull: false, defaultValue: "" },
    description: { type: DataTypes.TEXT, allowNull: false },
    category_id: ref(qi),
    brand_id: ref(qi, true),
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: "ON_SALE" },
    images: { type: DataTypes.TEXT, allowNull: false },
    // lowest / highest SKU price: the list shows, filters and sorts by min_price
    min_price: money(),
    max_price: money(),
    currency: { type: DataTypes.STRING(3), allowNull: false, defaultValue: "CNY" },
    sales: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    rating: { type: DataTypes.DOUBLE, allowNull: false, defaultValue: 0 },
    review_count: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    deleted_at: { type: DataTypes.DATE, allowNull: true },
    ...timestamps(),
  });
  // one index per list ordering (newest = id), all led by status: customers only see ON_SALE
  await qi.addIndex("products", ["status", "id"], { name: "products_status_newest" });
  await qi.addIndex("products", ["status", "sales", "id"], { name: "products_status_sales" });
  await qi.addIndex("products", ["status", "min_price", "id"], { name: "products_status_price" });
  await qi.addIndex("products", ["category_id", "status", "sales"], { name: "products_category" });
  await qi.addIndex("products", ["brand_id", "status", "sales"], { name: "products_brand" });

  await qi.createTable("skus", {
    id: pk(qi),
    product_id: { ...ref(qi), references: { model: "products", key: "id" }, onDelete: "CASCADE" },
    sku_code: { type: DataTypes.STRING(64), allowNull: false },
    attrs: { type: DataTypes.TEXT, allowNull: false },
    price: money(false, undefined),
    currency: { type: DataTypes.STRING(3), allowNull: false, defaultValue: "CNY" },
    image_url: { type: DataTypes.STRING(512), allowNull: true },
    ...timestamps(),
  });
  await qi.addIndex("skus", ["sku_code"], { name: "skus_code", unique: true });
  await qi.addIndex("skus", ["product_id", "price"], { name: "skus_product" });

  // The term index: the primary key (term, product_id) makes every lookup an index range scan.
  // Terms compare in code point order (binary collation) so prefix ranges are exact.
  if (sqlite) {
    await qi.sequelize.query(
      `CREATE TABLE product_search_terms (
         term VARCHAR(32) NOT NULL,
         product_id INTEGER NOT NULL,
         weight TINYINT NOT NULL,
         PRIMARY KEY (term, product_id)
       ) WITHOUT ROWID`,
    );
  } else {
    await qi.sequelize.query(
      `CREATE TABLE product_search_terms (
         term VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
         product_id BIGINT NOT NULL,
         weight TINYINT NOT NULL,
         PRIMARY KEY (term, product_id)
       ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    );
  }
  await qi.addIndex("product_search_terms", ["product_id"], { name: "search_terms_product" });

  await qi.createTable("reviews", {
    id: pk(qi),
    product_id: ref(qi),
    sku_id: ref(qi),
    user_id: ref(qi),
    order_no: { type: DataTypes.STRING(40), allowNull: false },
    rating: { type: DataTypes.INTEGER, allowNull: false },
    content: { type: DataTypes.TEXT, allowNull: false },
    ...timestamps(),
  });
  await qi.addIndex("reviews", ["product_id", "id"], { name: "reviews_product" });
  await qi.addIndex("reviews", ["order_no", "sku_id"], { name: "reviews_order_line", unique: true });

  await qi.createTable("uploads", {
    name: { type: DataTypes.STRING(64), allowNull: false, primaryKey: true },
    content_type: { type: DataTypes.STRING(32), allowNull: false },
    size: { type: DataTypes.INTEGER, allowNull: false },
    uploaded_by: ref(qi, true),
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  for (const t of ["uploads", "reviews", "product_search_terms", "skus", "products", "brands", "categories"]) {
    await qi.dropTable(t);
  }
}
