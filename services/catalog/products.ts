/**
 * Products and SKUs: the list/search page, the cached detail with live availability, admin
 * writes, and the internal actions cart and orders use. Every write invalidates the cache keys
 * it affects after its transaction commits.
 */
import { Op, QueryTypes, Transaction } from "sequelize";
import type { ProductModel, SkuModel } from "../../models/catalog";
import { isUniqueViolation } from "../shared/db";
import { bizError, validationError } from "../shared/errors";
import { DETAIL_TTL, LIST_TTL, keys } from "./cache";
import { AddSalesResult, Page, ProductDetail, ProductListItem, ProductStatus, SkuSnapshot, SkuView } from "./catalog.contracts";
import { CatalogService, Ctx, isStaff } from "./catalog-types";
import { MAX_OFFSET, Sort } from "./domain/listing";
import { priceSpan } from "./domain/money";
import { indexTerms, querySpellings } from "./domain/search-tokens";
import { synonymGroups } from "./synonyms";
import { listProducts, reindexProduct, syncSearchFacets } from "./product-query";
import { categoryFilter, listBrands, loadCategories, requireBrand, requireCategory } from "./taxonomy";
import { ancestorIds } from "./domain/category-tree";
import { callAction } from "../shared/actions";
import { InventoryCalls } from "../inventory/inventory.contracts";

const LIST_PATTERN = "catalog.list:**";

export interface ListParams {
  q?: string;
  categoryId?: number;
  brandId?: number;
  minPrice?: number;
  maxPrice?: number;
  status?: ProductStatus;
  sort?: Sort;
  page: number;
  pageSize: number;
}

export interface SkuInput {
  skuCode: string;
  attrs?: Record<string, string>;
  price: number;
  stock?: number;
  imageUrl?: string | null;
}

export interface ProductInput {
  title: string;
  subtitle?: string;
  description?: string;
  categoryId: number;
  brandId?: number | null;
  images?: string[];
  status?: ProductStatus;
  skus: SkuInput[];
}

/** SKU codes are compared case-insensitively on every database: store them upper-case. */
export const normaliseSkuCode = (code: string) => code.trim().toUpperCase();

export async function listPage(svc: CatalogService, ctx: Ctx<unknown>, p: ListParams): Promise<Page<ProductListItem>> {
  if (p.minPrice !== undefined && p.maxPrice !== undefined && p.minPrice > p.maxPrice) {
    throw validationError([{ field: "minPrice", message: "minPrice must not be greater than maxPrice" }]);
  }
  if ((p.page - 1) * p.pageSize > MAX_OFFSET) {
    throw validationError([{ field: "page", message: `pages beyond the first ${MAX_OFFSET} results are not served; narrow the search` }]);
  }
  const staff = isStaff(ctx);
  const status = staff ? (p.status ?? null) : "ON_SALE";
  // the query and its synonym spellings (番茄 → 西红柿); the cache key is what is searched
  const search = p.q ? querySpellings(p.q, await synonymGroups(svc)) : [];
  const key = keys.list(staff, { ...p, q: search.length ? search : undefined, status });
  return svc.cache.through(key, LIST_TTL, async () => {
    const categoryIds = p.categoryId !== undefined ? await categoryFilter(svc, p.categoryId) : undefined;
    if (p.brandId !== undefined && !(await listBrands(svc)).some((b) => b.id === p.brandId)) {
      throw bizError("BRAND_NOT_FOUND", `brand ${p.brandId} not found`);
    }
    return svc.searchGate(() => listProducts(svc.reader, { ...p, search, categoryIds, status }));
  });
}

async function availability(ctx: Ctx<unknown>, skuIds: number[]): Promise<Map<number, number> | null> {
  if (!skuIds.length) return new Map();
  try {
    const levels = await callAction(ctx, InventoryCalls.getMany, { skuIds }, { timeout: 3000, retries: 0 });
    return new Map(levels.map((l) => [Number(l.skuId), Number(l.available)]));
  } catch (err) {
    ctx.service?.logger.warn(`inventory.getMany failed, availability unknown: ${(err as Error).message}`);
    return null;
  }
}

