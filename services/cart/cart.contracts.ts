/** What other services and clients may rely on from `cart`. */
import { s, schemaOf } from "../shared/schema";
import { action } from "../shared/actions";

export const CartActions = {
  /** internal: the selected lines of a user's cart, for checkout */
  SELECTED_LINES: "cart.selectedLines",
  /** internal: drop lines after they were ordered */
  REMOVE_LINES: "cart.removeLines",
} as const;

export interface CartLine {
  skuId: number;
  quantity: number;
  selected: boolean;
  /** epoch ms when the SKU first went into the cart */
  addedAt: number;
}

/**
 * Why a line cannot be ordered as it stands: OFF_SALE (product taken off sale), UNAVAILABLE
 * (SKU no longer exists), SHORT (fewer units available than the quantity). null when fine.
 */
export type CartLineProblem = "OFF_SALE" | "UNAVAILABLE" | "SHORT" | null;

export interface CartItemView {
  skuId: number;
  productId: number | null;
  skuCode: string | null;
  title: string | null;
  attrs: Record<string, string>;
  imageUrl: string | null;
  unitPrice: number | null;
  currency: string;
  quantity: number;
  selected: boolean;
  /** units available now; null when inventory did not answer */
  available: number | null;
  /** unitPrice × quantity (0 when the SKU is gone) */
  subtotal: number;
  problem: CartLineProblem;
  addedAt: string;
}

export interface CartTotals {
  itemsTotal: number;
  discount: number;
  pointsDeduction: number;
  shippingFee: number;
  payable: number;
  currency: string;
  /** selected lines counted in the totals (on sale) */
  selectedCount: number;
}

export interface CartView {
  items: CartItemView[];
  totals: CartTotals;
}

export interface SelectedLinesParams {
  userId: number;
}
export interface RemoveLinesParams {
  userId: number;
  skuIds: number[];
}

// ── response schemas (OpenAPI), checked against the types above by tsc ─────────────────────

export const CartSchema = schemaOf<CartView>()(
  s.named(
    "Cart",
    s.object({
      items: s.array(
        s.named(
          "CartItem",
          s.object({
            skuId: s.integer({ minimum: 1 }),
            productId: s.nullable(s.integer()),
            skuCode: s.nullable(s.string()),
            title: s.nullable(s.string()),
            attrs: s.record(s.string()),
            imageUrl: s.nullable(s.string()),
            unitPrice: s.nullable(s.money()),
            currency: s.string(),
            quantity: s.integer({ minimum: 1 }),
            selected: s.boolean(),
            available: s.nullable(s.integer({ description: "units available now; null when inventory did not answer" })),
            subtotal: s.money(),
            problem: s.nullable(s.enum(["OFF_SALE", "UNAVAILABLE", "SHORT"])),
            addedAt: s.dateTime(),
          }),
        ),
      ),
      totals: s.named(
        "CartTotals",
        s.object({
          itemsTotal: s.money(),
          discount: s.money(),
          pointsDeduction: s.money(),
          shippingFee: s.money(),
          payable: s.money(),
          currency: s.string(),
          selectedCount: s.integer({ minimum: 0 }),
        }),
      ),
    }),
  ),
);

/** Typed descriptors of cart's internal actions (services/shared/actions.ts). */
export const CartCalls = {
  selectedLines: action<SelectedLinesParams, CartLine[]>(CartActions.SELECTED_LINES),
  removeLines: action<RemoveLinesParams, unknown>(CartActions.REMOVE_LINES),
} as const;
