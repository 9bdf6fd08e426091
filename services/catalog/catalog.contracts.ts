/**
 * What other services and clients may rely on from `catalog`: action names, params and results,
 * and the broker event inventory broadcasts when stock changes.
 */
import { s, schemaOf } from "../shared/schema";
import { action } from "../shared/actions";

export type ProductStatus = "ON_SALE" | "OFF_SALE";
export const PRODUCT_STATUSES: ProductStatus[] = ["ON_SALE", "OFF_SALE"];

export const CatalogActions = {
  getSkus: "catalog.getSkus",
  addSales: "catalog.addSales",
  seedDemo: "catalog.seedDemo",
} as const;

/** Broker event (cache invalidation only): inventory broadcasts it after any stock change. */
export const CatalogEvents = {
  STOCK_CHANGED: "catalog.stockChanged",
} as const;

export interface StockChangedEvent {
  skuIds: number[];
}

/** Inventory actions catalog calls: inventory's own descriptors and types (no second copy here). */
export { InventoryActions } from "../inventory/inventory.contracts";
export type { InitParams as InventoryInitParams, GetManyParams as InventoryGetManyParams, StockLevel } from "../inventory/inventory.contracts";

export interface CategoryNode {
  id: number;
  name: string;
  parentId: number | null;
  sort: number;
  children: CategoryNode[];
}

export interface Brand {
  id: number;
  name: string;
  logoUrl: string | null;
}

/** Words a search treats as the same (番茄 = 西红柿), edited by admins. */
export interface SynonymGroupDto {
  id: number;
  words: string[];
  updatedAt: string;
}