function skuView(s: SkuModel, stock: Map<number, number> | null): SkuView {
  return {
    id: s.id,
    skuCode: s.skuCode,
    attrs: s.attrs,
    price: s.price,
    currency: s.currency,
    imageUrl: s.imageUrl,
    // a SKU inventory has no row for cannot be bought: 0; inventory not answering: unknown
    available: stock ? (stock.get(s.id) ?? 0) : null,
  };
}

/** The full detail from the database, or null for an unknown or deleted product. */
async function loadDetail(svc: CatalogService, ctx: Ctx<unknown>, id: number): Promise<ProductDetail | null> {
  const { Product, Sku } = svc.models;
  const p = await Product.findOne({ where: { id, deletedAt: null } });
  if (!p) return null;
  const skus = await Sku.findAll({ where: { productId: id }, order: [["id", "ASC"]] });
  const [stock, brands] = await Promise.all([availability(ctx, skus.map((s) => s.id)), p.brandId ? listBrands(svc) : Promise.resolve([])]);
  return {
    id: p.id,
    title: p.title,
    subtitle: p.subtitle,
    description: p.description,
    images: p.images,
    categoryId: p.categoryId,
    brandId: p.brandId,
    brand: brands.find((b) => b.id === p.brandId) ?? null,
    status: p.status === "ON_SALE" ? "ON_SALE" : "OFF_SALE",
    minPrice: p.minPrice,
    maxPrice: p.maxPrice,
    currency: p.currency,
    sales: p.sales,
    rating: Number(p.rating),
    reviewCount: p.reviewCount,
    skus: skus.map((s) => skuView(s, stock)),
    createdAt: new Date(p.createdAt).toISOString(),
    updatedAt: new Date(p.updatedAt).toISOString(),
  };
}

/** Detail as the caller may see it: customers get 404 for off-sale products. */
export async function productDetail(svc: CatalogService, ctx: Ctx<unknown>, id: number): Promise<ProductDetail> {
  // only complete views are cached: without availability the next read asks inventory again
  const d = await svc.cache.through(keys.detail(id), DETAIL_TTL, () => loadDetail(svc, ctx, id), (v) => !!v && v.skus.every((s) => s.available !== null));
  if (!d || (d.status !== "ON_SALE" && !isStaff(ctx))) throw bizError("PRODUCT_NOT_FOUND", `product ${id} not found`);
  return d;
}

async function invalidateProduct(svc: CatalogService, id: number) {
  await svc.cache.invalidate([keys.detail(id)], [LIST_PATTERN]);
}

/** Give each new SKU its starting stock (inventory.init is idempotent). Failures are reported, not fatal. */
async function initStock(ctx: Ctx<unknown>, skus: { skuId: number; stock: number }[]): Promise<string[]> {
  const warnings: string[] = [];
  await Promise.all(
    skus.map(async (s) => {
      try {
        await callAction(ctx, InventoryCalls.init, { skuId: s.skuId, onHand: s.stock });
      } catch (err) {
        warnings.push(`stock for SKU ${s.skuId} was not initialised (${(err as Error).message}); set it with POST /inventory/${s.skuId}/adjust`);
      }
    }),
  );
  if (warnings.length) ctx.service?.logger.warn(warnings.join("; "));
  return warnings;
}

async function assertSkuCodesFree(svc: CatalogService, codes: string[], t: Transaction, exceptSkuId?: number) {
  const seen = new Set<string>();
  for (const c of codes) {
    if (seen.has(c)) throw bizError("SKU_CODE_TAKEN", `SKU code ${c} appears twice`, { skuCode: c });
    seen.add(c);
  }
  const taken = await svc.models.Sku.findAll({
    where: { skuCode: { [Op.in]: codes }, ...(exceptSkuId ? { id: { [Op.ne]: exceptSkuId } } : {}) },
    attributes: ["skuCode"],
    transaction: t,
  });
  if (taken.length) throw bizError("SKU_CODE_TAKEN", `SKU code ${taken[0].skuCode} is already used`, { skuCode: taken[0].skuCode });
}

