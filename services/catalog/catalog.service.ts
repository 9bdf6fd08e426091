/**
 * Catalog: categories (tree), brands, products (SPU) with SKUs, keyword search, cached detail
 * with live availability from inventory, image uploads, and the internal actions cart and
 * orders use (`getSkus`, `addSales`). The schema declares params, auth and routes; the work is
 * in products.ts, taxonomy.ts, uploads.ts and domain/.
 */
import fs from "node:fs";
import type { Readable } from "node:stream";
import type { ServiceSchema } from "moleculer";
import { DbMixin } from "../../mixins/db.mixin";
import { defineCatalogModels } from "../../models/catalog";
import { configOf } from "../shared/config";
import { s } from "../shared/schema";
import { bizError } from "../shared/errors";
import { CatalogCache } from "./cache";
import {
  AddSalesParams,
  BrandSchema,
  CatalogEvents,
  CategoryNodeSchema,
  CategorySchema,
  DeletedSchema,
  GetSkusParams,
  PRODUCT_STATUSES,
  ProductCreatedSchema,
  ProductDetailSchema,
  ProductPageSchema,
  ReviewPageSchema,
  SkuCreatedSchema,
  SkuSchema,
  StockChangedEvent,
  SynonymGroupSchema,
  UploadBodySchema,
  UploadResult,
  UploadResultSchema,
} from "./catalog.contracts";
import { CatalogService, Ctx } from "./catalog-types";
import { MAX_UPLOAD_BYTES, checkUpload, mimeOfStoredName } from "./domain/image-type";
import { MAX_PAGE_SIZE, SORTS } from "./domain/listing";
import { MAX_QUANTITY, priceFilterRule, priceRule, stockRule } from "./domain/money";
import * as products from "./products";
import ReviewsMixin from "./reviews.mixin";
import { createReader } from "./read-pool";
import { seedDemoCatalog } from "./seed";
import * as taxonomy from "./taxonomy";
import * as synonyms from "./synonyms";
import { created } from "../shared/created";
import { TooLargeError, readLimited, statStored, storeImage } from "./uploads";
import { searchGate } from "./search-gate";

