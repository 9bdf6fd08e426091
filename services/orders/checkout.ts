/**
 * HTTP checkout (`POST /orders`) and the quote (`POST /cart/quote`). Both resolve the lines (the
 * request's items, or the selected cart lines) to catalog SKUs, ask marketing for the offers that
 * apply (offers.ts) and price with domain/pricing.ts — the quote stops there; checkout hands the
 * priced lines to the create-order command (create-order.ts), which takes the holds and writes
 * the order. So the quote, the cart and the order show the same number.
 *
 * The Idempotency-Key is claimed before anything else, so a retry returns the order the first
 * request made even if prices or stock changed meanwhile.
 */
import type { Context } from "moleculer";
import type { Meta } from "../shared/meta";
import { bizError, validationError } from "../shared/errors";
import { requestHash } from "./domain/idempotency";
import { priceOrder } from "./domain/pricing";
import { OrderHost, addressSnapshot, createClaimedOrder, oncePerKey } from "./create-order";
import { fetchOffers } from "./offers";
import { CreateOrderLine, CreateOrderResult, OrderLineItem, QuoteDto, QuoteParams, sellableSnapshot } from "./orders.contracts";
import { callAction } from "../shared/actions";
import { UserCalls } from "../users/users.contracts";
import { CartCalls } from "../cart/cart.contracts";
import { CatalogCalls } from "../catalog/catalog.contracts";

/** POST /orders body. */
export interface CheckoutParams extends QuoteParams {
  addressId: number;
  remark?: string;
}

type Ctx<P> = Context<P, Meta>;

/** The request's items, or the selected cart lines; each SKU once. */
async function orderedItems(ctx: Ctx<unknown>, userId: number, items: OrderLineItem[] | undefined): Promise<OrderLineItem[]> {
  const lines = items ?? (await callAction(ctx, CartCalls.selectedLines, { userId })).map(({ skuId, quantity }) => ({ skuId, quantity }));
  if (!lines.length) throw bizError("CART_EMPTY");
  const seen = new Set<number>();
  for (const [i, l] of lines.entries()) {
    if (seen.has(l.skuId)) throw validationError([{ field: `items[${i}].skuId`, message: `SKU ${l.skuId} appears twice; give each SKU once`, type: "unique" }]);
    seen.add(l.skuId);
  }
  return lines;
}

/** Items with their live catalog snapshot and price; unknown or off-sale SKUs are refused. */
async function catalogLines(ctx: Ctx<unknown>, items: OrderLineItem[]): Promise<CreateOrderLine[]> {
  const skus = await callAction(ctx, CatalogCalls.getSkus, { ids: items.map((l) => l.skuId) });
  const bySku = new Map(skus.map((s) => [s.skuId, s]));
  return items.map((l) => {
    const sku = bySku.get(l.skuId);
    return { ...sellableSnapshot(sku, l.skuId), unitPrice: sku!.price, quantity: l.quantity };
  });
}

/** Create the order for this request, or return the one an earlier request with the key made. */
export async function placeOrder(host: OrderHost, ctx: Ctx<CheckoutParams>): Promise<CreateOrderResult> {
  const userId = ctx.meta.user!.id;
  const key = ctx.meta.idempotencyKey;
  if (!key) throw bizError("IDEMPOTENCY_KEY_REQUIRED");
  const p = ctx.params;
  const hash = requestHash({ ...p, items: p.items ?? "cart" });
  return oncePerKey(host, userId, key, hash, async () => {
    const items = await orderedItems(ctx, userId, p.items);
    const [address, lines] = await Promise.all([
      callAction(ctx, UserCalls.getAddress, { userId, addressId: p.addressId }),
      catalogLines(ctx, items),
    ]);
    const offers = await fetchOffers(ctx, lines, { userId, couponId: p.couponId, usePoints: p.usePoints });
    const order = await createClaimedOrder(host, ctx, {
      userId,
      source: "NORMAL",
      idempotencyKey: key,
      requestHash: hash,
      address: addressSnapshot(address),
      lines,
      offers,
      remark: p.remark,
    });
    if (!p.items) {
      await callAction(ctx, CartCalls.removeLines, { userId, skuIds: items.map((l) => l.skuId) })
        .catch((err) => host.logger.warn(`order ${order.orderNo}: ordered lines stay in the cart`, err?.message ?? err));
    }
    return order;
  });
}

/** What an order of these lines would cost, as checkout would price it; nothing is taken. */
export async function quote(ctx: Ctx<QuoteParams>): Promise<QuoteDto> {
  const userId = ctx.meta.user!.id;
  const p = ctx.params;
  const lines = await catalogLines(ctx, await orderedItems(ctx, userId, p.items));
  const offers = await fetchOffers(ctx, lines, { userId, couponId: p.couponId, usePoints: p.usePoints });
  const priced = priceOrder(lines, offers);
  return {
    lines: priced.lines.map((l) => ({
      skuId: l.skuId,
      productId: l.productId,
      title: l.title,
      unitPrice: l.unitPrice,
      quantity: l.quantity,
      subtotal: l.subtotal,
      promotionId: l.promotionId,
      promotionDiscount: l.promotionDiscount,
      couponDiscount: l.couponDiscount,
      pointsDeduction: l.pointsDeduction,
      payable: l.payable,
    })),
    totals: priced.totals,
    promotions: priced.promotions,
    ...(priced.coupon ? { coupon: priced.coupon } : {}),
  };
}
