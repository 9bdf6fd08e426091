/**
 * What other services and clients may rely on from `catalog`: action names, params and results,
 * and the broker event inventory broadcasts when stock changes.
 */

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

/** Inventory actions catalog calls (implemented by services/inventory). */
export const InventoryActions = {
  init: "inventory.init",
  getMany: "inventory.getMany",
} as const;
export interface InventoryInitParams {
  skuId: number;
  onHand: number;
  lowStockThreshold?: number;
}
export interface InventoryGetManyParams {
  skuIds: number[];
}
export interface StockLevel {
  skuId: number;
  onHand: number;
  reserved: number;
  available: number;
  lowStockThreshold: number;
}

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
