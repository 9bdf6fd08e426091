/**
 * Product list parameters → an ordering. Pure, so the sort rules are unit tested.
 */

export const SORTS = ["relevance", "price_asc", "price_desc", "sales", "newest"] as const;
export type Sort = (typeof SORTS)[number];

export const MAX_PAGE_SIZE = 100;
/** Deep offsets scan and discard rows: stop at a depth no storefront pages to. */
export const MAX_OFFSET = 10_000;

/** ORDER BY terms over the products alias `p` (and `m.score` when searching). Never user text. */
export function orderBy(sort: Sort | undefined, searching: boolean): string {
  const s: Sort = sort ?? (searching ? "relevance" : "newest");
  switch (s) {
    case "price_asc":
      return "p.min_price ASC, p.id DESC";
    case "price_desc":
      return "p.min_price DESC, p.id DESC";
    case "sales":
      return "p.sales DESC, p.id DESC";
    case "relevance":
      return searching ? "m.score DESC, p.sales DESC, p.id DESC" : "p.id DESC";
    case "newest":
    default:
      return "p.id DESC";
  }
}