function skuCodeRace(err: unknown): never {
  if (isUniqueViolation(err)) throw bizError("SKU_CODE_TAKEN");
  throw err;
}

/** min/max price follow the SKUs; recomputed from the rows in the same transaction. */
async function refreshPriceSpan(svc: CatalogService, productId: number, t: Transaction) {
  await svc.sequelize.query(
    `UPDATE products SET min_price = (SELECT MIN(price) FROM skus WHERE product_id = ?),
                         max_price = (SELECT MAX(price) FROM skus WHERE product_id = ?), updated_at = ?
      WHERE id = ?`,
    { replacements: [productId, productId, new Date(), productId], transaction: t },
  );
  await syncSearchFacets(svc.sequelize, productId, t);
}

export async function createProduct(svc: CatalogService, ctx: Ctx<unknown>, p: ProductInput) {
  const skus = p.skus.map((s) => ({ ...s, skuCode: normaliseSkuCode(s.skuCode) }));
  const created = await svc
    .tx(async (t) => {
      await requireCategory(svc, p.categoryId, t);
      if (p.brandId) await requireBrand(svc, p.brandId, t);
      await assertSkuCodesFree(svc, skus.map((s) => s.skuCode), t);
      const span = priceSpan(skus.map((s) => s.price));
      const product = await svc.models.Product.create(
        {
          title: p.title,
          subtitle: p.subtitle ?? "",
          description: p.description ?? "",
          categoryId: p.categoryId,
          brandId: p.brandId ?? null,
          images: p.images ?? [],
          status: p.status ?? "ON_SALE",
          ...span,
        },
        { transaction: t },
      );
      const rows: { skuId: number; stock: number }[] = [];
      for (const s of skus) {
        const sku = await svc.models.Sku.create(
          { productId: product.id, skuCode: s.skuCode, attrs: s.attrs ?? {}, price: s.price, imageUrl: s.imageUrl ?? null },
          { transaction: t },
        );
        rows.push({ skuId: sku.id, stock: s.stock ?? 0 });
      }
      await reindexProduct(svc.sequelize, product.id, indexTerms(product.title, product.subtitle), t);
      return { id: product.id, rows };
    })
    .catch(skuCodeRace);
  const warnings = await initStock(ctx, created.rows);
  await invalidateProduct(svc, created.id);
  const detail = await loadDetail(svc, ctx, created.id);
  return warnings.length ? { ...detail, warnings } : detail;
}

async function requireProduct(svc: CatalogService, id: number, t: Transaction): Promise<ProductModel> {
  const p = await svc.models.Product.findOne({ where: { id, deletedAt: null }, transaction: t, lock: t.LOCK.UPDATE });
  if (!p) throw bizError("PRODUCT_NOT_FOUND", `product ${id} not found`);
  return p;
}

export async function updateProduct(svc: CatalogService, ctx: Ctx<unknown>, id: number, patch: Partial<Omit<ProductInput, "skus">>) {
  await svc.tx(async (t) => {
    const p = await requireProduct(svc, id, t);
    if (patch.categoryId !== undefined) await requireCategory(svc, patch.categoryId, t);
    if (patch.brandId) await requireBrand(svc, patch.brandId, t);
    const reindex = (patch.title !== undefined && patch.title !== p.title) || (patch.subtitle !== undefined && patch.subtitle !== p.subtitle);
    const changes = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    await p.update(changes, { transaction: t });
    // a new title re-indexes with the new facets; otherwise status, category or brand may move
    if (reindex) await reindexProduct(svc.sequelize, id, indexTerms(p.title, p.subtitle), t);
    else if (patch.status !== undefined || patch.categoryId !== undefined || patch.brandId !== undefined) await syncSearchFacets(svc.sequelize, id, t);
  });
  await invalidateProduct(svc, id);
  return loadDetail(svc, ctx, id);
}

