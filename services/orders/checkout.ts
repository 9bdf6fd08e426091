/**
 * Checkout (DESIGN.md "Core flows"): once per Idempotency-Key, price the lines with live catalog
 * prices → reserve all stock in one call → insert the order, its lines, the address and price
 * snapshots, the first timeline entry, the outbox row and the key's order number in one
 * transaction. A failure compensates the steps already done, in reverse (services/shared/saga.ts).
 *
 * Idempotency: the key row (user_id, idem_key) is inserted first — the unique key picks one
 * winner among concurrent duplicates. The others wait (bounded) until the winner's order number
 * is set and answer with that order; a different body under the same key is IDEMPOTENCY_CONFLICT.
 * A failed checkout deletes its claim so the client may retry with the same key.
 */
import type { Context } from "moleculer";
import { QueryTypes, Transaction } from "sequelize";
import type { Meta } from "../api/api.service";
import { CartActions, CartLine, RemoveLinesParams, SelectedLinesParams } from "../cart/cart.contracts";
import { CatalogActions, GetSkusParams, SkuSnapshot } from "../catalog/catalog.contracts";
import { InventoryActions, ReleaseParams, Reservation, ReserveParams } from "../inventory/inventory.contracts";
import type { AddressDto, GetAddressParams } from "../users/users.contracts";
import { isUniqueViolation, runUpdate } from "../shared/db";
import { bizError, validationError } from "../shared/errors";
import { runSaga } from "../shared/saga";
import { DUPLICATE_WAIT_MS, classifyClaim, requestHash } from "./domain/idempotency";
import { newOrderNo } from "./domain/order-no";
import { PricedLine, Totals, priceOrder } from "./domain/pricing";
import { OrderStore, actorLabel } from "./order-store";
import { AddressSnapshot, OrderCreatedEvent, OrderDto, OrderEvents } from "./orders.contracts";

export interface CreateOrderParams {
  addressId: number;
  items?: { skuId: number; quantity: number }[];
  couponId?: number;
  usePoints?: number;
  remark?: string;
}

export interface CheckoutHost {
  store: OrderStore;
  paymentTimeoutSec: number;
  logger: { warn(...a: unknown[]): void; error(...a: unknown[]): void };
}

type Ctx = Context<CreateOrderParams, Meta>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const errType = (err: unknown) => (err as { type?: string })?.type;
/** A typed 4xx from another service: a final answer, not an infrastructure failure. */
const isClientError = (err: unknown) => {
  const e = err as { code?: unknown; retryable?: boolean };
  // SERVICE_NOT_FOUND is a retryable 404: the service is down, not the thing asked for
  return typeof e?.code === "number" && e.code >= 400 && e.code < 500 && !e.retryable;
};

