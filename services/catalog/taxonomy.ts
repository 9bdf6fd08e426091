/**
 * Categories (a tree) and brands: reads are cached, writes lock what they check so a concurrent
 * product insert cannot slip into a category being deleted (MySQL row locks; SQLite writers are
 * serialised).
 */
import { QueryTypes, Transaction } from "sequelize";
import { isUniqueViolation } from "../shared/db";
import { bizError } from "../shared/errors";
import { TAXONOMY_TTL, keys } from "./cache";
import type { Brand } from "./catalog.contracts";
import type { CatalogService } from "./catalog-types";
import { CategoryRow, buildTree, createsCycle, subtreeIds } from "./domain/category-tree";

const LIST_PATTERN = "catalog.list:**";

export async function loadCategories(svc: CatalogService): Promise<CategoryRow[]> {
  return svc.cache.through(keys.categories, TAXONOMY_TTL, async () => {
    const rows = await svc.sequelize.query<{ id: number; name: string; parent_id: number | null; sort: number }>(
      "SELECT id, name, parent_id, sort FROM categories",
      { type: QueryTypes.SELECT },
    );
    return rows.map((r) => ({ id: Number(r.id), name: r.name, parentId: r.parent_id === null ? null : Number(r.parent_id), sort: Number(r.sort) }));
  });
}

export async function categoryTree(svc: CatalogService) {
  return buildTree(await loadCategories(svc));
}

/** The category and its descendants; 404 when it does not exist. */
export async function categoryFilter(svc: CatalogService, id: number): Promise<number[]> {
  const rows = await loadCategories(svc);
  if (!rows.some((r) => r.id === id)) throw bizError("CATEGORY_NOT_FOUND", `category ${id} not found`);
  return subtreeIds(rows, id);
}

/** Lock a category row for the rest of `t` (shared: it must keep existing). 404 when absent. */
export async function requireCategory(svc: CatalogService, id: number, t: Transaction, mode: "share" | "update" = "share") {
  const row = await svc.models.Category.findByPk(id, { transaction: t, lock: mode === "share" ? t.LOCK.SHARE : t.LOCK.UPDATE });
  if (!row) throw bizError("CATEGORY_NOT_FOUND", `category ${id} not found`);
  return row;
}

export async function requireBrand(svc: CatalogService, id: number, t: Transaction, mode: "share" | "update" = "share") {
  const row = await svc.models.Brand.findByPk(id, { transaction: t, lock: mode === "share" ? t.LOCK.SHARE : t.LOCK.UPDATE });
  if (!row) throw bizError("BRAND_NOT_FOUND", `brand ${id} not found`);
  return row;
}

async function invalidateCategories(svc: CatalogService) {
  await svc.cache.invalidate([keys.categories], [LIST_PATTERN]);
}

export async function createCategory(svc: CatalogService, p: { name: string; parentId?: number | null; sort?: number }) {
  const row = await svc.tx(async (t) => {
    if (p.parentId !== undefined && p.parentId !== null) await requireCategory(svc, p.parentId, t);
    return svc.models.Category.create({ name: p.name, parentId: p.parentId ?? null, sort: p.sort ?? 0 }, { transaction: t });
  });
  await invalidateCategories(svc);
  return { id: row.id, name: row.name, parentId: row.parentId, sort: row.sort };
}

