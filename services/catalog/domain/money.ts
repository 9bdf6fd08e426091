/**
 * Prices are integer fen. The limits live here so params schemas, the bulk importer and the
 * tests agree on them.
 */

/** Lowest price a SKU may have (1 fen: a zero price would let an order skip payment). */
export const MIN_PRICE = 1;
/** Highest price accepted: 10 billion yuan, far below 2^53 so sums of many lines stay exact. */
export const MAX_PRICE = 1_000_000_000_000;
/** Most units a single stock figure or sales increment may carry. */
export const MAX_QUANTITY = 1_000_000_000;

export function isValidPrice(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= MIN_PRICE && v <= MAX_PRICE;
}

export function isValidQuantity(v: unknown, min = 0): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= MAX_QUANTITY;
}

/** fastest-validator rules, shared by every action that takes a price or quantity. */
export const priceRule = { type: "number", integer: true, min: MIN_PRICE, max: MAX_PRICE } as const;
export const priceFilterRule = { type: "number", integer: true, min: 0, max: MAX_PRICE, convert: true, optional: true } as const;
export const stockRule = { type: "number", integer: true, min: 0, max: MAX_QUANTITY } as const;

/** Lowest and highest SKU price of a product (list price shown is the lowest). */
export function priceSpan(prices: number[]): { minPrice: number; maxPrice: number } {
  if (!prices.length) return { minPrice: 0, maxPrice: 0 };
  return { minPrice: Math.min(...prices), maxPrice: Math.max(...prices) };
}