const ADMIN = ["operator", "admin"];
const id = { type: "number", integer: true, positive: true, convert: true };
const optionalId = { ...id, optional: true };
const page = {
  page: { type: "number", integer: true, min: 1, max: 10_000, convert: true, default: 1 },
  pageSize: { type: "number", integer: true, min: 1, max: MAX_PAGE_SIZE, convert: true, default: 20 },
};
const name = { type: "string", trim: true, min: 1, max: 64 };
const imageUrl = { type: "string", trim: true, max: 512, pattern: "^(https?://|/)\\S+$" };
const skuCode = { type: "string", trim: true, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" };
const attrs = { type: "record", key: { type: "string", min: 1, max: 32 }, value: { type: "string", max: 64 } };
const skuFields = { skuCode, attrs: { ...attrs, optional: true }, price: priceRule, imageUrl: { ...imageUrl, optional: true, nullable: true } };
const productFields = {
  title: { type: "string", trim: true, min: 1, max: 200 },
  subtitle: { type: "string", trim: true, max: 300, optional: true },
  description: { type: "string", max: 20_000, optional: true },
  categoryId: id,
  brandId: { ...id, optional: true, nullable: true },
  images: { type: "array", items: imageUrl, max: 20, optional: true },
  status: { type: "enum", values: PRODUCT_STATUSES, optional: true },
};
const synonymParams = { words: { type: "array", min: 2, max: 10, items: { type: "string", trim: true, min: 1, max: 32 } } };
const optional = <T extends Record<string, object>>(rules: T) =>
  Object.fromEntries(Object.entries(rules).map(([k, v]) => [k, { ...v, optional: true }])) as T;

const CatalogSchema = {
  name: "catalog",
  mixins: [DbMixin({ service: "catalog", define: defineCatalogModels, primary: "Product" }), ReviewsMixin],
  settings: { rest: "/" },

  actions: {
    // ---- categories
    categories: {
      rest: "GET /categories", auth: false, summary: "Category tree",
      openapi: { response: s.array(CategoryNodeSchema) },
      handler(this: CatalogService) { return taxonomy.categoryTree(this); },
    },
    createCategory: {
      rest: "POST /categories", roles: ADMIN, idempotent: true, summary: "Create a category (admin)",
      openapi: { status: 201, response: CategorySchema, errors: ["CATEGORY_NOT_FOUND"] },
      params: { name, parentId: { ...id, optional: true, nullable: true }, sort: { type: "number", integer: true, min: -1_000_000, max: 1_000_000, optional: true } },
      handler(this: CatalogService, ctx: Ctx<{ name: string; parentId?: number | null; sort?: number }>) {
        created(ctx, "/categories");
        return taxonomy.createCategory(this, ctx.params);
      },
    },
    updateCategory: {
      rest: "PATCH /categories/:id", roles: ADMIN, summary: "Rename, move or reorder a category (admin)",
      openapi: { response: CategorySchema, errors: ["CATEGORY_NOT_FOUND", "CATEGORY_CYCLE"] },
      params: { id, name: { ...name, optional: true }, parentId: { ...id, optional: true, nullable: true }, sort: { type: "number", integer: true, min: -1_000_000, max: 1_000_000, optional: true } },
      handler(this: CatalogService, ctx: Ctx<{ id: number; name?: string; parentId?: number | null; sort?: number }>) {
        const { id: cid, ...patch } = ctx.params;
        return taxonomy.updateCategory(this, cid, patch);
      },
    },
    deleteCategory: {
      rest: "DELETE /categories/:id", roles: ADMIN, summary: "Delete an empty category (admin)", params: { id },
      openapi: { response: DeletedSchema, errors: ["CATEGORY_NOT_FOUND", "CATEGORY_NOT_EMPTY"] },
      handler(this: CatalogService, ctx: Ctx<{ id: number }>) { return taxonomy.deleteCategory(this, ctx.params.id); },
    },

    // ---- brands
    brands: {
      rest: "GET /brands", auth: false, summary: "All brands",
      openapi: { response: s.array(BrandSchema) },
      handler(this: CatalogService) { return taxonomy.listBrands(this); },
    },
    createBrand: {
      rest: "POST /brands", roles: ADMIN, idempotent: true, summary: "Create a brand (admin)", params: { name, logoUrl: { ...imageUrl, optional: true, nullable: true } },
      openapi: { status: 201, response: BrandSchema, errors: ["BRAND_NAME_TAKEN"] },
      handler(this: CatalogService, ctx: Ctx<{ name: string; logoUrl?: string | null }>) {
        created(ctx, "/brands");
        return taxonomy.createBrand(this, ctx.params);
      },
    },
    updateBrand: {
      rest: "PATCH /brands/:id", roles: ADMIN, summary: "Update a brand (admin)",
      openapi: { response: BrandSchema, errors: ["BRAND_NOT_FOUND", "BRAND_NAME_TAKEN"] },
      params: { id, name: { ...name, optional: true }, logoUrl: { ...imageUrl, optional: true, nullable: true } },
      handler(this: CatalogService, ctx: Ctx<{ id: number; name?: string; logoUrl?: string | null }>) {
        const { id: bid, ...patch } = ctx.params;
        return taxonomy.updateBrand(this, bid, patch);
      },
    },
    deleteBrand: {
      rest: "DELETE /brands/:id", roles: ADMIN, summary: "Delete a brand without products (admin)", params: { id },
      openapi: { response: DeletedSchema, errors: ["BRAND_NOT_FOUND", "BRAND_IN_USE"] },
      handler(this: CatalogService, ctx: Ctx<{ id: number }>) { return taxonomy.deleteBrand(this, ctx.params.id); },
    },

    // ---- products
    list: {
      rest: "GET /products", auth: "optional", summary: "Product list and keyword search (customers see ON_SALE only)",
      openapi: { response: ProductPageSchema, errors: ["CATEGORY_NOT_FOUND", "BRAND_NOT_FOUND"] },
      params: {
        q: { type: "string", trim: true, max: 100, optional: true },
        categoryId: optionalId,
        brandId: optionalId,
        minPrice: priceFilterRule,
        maxPrice: priceFilterRule,
        status: { type: "enum", values: PRODUCT_STATUSES, optional: true },
        sort: { type: "enum", values: SORTS, optional: true },
        ...page,
      },
      handler(this: CatalogService, ctx: Ctx<products.ListParams>) { return products.listPage(this, ctx, ctx.params); },
    },
    detail: {
      rest: "GET /products/:id", auth: "optional", summary: "Product detail with SKUs and availability", params: { id },
      openapi: { response: ProductDetailSchema, errors: ["PRODUCT_NOT_FOUND"] },
      handler(this: CatalogService, ctx: Ctx<{ id: number }>) { return products.productDetail(this, ctx, ctx.params.id); },
    },
    create: {
      rest: "POST /products", roles: ADMIN, idempotent: true, summary: "Create a product with its SKUs and starting stock (admin)",
      openapi: { status: 201, response: ProductCreatedSchema, errors: ["CATEGORY_NOT_FOUND", "BRAND_NOT_FOUND", "SKU_CODE_TAKEN"] },
      params: {
        ...productFields,
        skus: { type: "array", min: 1, max: 100, items: { type: "object", strict: true, props: { ...skuFields, stock: { ...stockRule, optional: true } } } },
      },
      async handler(this: CatalogService, ctx: Ctx<products.ProductInput>) {
        const product = await products.createProduct(this, ctx, ctx.params);
        created(ctx, `/products/${product!.id}`);
        return product;
      },
    },
    update: {
      rest: "PATCH /products/:id", roles: ADMIN, summary: "Update a product, including its status (admin)",
      openapi: { response: ProductDetailSchema, errors: ["PRODUCT_NOT_FOUND", "CATEGORY_NOT_FOUND", "BRAND_NOT_FOUND"] },
      params: { id, ...optional(productFields) },
      handler(this: CatalogService, ctx: Ctx<{ id: number } & Partial<products.ProductInput>>) {
        const { id: pid, ...patch } = ctx.params;
        return products.updateProduct(this, ctx, pid, patch);
      },
    },
    remove: {
      rest: "DELETE /products/:id", roles: ADMIN, summary: "Delete a product (admin)", params: { id },
      openapi: { response: DeletedSchema, errors: ["PRODUCT_NOT_FOUND"] },
      handler(this: CatalogService, ctx: Ctx<{ id: number }>) { return products.deleteProduct(this, ctx.params.id); },
    },
    addSku: {
      rest: "POST /products/:id/skus", roles: ADMIN, idempotent: true, summary: "Add a SKU (admin)",
      openapi: { status: 201, response: SkuCreatedSchema, errors: ["PRODUCT_NOT_FOUND", "SKU_CODE_TAKEN"] },
      params: { id, ...skuFields, stock: { ...stockRule, optional: true } },
      handler(this: CatalogService, ctx: Ctx<{ id: number } & products.SkuInput>) {
        const { id: pid, ...sku } = ctx.params;
        created(ctx, `/products/${pid}`);
        return products.addSku(this, ctx, pid, sku);
      },
    },
    updateSku: {
      rest: "PATCH /products/:id/skus/:skuId", roles: ADMIN, summary: "Change a SKU's code, attributes, price or image (admin)",
      openapi: { response: SkuSchema, errors: ["PRODUCT_NOT_FOUND", "SKU_NOT_FOUND", "SKU_CODE_TAKEN"] },
      params: { id, skuId: id, ...optional(skuFields) },
      handler(this: CatalogService, ctx: Ctx<{ id: number; skuId: number } & Partial<products.SkuInput>>) {
        const { id: pid, skuId, ...patch } = ctx.params;
        return products.updateSku(this, ctx, pid, skuId, patch);
      },
    },
    reviews: {
      rest: "GET /products/:id/reviews", auth: "optional", summary: "A product's reviews", params: { id, ...page },
      openapi: { response: ReviewPageSchema, errors: ["PRODUCT_NOT_FOUND"] },
      handler(this: CatalogService, ctx: Ctx<{ id: number; page: number; pageSize: number }>) {
        return products.listReviews(this, ctx, ctx.params.id, ctx.params.page, ctx.params.pageSize);
      },
    },

    // ---- search synonyms
    synonyms: {
      rest: "GET /admin/search/synonyms", roles: ADMIN, summary: "Synonym groups a search treats as the same word (admin)",
      openapi: { response: s.array(SynonymGroupSchema) },
      handler(this: CatalogService) { return synonyms.listSynonyms(this); },
    },
    createSynonyms: {
      rest: "POST /admin/search/synonyms", roles: ADMIN, idempotent: true,
      summary: "Add a synonym group, e.g. [\"番茄\", \"西红柿\"]: a search for one finds the others (admin)",
      openapi: { status: 201, response: SynonymGroupSchema },
      params: synonymParams,
      async handler(this: CatalogService, ctx: Ctx<{ words: string[] }>) {
        const group = await synonyms.createSynonyms(this, ctx.params.words);
        created(ctx, "/admin/search/synonyms");
        return group;
      },
    },
    updateSynonyms: {
      rest: "PUT /admin/search/synonyms/:id", roles: ADMIN, summary: "Replace the words of a synonym group (admin)",
      openapi: { response: SynonymGroupSchema, errors: ["SYNONYM_GROUP_NOT_FOUND"] },
      params: { id, ...synonymParams },
      handler(this: CatalogService, ctx: Ctx<{ id: number; words: string[] }>) { return synonyms.updateSynonyms(this, ctx.params.id, ctx.params.words); },
    },
    deleteSynonyms: {
      rest: "DELETE /admin/search/synonyms/:id", roles: ADMIN, summary: "Delete a synonym group (admin)", params: { id },
      openapi: { response: DeletedSchema, errors: ["SYNONYM_GROUP_NOT_FOUND"] },
      handler(this: CatalogService, ctx: Ctx<{ id: number }>) { return synonyms.deleteSynonyms(this, ctx.params.id); },
    },

    // ---- uploads
    upload: {
      rest: { method: "POST", path: "/uploads", type: "multipart", busboyConfig: { limits: { files: 1, fileSize: MAX_UPLOAD_BYTES, fields: 10, parts: 20 } } },
      openapi: { status: 201, response: UploadResultSchema, body: UploadBodySchema, errors: ["UPLOAD_MISSING_FILE", "UPLOAD_TOO_LARGE", "UPLOAD_INVALID_TYPE", "UNSUPPORTED_MEDIA_TYPE"] },
      roles: ADMIN,
      summary: "Upload a PNG, JPEG or WebP image up to 5 MB, multipart field 'file' (admin)",
      params: { $fieldname: "string|optional", $filename: "string|optional", $encoding: "string|optional", $mimetype: "string|optional", $$strict: "remove" },
      async handler(this: CatalogService, ctx: Ctx<{ $fieldname?: string; $filename?: string; $mimetype?: string }>): Promise<UploadResult> {
        const stream = (ctx as unknown as { stream?: Readable | null }).stream;
        if (!stream || ctx.params.$fieldname !== "file") {
          stream?.resume();
          throw bizError("UPLOAD_MISSING_FILE");
        }
        const buf = await readLimited(stream, MAX_UPLOAD_BYTES).catch((err) => {
          if (err instanceof TooLargeError) throw bizError("UPLOAD_TOO_LARGE");
          throw err;
        });
        if (!buf.length) throw bizError("UPLOAD_MISSING_FILE", "the uploaded file is empty");
        const verdict = checkUpload(buf, ctx.params.$filename, ctx.params.$mimetype);
        if (!verdict.ok) throw bizError("UPLOAD_INVALID_TYPE", `${verdict.reason}; only PNG, JPEG and WebP images are accepted`);
        const stored = await storeImage(this.cfg.uploadDir, buf, verdict.kind);
        await this.models.Upload.upsert({ name: stored, contentType: mimeOfStoredName(stored), size: buf.length, uploadedBy: ctx.meta.user?.id ?? null });
        created(ctx, `/uploads/${stored}`);
        const base = (this.cfg.publicBaseUrl ?? "").replace(/\/$/, "");
        return { url: `${base}/api/v1/uploads/${stored}`, name: stored, size: buf.length, contentType: mimeOfStoredName(stored) };
      },
    },
    file: {
      rest: "GET /uploads/:name", auth: false, summary: "An uploaded image", params: { name: { type: "string", max: 128 } },
      openapi: { raw: ["image/png", "image/jpeg", "image/webp"], errors: ["UPLOAD_NOT_FOUND"] },
      async handler(this: CatalogService, ctx: Ctx<{ name: string }>) {
        const found = await statStored(this.cfg.uploadDir, ctx.params.name);
        if (!found) throw bizError("UPLOAD_NOT_FOUND");
        ctx.meta.$raw = true;
        ctx.meta.$responseType = mimeOfStoredName(ctx.params.name);
        // names are content hashes: the bytes behind a name never change
        ctx.meta.$responseHeaders = {
          "Cache-Control": "public, max-age=31536000, immutable",
          ETag: `"${ctx.params.name.split(".")[0]}"`,
          "Content-Length": String(found.size),
          "X-Content-Type-Options": "nosniff",
        };
        return fs.createReadStream(found.file);
      },
    },

    // ---- internal (cart, orders, seed)
    getSkus: {
      visibility: "public",
      summary: "Internal: SKUs with their product, for cart pricing and checkout",
      params: { ids: { type: "array", items: { type: "number", integer: true, positive: true }, max: 500 } },
      handler(this: CatalogService, ctx: Ctx<GetSkusParams>) { return products.getSkus(this, ctx.params.ids); },
    },
    addSales: {
      visibility: "public",
      summary: "Internal: add sold units to the products' sales counts (once per ref, when one is given)",
      params: {
        lines: { type: "array", min: 1, max: 500, items: { type: "object", strict: true, props: { skuId: { type: "number", integer: true, positive: true }, quantity: { type: "number", integer: true, min: 1, max: MAX_QUANTITY } } } },
        ref: { type: "string", min: 1, max: 64, optional: true },
      },
      handler(this: CatalogService, ctx: Ctx<AddSalesParams & { ref?: string }>) { return products.addSales(this, ctx.params.lines, ctx.params.ref); },
    },
    seedDemo: {
      visibility: "public",
      summary: "Internal: load the demo catalog (npm run seed, SEED_DEMO)",
      params: { force: { type: "boolean", optional: true } },
      handler(this: CatalogService, ctx: Ctx<{ force?: boolean }>) { return seedDemoCatalog(this, { force: ctx.params.force, stopping: () => this.stopping }); },
    },
  },

  events: {
    // another catalog node changed the synonym groups: reload on the next search
    [synonyms.SYNONYMS_CHANGED]: {
      handler(this: CatalogService) { synonyms.dropSynonyms(this); },
    },
    [CatalogEvents.STOCK_CHANGED]: {
      params: { skuIds: { type: "array", items: "number", max: 1000 }, $$strict: "remove" },
      handler(this: CatalogService, ctx: Ctx<StockChangedEvent>) { return products.onStockChanged(this, ctx.params.skuIds); },
    },
  },

  created(this: CatalogService) {
    this.cfg = configOf(this);
    this.cache = new CatalogCache(this.broker.cacher, this.logger);
    // two read-only SQLite connections: one per core on the 2-core machines we target
    this.reader = createReader(this.sequelize, this.databaseUrl, 2);
    this.searchGate = searchGate(this.cfg.searchConcurrency, this.broker);
    this.seeding = null;
    this.stopping = false;
  },

  started(this: CatalogService) {
    if (this.cfg.seedDemo) {
      // in the background: the seed waits for inventory, which may start after catalog
      this.seeding = seedDemoCatalog(this, { stopping: () => this.stopping })
        .then((r) => r.skipped && this.logger.debug(`demo catalog: ${r.skipped}`))
        .catch((err) => this.logger.warn(`demo catalog not loaded: ${(err as Error).message}`));
    }
  },

  async stopped(this: CatalogService) {
    this.stopping = true;
    this.cache.stop();
    if (this.seeding) await this.seeding;
    await this.reader.close();
  },
};

export default CatalogSchema as unknown as ServiceSchema;
