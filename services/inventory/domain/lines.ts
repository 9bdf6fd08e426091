/** Reservation lines: merged per SKU and ordered, so every transaction takes rows in one order. */
import type { StockLine } from "../inventory.contracts";

/** Largest quantity one reservation may hold for one SKU (keeps sums far from INT overflow). */
export const MAX_LINE_QUANTITY = 1_000_000;

export class LineError extends Error {
  constructor(
    message: string,
    readonly skuId: number,
  ) {
    super(message);
  }
}

/**
 * Merge lines for the same SKU and sort by ascending skuId: the order in which stock rows are
 * updated, so two reservations over the same SKUs can never wait on each other in a cycle.
 * Throws LineError for a non-positive or fractional quantity or a merged total over the cap.
 */
export function mergeLines(lines: readonly StockLine[]): StockLine[] {
  const totals = new Map<number, number>();
  for (const { skuId, quantity } of lines) {
    if (!Number.isSafeInteger(skuId) || skuId <= 0) throw new LineError(`skuId must be a positive integer`, skuId);
    if (!Number.isSafeInteger(quantity) || quantity <= 0) throw new LineError(`quantity must be a positive integer`, skuId);
    const sum = (totals.get(skuId) ?? 0) + quantity;
    if (sum > MAX_LINE_QUANTITY) throw new LineError(`at most ${MAX_LINE_QUANTITY} units of one SKU per reservation`, skuId);
    totals.set(skuId, sum);
  }
  return [...totals.entries()].sort(([a], [b]) => a - b).map(([skuId, quantity]) => ({ skuId, quantity }));
}

/** Two line lists describe the same request (used to tell a retry from a reused reference). */
export function sameLines(a: readonly StockLine[], b: readonly StockLine[]): boolean {
  const x = mergeLines(a);
  const y = mergeLines(b);
  return x.length === y.length && x.every((l, i) => l.skuId === y[i].skuId && l.quantity === y[i].quantity);
}