export async function updateCategory(svc: CatalogService, id: number, p: { name?: string; parentId?: number | null; sort?: number }) {
  const row = await svc.tx(async (t) => {
    const cat = await requireCategory(svc, id, t, "update");
    if (p.parentId !== undefined && p.parentId !== cat.parentId) {
      // moves are rare: lock every category so two concurrent moves cannot form a cycle together
      const lock = svc.sequelize.getDialect() === "sqlite" ? "" : " FOR UPDATE";
      const all = await svc.sequelize.query<{ id: number; parent_id: number | null }>(`SELECT id, parent_id FROM categories${lock}`, {
        transaction: t,
        type: QueryTypes.SELECT,
      });
      const rows = all.map((r) => ({ id: Number(r.id), name: "", parentId: r.parent_id === null ? null : Number(r.parent_id), sort: 0 }));
      if (p.parentId !== null && !rows.some((r) => r.id === p.parentId)) {
        throw bizError("CATEGORY_NOT_FOUND", `parent category ${p.parentId} not found`);
      }
      if (createsCycle(rows, id, p.parentId)) {
        throw bizError("CATEGORY_CYCLE", `category ${id} cannot be moved under ${p.parentId}: it would become its own ancestor`, {
          id,
          parentId: p.parentId,
        });
      }
    }
    await cat.update(
      { ...(p.name !== undefined ? { name: p.name } : {}), ...(p.parentId !== undefined ? { parentId: p.parentId } : {}), ...(p.sort !== undefined ? { sort: p.sort } : {}) },
      { transaction: t },
    );
    return cat;
  });
  await invalidateCategories(svc);
  return { id: row.id, name: row.name, parentId: row.parentId, sort: row.sort };
}

export async function deleteCategory(svc: CatalogService, id: number) {
  await svc.tx(async (t) => {
    await requireCategory(svc, id, t, "update");
    const [counts] = await svc.sequelize.query<{ children: number; products: number }>(
      `SELECT (SELECT COUNT(*) FROM categories WHERE parent_id = ?) AS children,
              (SELECT COUNT(*) FROM products WHERE category_id = ? AND status <> 'DELETED') AS products`,
      { replacements: [id, id], transaction: t, type: QueryTypes.SELECT },
    );
    if (Number(counts.children) > 0 || Number(counts.products) > 0) {
      throw bizError("CATEGORY_NOT_EMPTY", undefined, { children: Number(counts.children), products: Number(counts.products) });
    }
    await svc.models.Category.destroy({ where: { id }, transaction: t });
  });
  await invalidateCategories(svc);
  return { id, deleted: true };
}

function brandView(b: { id: number; name: string; logoUrl: string | null }): Brand {
  return { id: Number(b.id), name: b.name, logoUrl: b.logoUrl ?? null };
}

export async function listBrands(svc: CatalogService): Promise<Brand[]> {
  return svc.cache.through(keys.brands, TAXONOMY_TTL, async () => {
    const rows = await svc.models.Brand.findAll({ order: [["name", "ASC"]] });
    return rows.map(brandView);
  });
}

async function invalidateBrands(svc: CatalogService) {
  // detail pages embed the brand
  await svc.cache.invalidate([keys.brands], [LIST_PATTERN, "catalog.detail:**"]);
}

function nameTaken(err: unknown, name: string): never {
  if (isUniqueViolation(err)) throw bizError("BRAND_NAME_TAKEN", `brand "${name}" already exists`, { name });
  throw err;
}

export async function createBrand(svc: CatalogService, p: { name: string; logoUrl?: string | null }) {
  const row = await svc.tx((t) => svc.models.Brand.create({ name: p.name, logoUrl: p.logoUrl ?? null }, { transaction: t })).catch((e) => nameTaken(e, p.name));
  await invalidateBrands(svc);
  return brandView(row);
}

export async function updateBrand(svc: CatalogService, id: number, p: { name?: string; logoUrl?: string | null }) {
  const row = await svc
    .tx(async (t) => {
      const b = await requireBrand(svc, id, t, "update");
      await b.update({ ...(p.name !== undefined ? { name: p.name } : {}), ...(p.logoUrl !== undefined ? { logoUrl: p.logoUrl } : {}) }, { transaction: t });
      return b;
    })
    .catch((e) => nameTaken(e, p.name ?? ""));
  await invalidateBrands(svc);
  return brandView(row);
}

export async function deleteBrand(svc: CatalogService, id: number) {
  await svc.tx(async (t) => {
    await requireBrand(svc, id, t, "update");
    const n = await svc.models.Product.count({ where: { brandId: id, deletedAt: null }, transaction: t });
    if (n > 0) throw bizError("BRAND_IN_USE", undefined, { products: n });
    await svc.models.Brand.destroy({ where: { id }, transaction: t });
  });
  await invalidateBrands(svc);
  return { id, deleted: true };
}