export interface ProductListItem {
  id: number;
  title: string;
  subtitle: string;
  imageUrl: string | null;
  minPrice: number;
  maxPrice: number;
  currency: string;
  sales: number;
  rating: number;
  reviewCount: number;
  categoryId: number;
  brandId: number | null;
  status: ProductStatus;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export interface SkuView {
  id: number;
  skuCode: string;
  attrs: Record<string, string>;
  price: number;
  currency: string;
  imageUrl: string | null;
  /** units a customer can buy now (inventory); null when inventory did not answer */
  available: number | null;
}

export interface ProductDetail {
  id: number;
  title: string;
  subtitle: string;
  description: string;
  images: string[];
  categoryId: number;
  brandId: number | null;
  brand: Brand | null;
  status: ProductStatus;
  minPrice: number;
  maxPrice: number;
  currency: string;
  sales: number;
  rating: number;
  reviewCount: number;
  skus: SkuView[];
  createdAt: string;
  updatedAt: string;
}

/** `catalog.getSkus({ ids })` — for cart and orders. Unknown ids are simply absent. */
export interface GetSkusParams {
  ids: number[];
}
export interface SkuSnapshot {
  skuId: number;
  productId: number;
  skuCode: string;
  title: string;
  attrs: Record<string, string>;
  price: number;
  currency: string;
  /** the product's status: an OFF_SALE (or deleted) product's SKUs must not be sold */
  status: ProductStatus;
  imageUrl: string | null;
  categoryId: number;
  /** the category and its ancestors, nearest first: an offer scoped to a parent category covers the SKU */
  categoryPath: number[];
}

/** `catalog.addSales({ lines })` — orders call it once per paid order. */
export interface AddSalesParams {
  lines: { skuId: number; quantity: number }[];
}
export interface AddSalesResult {
  updated: number;
}

export interface UploadResult {
  url: string;
  name: string;
  size: number;
  contentType: string;
}

/** POST/PATCH /categories */
export interface Category {
  id: number;
  name: string;
  parentId: number | null;
  sort: number;
}

/** DELETE of a category, brand or product */
export interface Deleted {
  id: number;
  deleted: boolean;
}

/** POST /products: the new product; `warnings` when some starting stock could not be set. */
export interface ProductCreated extends ProductDetail {
  warnings?: string[];
}
/** POST /products/:id/skus */
export interface SkuCreated extends SkuView {
  warnings?: string[];
}

/** POST /products/:id/reviews */
export interface ReviewDto {
  id: number;
  productId: number;
  skuId: number;
  orderNo: string;
  rating: number;
  content: string;
  createdAt: string;
}
/** GET /products/:id/reviews */
export interface ReviewListItem {
  id: number;
  userId: number;
  skuId: number;
  rating: number;
  content: string;
  createdAt: string;
}

// ── response schemas (OpenAPI), checked against the types above by tsc ─────────────────────

const id = s.integer({ minimum: 1 });
const status = s.enum(["ON_SALE", "OFF_SALE"]);

export const CategoryNodeSchema = schemaOf<CategoryNode>()(
  s.named(
    "CategoryNode",
    s.object({ id, name: s.string(), parentId: s.nullable(s.integer()), sort: s.integer(), children: s.array(s.ref<CategoryNode>("CategoryNode")) }),
  ),
);
export const CategorySchema = schemaOf<Category>()(
  s.named("Category", s.object({ id, name: s.string(), parentId: s.nullable(s.integer()), sort: s.integer() })),
);
export const BrandSchema = schemaOf<Brand>()(s.named("Brand", s.object({ id, name: s.string(), logoUrl: s.nullable(s.string()) })));
export const SynonymGroupSchema = schemaOf<SynonymGroupDto>()(
  s.named("SynonymGroup", s.object({ id, words: s.array(s.string()), updatedAt: s.dateTime() })),
);
export const DeletedSchema = schemaOf<Deleted>()(s.object({ id, deleted: s.boolean() }));

export const ProductListItemSchema = schemaOf<ProductListItem>()(
  s.named(
    "ProductListItem",
    s.object({
      id,
      title: s.string(),
      subtitle: s.string(),
      imageUrl: s.nullable(s.string()),
      minPrice: s.money(),
      maxPrice: s.money(),
      currency: s.string(),
      sales: s.integer(),
      rating: s.number(),
      reviewCount: s.integer(),
      categoryId: s.integer(),
      brandId: s.nullable(s.integer()),
      status,
    }),
  ),
);
export const ProductPageSchema = schemaOf<Page<ProductListItem>>()(s.page(ProductListItemSchema));

const skuFields = {
  id,
  skuCode: s.string(),
  attrs: s.record(s.string()),
  price: s.money(),
  currency: s.string(),
  imageUrl: s.nullable(s.string()),
  available: s.nullable(s.integer({ description: "units a customer can buy now; null when inventory did not answer" })),
};
export const SkuSchema = schemaOf<SkuView>()(s.named("Sku", s.object(skuFields)));
export const SkuCreatedSchema = schemaOf<SkuCreated>()(s.object(skuFields, { warnings: s.array(s.string()) }));

const productFields = {
  id,
  title: s.string(),
  subtitle: s.string(),
  description: s.string(),
  images: s.array(s.string()),
  categoryId: s.integer(),
  brandId: s.nullable(s.integer()),
  brand: s.nullable(BrandSchema),
  status,
  minPrice: s.money(),
  maxPrice: s.money(),
  currency: s.string(),
  sales: s.integer(),
  rating: s.number(),
  reviewCount: s.integer(),
  skus: s.array(SkuSchema),
  createdAt: s.dateTime(),
  updatedAt: s.dateTime(),
};
export const ProductDetailSchema = schemaOf<ProductDetail>()(s.named("ProductDetail", s.object(productFields)));
export const ProductCreatedSchema = schemaOf<ProductCreated>()(s.object(productFields, { warnings: s.array(s.string()) }));

export const ReviewSchema = schemaOf<ReviewDto>()(
  s.named("Review", s.object({ id, productId: s.integer(), skuId: s.integer(), orderNo: s.string(), rating: s.integer(), content: s.string(), createdAt: s.dateTime() })),
);
export const ReviewPageSchema = schemaOf<Page<ReviewListItem>>()(
  s.page(s.object({ id, userId: s.integer(), skuId: s.integer(), rating: s.integer(), content: s.string(), createdAt: s.dateTime() })),
);
export const UploadResultSchema = schemaOf<UploadResult>()(
  s.object({ url: s.string(), name: s.string(), size: s.integer({ minimum: 0 }), contentType: s.string() }),
);
/** POST /uploads (multipart/form-data) */
export const UploadBodySchema = s.object({ file: s.binary() });

/** Typed descriptors of catalog's internal actions (services/shared/actions.ts). */
export const CatalogCalls = {
  getSkus: action<GetSkusParams, SkuSnapshot[]>(CatalogActions.getSkus),
} as const;
