/** Which goods an offer covers. Pure. */
import type { OfferScope } from "../marketing.contracts";

/** Sorted, de-duplicated ids, both lists always present (what is stored and answered). */
export function normaliseScope(scope: OfferScope | null | undefined): Required<OfferScope> {
  const ids = (list: number[] | undefined) => [...new Set(list ?? [])].sort((a, b) => a - b);
  return { categoryIds: ids(scope?.categoryIds), productIds: ids(scope?.productIds) };
}

/** An empty scope (no categories, no products) covers every product. */
export function coversEverything(scope: OfferScope): boolean {
  return !scope.categoryIds?.length && !scope.productIds?.length;
}

/**
 * Does the offer cover any of these goods? `categoryIds` are the goods' categories with their
 * ancestors, so a scope naming a parent category touches its sub-categories' products.
 */
export function touches(scope: OfferScope, productIds: readonly number[], categoryIds: readonly number[]): boolean {
  if (coversEverything(scope)) return true;
  const products = new Set(productIds);
  const categories = new Set(categoryIds);
  return (scope.productIds ?? []).some((id) => products.has(id)) || (scope.categoryIds ?? []).some((id) => categories.has(id));
}
