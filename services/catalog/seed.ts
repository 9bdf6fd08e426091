/**
 * Loading the demo catalog (seed-data.ts). Runs on catalog start when SEED_DEMO is on (the
 * embedded default) and the catalog is empty, and from `npm run seed` (which does not require
 * an empty catalog). A marker row written in the same transaction as the data means it is
 * loaded at most once per database, even with several catalog nodes starting together.
 *
 * Stock is inventory's: it is set through `inventory.init` after the catalog rows commit, and a
 * second marker records that, so a start that finds the catalog seeded but the stock not yet
 * initialised (inventory was down) finishes the job.
 */
import { QueryTypes, Transaction } from "sequelize";
import { isUniqueViolation, withTransaction } from "../shared/db";
import { insertProductBatch } from "./bulk";
import type { CatalogService } from "./catalog-types";
import { normaliseSkuCode } from "./products";
import { DEMO_BRANDS, DEMO_CATEGORIES, DEMO_PRODUCTS, DEMO_SEED_MARKER } from "./seed-data";
import { callAction } from "../shared/actions";
import { InventoryCalls } from "../inventory/inventory.contracts";

const STOCK_MARKER = `${DEMO_SEED_MARKER.id}-stock`;

export interface SeedResult {
  products: number;
  skus: number;
  stockInitialised: number;
  skipped?: string;
}

async function hasMarker(svc: CatalogService, id: string): Promise<boolean> {
  const rows = await svc.sequelize.query("SELECT 1 AS x FROM processed_events WHERE consumer = ? AND event_id = ?", {
    replacements: [DEMO_SEED_MARKER.consumer, id],
    type: QueryTypes.SELECT,
  });
  return rows.length > 0;
}

async function putMarker(svc: CatalogService, id: string, t?: Transaction) {
  await svc.sequelize.query("INSERT INTO processed_events (consumer, event_id, created_at) VALUES (?, ?, ?)", {
    replacements: [DEMO_SEED_MARKER.consumer, id, new Date()],
    transaction: t,
  });
}

async function insertDemo(svc: CatalogService, t: Transaction): Promise<number> {
  await putMarker(svc, DEMO_SEED_MARKER.id, t);
  const { Category, Brand } = svc.models;
  const catIds = new Map<string, number>();
  for (const c of DEMO_CATEGORIES) {
    const row = await Category.create({ name: c.name, parentId: c.parent ? catIds.get(c.parent)! : null, sort: c.sort ?? 0 }, { transaction: t });
    catIds.set(c.key, row.id);
  }
  const brandIds = new Map<string, number>();
  for (const b of DEMO_BRANDS) {
    const row = await Brand.create({ name: b, logoUrl: null }, { transaction: t });
    brandIds.set(b, row.id);
  }
  const created = await insertProductBatch(
    svc.sequelize,
    DEMO_PRODUCTS.map((p) => ({
      title: p.title,
      subtitle: p.subtitle,
      description: `${p.title} — ${p.subtitle}`,
      categoryId: catIds.get(p.category)!,
      brandId: p.brand ? brandIds.get(p.brand)! : null,
      status: p.status ?? "ON_SALE",
      sales: p.sales,
      images: [],
      skus: p.skus.map((s) => ({ skuCode: normaliseSkuCode(s.code), attrs: s.attrs, price: s.price })),
    })),
    t,
  );
  return created.length;
}

async function waitForInventory(svc: CatalogService, timeoutMs: number, stopping: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!stopping() && Date.now() < deadline) {
    if ((svc.broker.registry as unknown as { hasService(name: string, nodeID?: string): boolean }).hasService("inventory")) return true;
    await new Promise<void>((r) => setTimeout(r, 200).unref());
  }
  return false;
}

async function initDemoStock(svc: CatalogService, stopping: () => boolean): Promise<number> {
  if (await hasMarker(svc, STOCK_MARKER)) return 0;
  if (!(await waitForInventory(svc, 60_000, stopping))) {
    svc.logger.warn("demo catalog: inventory service not available, stock not initialised (run `npm run seed` later)");
    return 0;
  }
  const stockByCode = new Map(DEMO_PRODUCTS.flatMap((p) => p.skus.map((s) => [normaliseSkuCode(s.code), s.stock] as const)));
  const rows = await svc.sequelize.query<{ id: number; sku_code: string }>(
    `SELECT id, sku_code FROM skus WHERE sku_code IN (${[...stockByCode.keys()].map(() => "?").join(", ")})`,
    { replacements: [...stockByCode.keys()], type: QueryTypes.SELECT },
  );
  for (const r of rows) {
    await callAction(svc.broker, InventoryCalls.init, { skuId: Number(r.id), onHand: stockByCode.get(r.sku_code) ?? 0 });
  }
  await putMarker(svc, STOCK_MARKER).catch((err) => {
    if (!isUniqueViolation(err)) throw err;
  });
  return rows.length;
}

export async function seedDemoCatalog(
  svc: CatalogService,
  opts: { force?: boolean; stopping?: () => boolean } = {},
): Promise<SeedResult> {
  const stopping = opts.stopping ?? (() => false);
  const result: SeedResult = { products: 0, skus: 0, stockInitialised: 0 };
  if (!(await hasMarker(svc, DEMO_SEED_MARKER.id))) {
    if (!opts.force && (await svc.models.Product.count()) > 0) return { ...result, skipped: "the catalog already has products" };
    try {
      result.skus = await withTransaction(svc.sequelize, (t) => insertDemo(svc, t));
      result.products = DEMO_PRODUCTS.length;
      await svc.cache.invalidate([], ["catalog.**"]);
      svc.logger.info(`demo catalog loaded: ${result.products} products, ${result.skus} SKUs`);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // another node loaded it (marker) — or a demo SKU code is already taken: report, change nothing
      return { ...result, skipped: "the demo catalog is already loaded or its SKU codes are taken" };
    }
  } else {
    result.skipped = "the demo catalog was loaded before";
  }
  result.stockInitialised = await initDemoStock(svc, stopping);
  if (result.stockInitialised) await svc.cache.invalidate([], ["catalog.detail:**"]);
  return result;
}
