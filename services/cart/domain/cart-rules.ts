/**
 * Cart rules (pure): the per-line quantity and line limits (enforced atomically by the stores,
 * cart-store.ts), and the view — live prices and availability per line, problems flagged,
 * totals through the order's own pricing.
 */
import type { PromotionOffer } from "../../marketing/marketing.contracts";
import { NO_OFFERS, priceOrder } from "../../orders/domain/pricing";
import type { CartItemView, CartLine, CartLineProblem, CartTotals, CartView } from "../cart.contracts";

export const MAX_LINE_QUANTITY = 99;
export const MAX_LINES = 100;

/** What the catalog says about a SKU (catalog.getSkus). */
export interface SkuInfo {
  skuId: number;
  productId: number;
  skuCode: string;
  title: string;
  attrs: Record<string, string>;
  price: number;
  currency: string;
  status: "ON_SALE" | "OFF_SALE";
  imageUrl: string | null;
  categoryId: number;
  /** the category and its ancestors (promotion scopes) */
  categoryPath?: number[];
}

export function lineProblem(sku: SkuInfo | undefined, quantity: number, available: number | null): CartLineProblem {
  if (!sku) return "UNAVAILABLE";
  if (sku.status !== "ON_SALE") return "OFF_SALE";
  if (available !== null && available < quantity) return "SHORT";
  return null;
}

/**
 * The cart as the buyer sees it, newest line first. Totals cover the selected lines that can be
 * priced (on sale), with the promotions that apply (no coupon, no points: those are chosen at
 * checkout); a SHORT line is still counted — the price is real, and checkout will say how many
 * are left. The lines are priced in the order checkout takes them (by SKU id), so each line's
 * share of a discount is the one the order will record.
 */
export function buildView(
  lines: readonly CartLine[],
  skus: ReadonlyMap<number, SkuInfo>,
  available: ReadonlyMap<number, number> | null,
  promotions: PromotionOffer[] = [],
): CartView {
  const ordered = [...lines].sort((a, b) => b.addedAt - a.addedAt || b.skuId - a.skuId);
  const items: CartItemView[] = ordered.map((l) => {
    const sku = skus.get(l.skuId);
    const avail = available ? (available.get(l.skuId) ?? 0) : null;
    return {
      skuId: l.skuId,
      productId: sku?.productId ?? null,
      skuCode: sku?.skuCode ?? null,
      title: sku?.title ?? null,
      attrs: sku?.attrs ?? {},
      imageUrl: sku?.imageUrl ?? null,
      unitPrice: sku?.price ?? null,
      currency: sku?.currency ?? "CNY",
      quantity: l.quantity,
      selected: l.selected,
      available: avail,
      subtotal: sku ? sku.price * l.quantity : 0,
      problem: lineProblem(sku, l.quantity, avail),
      addedAt: new Date(l.addedAt).toISOString(),
    };
  });
  const priceable = items.filter((i) => i.selected && i.problem !== "OFF_SALE" && i.problem !== "UNAVAILABLE").sort((a, b) => a.skuId - b.skuId);
  const { totals } = priceOrder(
    priceable.map((i) => {
      const sku = skus.get(i.skuId)!;
      return { skuId: i.skuId, productId: sku.productId, categoryId: sku.categoryId, categoryPath: sku.categoryPath, unitPrice: sku.price, quantity: i.quantity, currency: sku.currency };
    }),
    { ...NO_OFFERS, promotions },
  );
  const t: CartTotals = { ...totals, selectedCount: priceable.length };
  return { items, totals: t };
}