/** Soft delete: order history still refers to the SKUs; the product disappears everywhere else. */
export async function deleteProduct(svc: CatalogService, id: number) {
  await svc.tx(async (t) => {
    await requireProduct(svc, id, t);
    await svc.sequelize.query("UPDATE products SET deleted_at = ?, status = 'DELETED', updated_at = ? WHERE id = ?", {
      replacements: [new Date(), new Date(), id],
      transaction: t,
    });
    await svc.sequelize.query("DELETE FROM product_search_terms WHERE product_id = ?", { replacements: [id], transaction: t });
  });
  await invalidateProduct(svc, id);
  return { id, deleted: true };
}

export async function addSku(svc: CatalogService, ctx: Ctx<unknown>, productId: number, s: SkuInput) {
  const skuCode = normaliseSkuCode(s.skuCode);
  const skuId = await svc
    .tx(async (t) => {
      await requireProduct(svc, productId, t);
      await assertSkuCodesFree(svc, [skuCode], t);
      const sku = await svc.models.Sku.create(
        { productId, skuCode, attrs: s.attrs ?? {}, price: s.price, imageUrl: s.imageUrl ?? null },
        { transaction: t },
      );
      await refreshPriceSpan(svc, productId, t);
      return sku.id;
    })
    .catch(skuCodeRace);
  const warnings = await initStock(ctx, [{ skuId, stock: s.stock ?? 0 }]);
  await invalidateProduct(svc, productId);
  const detail = await loadDetail(svc, ctx, productId);
  const sku = detail!.skus.find((x) => x.id === skuId)!;
  return warnings.length ? { ...sku, warnings } : sku;
}

export async function updateSku(svc: CatalogService, ctx: Ctx<unknown>, productId: number, skuId: number, patch: Partial<Omit<SkuInput, "stock">>) {
  await svc
    .tx(async (t) => {
      await requireProduct(svc, productId, t);
      const sku = await svc.models.Sku.findOne({ where: { id: skuId, productId }, transaction: t, lock: t.LOCK.UPDATE });
      if (!sku) throw bizError("SKU_NOT_FOUND", `SKU ${skuId} not found on product ${productId}`);
      const changes: Record<string, unknown> = {};
      if (patch.skuCode !== undefined) {
        changes.skuCode = normaliseSkuCode(patch.skuCode);
        await assertSkuCodesFree(svc, [changes.skuCode as string], t, skuId);
      }
      if (patch.attrs !== undefined) changes.attrs = patch.attrs;
      if (patch.price !== undefined) changes.price = patch.price;
      if (patch.imageUrl !== undefined) changes.imageUrl = patch.imageUrl;
      await sku.update(changes, { transaction: t });
      if (patch.price !== undefined) await refreshPriceSpan(svc, productId, t);
    })
    .catch(skuCodeRace);
  await invalidateProduct(svc, productId);
  const detail = await loadDetail(svc, ctx, productId);
  return detail!.skus.find((x) => x.id === skuId)!;
}

interface SkuRow {
  id: number;
  product_id: number;
  sku_code: string;
  attrs: string;
  price: number | string;
  currency: string;
  image_url: string | null;
  title: string;
  status: ProductStatus;
  images: string;
  category_id: number;
  deleted_at: Date | string | null;
}

function parseJson<T>(raw: string, fallback: T): T {
  try {
    return JSON.parse(raw) as T;
  } catch {
    return fallback;
  }
}

/** Current SKU facts for cart and orders (never cached: prices must be live). */
export async function getSkus(svc: CatalogService, ids: number[]): Promise<SkuSnapshot[]> {
  const unique = [...new Set(ids)];
  if (!unique.length) return [];
  const rows = await svc.sequelize.query<SkuRow>(
    `SELECT s.id, s.product_id, s.sku_code, s.attrs, s.price, s.currency, s.image_url,
            p.title, p.status, p.images, p.category_id, p.deleted_at
       FROM skus s JOIN products p ON p.id = s.product_id
      WHERE s.id IN (${unique.map(() => "?").join(", ")})`,
    { replacements: unique, type: QueryTypes.SELECT },
  );
  const categories = rows.length ? await loadCategories(svc) : [];
  return rows.map((r) => ({
    skuId: Number(r.id),
    productId: Number(r.product_id),
    skuCode: r.sku_code,
    title: r.title,
    attrs: parseJson(r.attrs, {}),
    price: Number(r.price),
    currency: r.currency,
    status: r.deleted_at || r.status !== "ON_SALE" ? "OFF_SALE" : "ON_SALE",
    imageUrl: r.image_url ?? parseJson<string[]>(r.images, [])[0] ?? null,
    categoryId: Number(r.category_id),
    categoryPath: ancestorIds(categories, Number(r.category_id)),
  }));
}

