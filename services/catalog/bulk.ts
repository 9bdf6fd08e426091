/**
 * Bulk import of products with their SKUs and search terms: multi-row INSERTs in batches, one
 * transaction per batch. Used by the demo seed and the 100k-product benchmark; admin writes go
 * through the service actions one product at a time.
 */
import { QueryTypes, Sequelize, Transaction } from "sequelize";
import { withTransaction } from "../shared/db";
import type { ProductStatus } from "./catalog.contracts";
import { priceSpan } from "./domain/money";
import { indexTerms } from "./domain/search-tokens";
import { TermRow, insertTerms, termRow } from "./product-query";

export interface BulkSku {
  skuCode: string;
  attrs: Record<string, string>;
  price: number;
  imageUrl?: string | null;
}

export interface BulkProduct {
  title: string;
  subtitle?: string;
  description?: string;
  categoryId: number;
  brandId?: number | null;
  images?: string[];
  status?: ProductStatus;
  sales?: number;
  rating?: number;
  reviewCount?: number;
  skus: BulkSku[];
}

export interface InsertedSku {
  skuId: number;
  productId: number;
  skuCode: string;
}

async function multiInsert(sequelize: Sequelize, table: string, columns: string[], rows: unknown[][], t: Transaction) {
  const perStatement = Math.max(1, Math.floor(900 / columns.length));
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    const tuple = `(${columns.map(() => "?").join(", ")})`;
    await sequelize.query(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ${chunk.map(() => tuple).join(", ")}`, {
      replacements: chunk.flat(),
      transaction: t,
      type: QueryTypes.INSERT,
    });
  }
}

async function nextId(sequelize: Sequelize, table: "products" | "skus", t: Transaction): Promise<number> {
  const lock = sequelize.getDialect() === "sqlite" ? "" : " FOR UPDATE";
  const rows = await sequelize.query<{ m: number | null }>(`SELECT MAX(id) AS m FROM ${table}${lock}`, { transaction: t, type: QueryTypes.SELECT });
  return Number(rows[0]?.m ?? 0) + 1;
}

/**
 * Insert one batch of products inside the caller's transaction (ids assigned here, in order, so
 * a multi-row INSERT needs no read-back). Returns the SKUs created.
 */
export async function insertProductBatch(sequelize: Sequelize, slice: BulkProduct[], t: Transaction): Promise<InsertedSku[]> {
  const created: InsertedSku[] = [];
  let pid = await nextId(sequelize, "products", t);
  let sid = await nextId(sequelize, "skus", t);
  const now = new Date();
  const productRows: unknown[][] = [];
  const skuRows: unknown[][] = [];
  const termRows: TermRow[] = [];
  for (const p of slice) {
    const id = pid++;
    const span = priceSpan(p.skus.map((s) => s.price));
    productRows.push([
      id,
      p.title,
      p.subtitle ?? "",
      p.description ?? "",
      p.categoryId,
      p.brandId ?? null,
      p.status ?? "ON_SALE",
      JSON.stringify(p.images ?? []),
      span.minPrice,
      span.maxPrice,
      "CNY",
      p.sales ?? 0,
      p.rating ?? 0,
      p.reviewCount ?? 0,
      now,
      now,
    ]);
    for (const s of p.skus) {
      const skuId = sid++;
      skuRows.push([skuId, id, s.skuCode, JSON.stringify(s.attrs ?? {}), s.price, "CNY", s.imageUrl ?? null, now, now]);
      created.push({ skuId, productId: id, skuCode: s.skuCode });
    }
    const facets = { status: p.status ?? "ON_SALE", minPrice: span.minPrice, categoryId: p.categoryId, brandId: p.brandId ?? null };
    for (const term of indexTerms(p.title, p.subtitle)) termRows.push(termRow(term, id, facets));
  }
  await multiInsert(
    sequelize,
    "products",
    ["id", "title", "subtitle", "description", "category_id", "brand_id", "status", "images", "min_price", "max_price", "currency", "sales", "rating", "review_count", "created_at", "updated_at"],
    productRows,
    t,
  );
  await multiInsert(sequelize, "skus", ["id", "product_id", "sku_code", "attrs", "price", "currency", "image_url", "created_at", "updated_at"], skuRows, t);
  await insertTerms(sequelize, termRows, t);
  return created;
}

/** Insert many products, one transaction per batch. */
export async function bulkInsertProducts(
  sequelize: Sequelize,
  products: BulkProduct[],
  opts: { batch?: number; onProgress?: (done: number) => void } = {},
): Promise<InsertedSku[]> {
  const batch = opts.batch ?? 1000;
  const created: InsertedSku[] = [];
  for (let start = 0; start < products.length; start += batch) {
    const slice = products.slice(start, start + batch);
    created.push(...(await withTransaction(sequelize, (t) => insertProductBatch(sequelize, slice, t))));
    opts.onProgress?.(Math.min(products.length, start + batch));
  }
  return created;
}
