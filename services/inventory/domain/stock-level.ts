/** Stock arithmetic and the low-stock rule. */
import type { StockLevel } from "../inventory.contracts";

export interface StockRow {
  skuId: number;
  onHand: number;
  reserved: number;
  lowStockThreshold: number;
}

export function toLevel(row: StockRow): StockLevel {
  const onHand = Number(row.onHand);
  const reserved = Number(row.reserved);
  return {
    skuId: Number(row.skuId),
    onHand,
    reserved,
    available: onHand - reserved,
    lowStockThreshold: Number(row.lowStockThreshold),
  };
}

/**
 * Did available stock cross the threshold downwards: from above it to at-or-below it? Only that
 * edge raises `inventory.low`, so a SKU that stays low does not alert on every sale, and one that
 * is restocked above the threshold alerts again the next time it runs low.
 */
export function crossedBelow(availableBefore: number, availableAfter: number, threshold: number): boolean {
  return availableBefore > threshold && availableAfter <= threshold;
}

/** Is a SKU currently low (what the low-stock list shows)? */
export function isLow(level: Pick<StockLevel, "available" | "lowStockThreshold">): boolean {
  return level.available <= level.lowStockThreshold;
}