/** Create the order for this request, or return the one an earlier request with the key made. */
export async function placeOrder(host: CheckoutHost, ctx: Ctx): Promise<{ order: OrderDto; replayed: boolean }> {
  const userId = ctx.meta.user!.id;
  const key = ctx.meta.idempotencyKey;
  if (!key) throw bizError("IDEMPOTENCY_KEY_REQUIRED");
  const hash = requestHash({ ...ctx.params, items: ctx.params.items ?? "cart" });
  const { IdempotencyKey } = host.store.m;
  const deadline = Date.now() + DUPLICATE_WAIT_MS;
  for (;;) {
    let won = false;
    try {
      await claimKey(host, userId, key, hash);
      won = true;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    if (won) {
      try {
        // the DTO is built from what was written (no read-back): same as host.store.dto(orderNo)
        return { order: await checkout(host, ctx, userId, key), replayed: false };
      } catch (err) {
        // free the key for a retry — unless the order was written after all
        await host.store
          .tx((t) => runUpdate(host.store.sequelize, "DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ? AND order_no IS NULL", [userId, key], t))
          .catch((e) => host.logger.error("checkout: could not free idempotency key", e));
        throw err;
      }
    }
    const row = await IdempotencyKey.findOne({ where: { userId, idemKey: key } });
    if (!row) continue; // the holder failed and let go: try to claim it
    const state = classifyClaim(row, hash, Date.now());
    if (state.kind === "conflict") throw bizError("IDEMPOTENCY_CONFLICT");
    if (state.kind === "done") return { order: await host.store.dto(state.orderNo, userId), replayed: true };
    if (state.kind === "abandoned") {
      // a holder that never finished (crashed): take the claim over if nobody else did
      await host.store.tx((t) =>
        runUpdate(host.store.sequelize, "DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ? AND order_no IS NULL AND created_at = ?", [userId, key, row.createdAt], t),
      );
      continue;
    }
    if (Date.now() > deadline) throw bizError("ORDER_REQUEST_IN_PROGRESS");
    await sleep(50 + Math.random() * 100);
  }
}

/**
 * Insert the key row. On MySQL a single autocommitted INSERT (atomic on its own: the unique key
 * still picks one winner) instead of START/INSERT/COMMIT; SQLite writers go through the mutex.
 */
async function claimKey(host: CheckoutHost, userId: number, key: string, hash: string): Promise<void> {
  const sql = "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, order_no, created_at) VALUES (?, ?, ?, NULL, ?)";
  const s = host.store.sequelize;
  if (s.getDialect() === "sqlite") {
    await host.store.tx((t) => s.query(sql, { replacements: [userId, key, hash, new Date()], transaction: t, type: QueryTypes.INSERT }));
  } else {
    await s.query(sql, { replacements: [userId, key, hash, new Date()], type: QueryTypes.INSERT });
  }
}

interface CheckoutState {
  orderNo: string;
  lines: { skuId: number; quantity: number }[];
  reserved: boolean;
}

async function checkout(host: CheckoutHost, ctx: Ctx, userId: number, key: string): Promise<OrderDto> {
  const p = ctx.params;
  const fromCart = !p.items;
  const lines = p.items ?? (await ctx.call<CartLine[], SelectedLinesParams>(CartActions.SELECTED_LINES, { userId })).map(({ skuId, quantity }) => ({ skuId, quantity }));
  if (!lines.length) throw bizError("CART_EMPTY");
  const seen = new Set<number>();
  for (const [i, l] of lines.entries()) {
    if (seen.has(l.skuId)) throw validationError([{ field: `items[${i}].skuId`, message: `SKU ${l.skuId} appears twice; give each SKU once`, type: "unique" }]);
    seen.add(l.skuId);
  }
  // marketing is a later issue: until it exists no coupon applies and nobody has points
  if (p.couponId !== undefined) throw bizError("COUPON_NOT_APPLICABLE", "coupons are not available yet", { couponId: p.couponId });
  if (p.usePoints) throw bizError("INSUFFICIENT_POINTS", "points are not available yet", { requested: p.usePoints, balance: 0 });

  const [address, skus] = await Promise.all([
    ctx.call<AddressDto, GetAddressParams>("users.getAddress", { userId, addressId: p.addressId }),
    ctx.call<SkuSnapshot[], GetSkusParams>(CatalogActions.getSkus, { ids: lines.map((l) => l.skuId) }),
  ]);
  const bySku = new Map(skus.map((s) => [s.skuId, s]));
  for (const l of lines) {
    const sku = bySku.get(l.skuId);
    if (!sku) throw bizError("SKU_NOT_FOUND", `SKU ${l.skuId} does not exist`, { skuId: l.skuId });
    if (sku.status !== "ON_SALE") throw bizError("PRODUCT_OFF_SALE", `SKU ${l.skuId} is not on sale`, { skuId: l.skuId });
  }
  const priced = priceOrder(lines.map((l) => ({ skuId: l.skuId, quantity: l.quantity, unitPrice: bySku.get(l.skuId)!.price, currency: bySku.get(l.skuId)!.currency })));

  const state: CheckoutState = { orderNo: newOrderNo(), lines, reserved: false };
  let written!: OrderDto;
  await runSaga<CheckoutState>(
    [
      {
        name: "reserve-stock",
        run: (s) => reserve(ctx, s),
        compensate: (s) => release(ctx, s.orderNo, "checkout failed"),
      },
      {
        name: "write-order",
        run: (s) =>
          host.store.tx(async (t) => {
            written = await writeOrder(host, t, { orderNo: s.orderNo, userId, key, params: p, address, skus: bySku, priced });
          }),
      },
    ],
    state,
    { onCompensationError: (step, err) => host.logger.error(`checkout ${state.orderNo}: compensation ${step} failed; the reservation stays open`, err) },
  );

  if (fromCart) {
    await ctx
      .call<unknown, RemoveLinesParams>(CartActions.REMOVE_LINES, { userId, skuIds: lines.map((l) => l.skuId) })
      .catch((err) => host.logger.warn(`order ${state.orderNo}: ordered lines stay in the cart`, err?.message ?? err));
  }
  return written;
}

async function reserve(ctx: Ctx, s: CheckoutState): Promise<void> {
  try {
    await ctx.call<Reservation, ReserveParams>(InventoryActions.RESERVE, { reference: s.orderNo, lines: s.lines });
    s.reserved = true;
  } catch (err) {
    const type = errType(err);
    if (type === "INSUFFICIENT_STOCK" || type === "STOCK_NOT_FOUND") {
      const d = ((err as { data?: Record<string, unknown> }).data ?? {}) as { skuId?: number; requested?: number; available?: number };
      throw bizError("OUT_OF_STOCK", d.skuId ? `not enough stock for SKU ${d.skuId}` : undefined, {
        skuId: d.skuId,
        requested: d.requested ?? s.lines.find((l) => l.skuId === d.skuId)?.quantity,
        available: d.available ?? 0,
      });
    }
    // a timeout may hide a reservation that was made: undo it (release is idempotent)
    if (!isClientError(err)) await release(ctx, s.orderNo, "checkout failed").catch(() => undefined);
    throw err;
  }
}

async function release(ctx: Ctx, reference: string, reason: string): Promise<void> {
  try {
    await ctx.call<Reservation, ReleaseParams>(InventoryActions.RELEASE, { reference, reason });
  } catch (err) {
    if (errType(err) === "RESERVATION_NOT_FOUND") return;
    throw err;
  }
}

function snapshotOf(a: AddressDto): AddressSnapshot {
  return { id: a.id, name: a.name, mobile: a.mobile, province: a.province, city: a.city, district: a.district, detail: a.detail };
}

async function writeOrder(
  host: CheckoutHost,
  t: Transaction,
  o: {
    orderNo: string;
    userId: number;
    key: string;
    params: CreateOrderParams;
    address: AddressDto;
    skus: Map<number, SkuSnapshot>;
    priced: { lines: PricedLine[]; totals: Totals };
  },
): Promise<OrderDto> {
  const s = host.store.sequelize;
  // whole seconds: what a DATETIME column keeps, so the DTO below equals a later read
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const expiresAt = new Date(now.getTime() + host.paymentTimeoutSec * 1000);
  const { totals } = o.priced;
  const remark = o.params.remark ?? "";
  const addressJson = JSON.stringify(snapshotOf(o.address));
  // one INSERT per table, nothing read back
  await s.query(
    "INSERT INTO orders (order_no, user_id, status, source, items_total, discount, points_deduction, points_used, shipping_fee, payable, currency, coupon_id, address_snapshot, remark, expires_at, created_at, updated_at)" +
      " VALUES (?, ?, 'PENDING_PAYMENT', 'NORMAL', ?, ?, ?, 0, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
    {
      replacements: [o.orderNo, o.userId, totals.itemsTotal, totals.discount, totals.pointsDeduction, totals.shippingFee, totals.payable, totals.currency, addressJson, remark, expiresAt, now, now],
      transaction: t,
      type: QueryTypes.INSERT,
    },
  );
  const lineRows = o.priced.lines.map((l) => {
    const sku = o.skus.get(l.skuId)!;
    return { l, sku, attrsJson: JSON.stringify(sku.attrs ?? {}) };
  });
  // through the model (one multi-row INSERT): the tests inject write failures at this seam
  await host.store.m.OrderLine.bulkCreate(
    lineRows.map(({ l, sku }) => ({
      orderNo: o.orderNo,
      skuId: l.skuId,
      productId: sku.productId,
      skuCode: sku.skuCode,
      title: sku.title,
      attrs: sku.attrs,
      imageUrl: sku.imageUrl,
      unitPrice: l.unitPrice,
      quantity: l.quantity,
      subtotal: l.subtotal,
    })),
    { transaction: t },
  );
  const who = { kind: "buyer" as const, id: o.userId };
  const note = "order placed";
  await host.store.timeline(t, o.orderNo, null, "PENDING_PAYMENT", who, note, now);
  const event: OrderCreatedEvent = {
    orderNo: o.orderNo,
    userId: o.userId,
    payable: totals.payable,
    currency: totals.currency,
    expiresAt: expiresAt.toISOString(),
    items: o.priced.lines.map((l) => ({ skuId: l.skuId, quantity: l.quantity })),
  };
  await host.store.outbox(t, OrderEvents.CREATED, event);
  const claimed = await runUpdate(
    host.store.sequelize,
    "UPDATE idempotency_keys SET order_no = ? WHERE user_id = ? AND idem_key = ? AND order_no IS NULL",
    [o.orderNo, o.userId, o.key],
    t,
  );
  // our claim was taken over as abandoned: the other request owns the key now
  if (claimed !== 1) throw bizError("ORDER_REQUEST_IN_PROGRESS");
  return {
    orderNo: o.orderNo,
    userId: o.userId,
    status: "PENDING_PAYMENT",
    source: "NORMAL",
    items: lineRows.map(({ l, sku, attrsJson }) => ({
      skuId: l.skuId,
      productId: Number(sku.productId),
      skuCode: sku.skuCode,
      title: sku.title,
      attrs: JSON.parse(attrsJson),
      imageUrl: sku.imageUrl ?? null,
      unitPrice: l.unitPrice,
      quantity: l.quantity,
      subtotal: l.subtotal,
    })),
    address: JSON.parse(addressJson) as AddressSnapshot,
    itemsTotal: totals.itemsTotal,
    discount: totals.discount,
    pointsDeduction: totals.pointsDeduction,
    shippingFee: totals.shippingFee,
    payable: totals.payable,
    currency: totals.currency,
    couponId: null,
    remark,
    expiresAt: expiresAt.toISOString(),
    paidAt: null,
    paymentNo: null,
    shipment: null,
    completedAt: null,
    cancelledAt: null,
    cancelReason: null,
    createdAt: now.toISOString(),
    timeline: [{ status: "PENDING_PAYMENT", from: null, at: now.toISOString(), note, actor: actorLabel(who) }],
  };
}