/**
 * Count units sold. Each product's counter moves with one `sales = sales + ?` (atomic, no
 * read-modify-write). With `ref` (e.g. the order number) a retried call changes nothing.
 */
export async function addSales(svc: CatalogService, lines: { skuId: number; quantity: number }[], ref?: string): Promise<AddSalesResult> {
  const perSku = new Map<number, number>();
  for (const l of lines) perSku.set(l.skuId, (perSku.get(l.skuId) ?? 0) + l.quantity);
  const result = await svc
    .tx(async (t) => {
      if (ref) {
        await svc.sequelize.query("INSERT INTO processed_events (consumer, event_id, created_at) VALUES (?, ?, ?)", {
          replacements: ["catalog.sales", ref, new Date()],
          transaction: t,
        });
      }
      const skuIds = [...perSku.keys()];
      const rows = await svc.sequelize.query<{ id: number; product_id: number }>(
        `SELECT id, product_id FROM skus WHERE id IN (${skuIds.map(() => "?").join(", ")})`,
        { replacements: skuIds, transaction: t, type: QueryTypes.SELECT },
      );
      const missing = skuIds.filter((id) => !rows.some((r) => Number(r.id) === id));
      if (missing.length) throw bizError("SKU_NOT_FOUND", `unknown SKU ${missing.join(", ")}`, { skuIds: missing });
      const perProduct = new Map<number, number>();
      for (const r of rows) perProduct.set(Number(r.product_id), (perProduct.get(Number(r.product_id)) ?? 0) + perSku.get(Number(r.id))!);
      for (const [productId, qty] of perProduct) {
        await svc.sequelize.query("UPDATE products SET sales = sales + ? WHERE id = ?", { replacements: [qty, productId], transaction: t });
      }
      return { updated: perProduct.size, productIds: [...perProduct.keys()] };
    })
    .catch((err) => {
      if (ref && isUniqueViolation(err)) return { updated: 0, productIds: [] as number[] };
      throw err;
    });
  // sales shows on the detail at once; list orderings by sales catch up within the list TTL
  if (result.productIds.length) await svc.cache.invalidate(result.productIds.map(keys.detail));
  return { updated: result.updated };
}

/** Inventory moved: drop the details that show those SKUs' availability. */
export async function onStockChanged(svc: CatalogService, skuIds: number[]) {
  const ids = [...new Set(skuIds.map(Number).filter((n) => Number.isSafeInteger(n) && n > 0))].slice(0, 1000);
  if (!ids.length) return;
  const rows = await svc.sequelize.query<{ product_id: number }>(
    `SELECT DISTINCT product_id FROM skus WHERE id IN (${ids.map(() => "?").join(", ")})`,
    { replacements: ids, type: QueryTypes.SELECT },
  );
  if (rows.length) await svc.cache.invalidate(rows.map((r) => keys.detail(Number(r.product_id))));
}

export async function listReviews(svc: CatalogService, ctx: Ctx<unknown>, productId: number, page: number, pageSize: number) {
  await productDetail(svc, ctx, productId); // 404 for unknown / hidden products
  const { rows, count } = await svc.models.Review.findAndCountAll({
    where: { productId },
    order: [["id", "DESC"]],
    limit: pageSize,
    offset: (page - 1) * pageSize,
  });
  const items = rows.map((r) => {
    const v = r.get() as { id: number; userId: number; skuId: number; rating: number; content: string; createdAt: Date };
    return { id: v.id, userId: v.userId, skuId: v.skuId, rating: v.rating, content: v.content, createdAt: new Date(v.createdAt).toISOString() };
  });
  return { items, total: count, page, pageSize };
}
