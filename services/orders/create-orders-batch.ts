/**
 * Many flash-sale orders in one transaction (`orders.createSeckillOrders`, the seckill writer's
 * batch). Each order is what `createOrder` would make for source SECKILL — no holds (the unit sits
 * in the sale's hold), no offers — and stays idempotent per (userId, idempotencyKey):
 *
 *   validate and price each order on its own (a bad one fails alone) → read the batch's keys in
 *   one SELECT (a key already done answers its order `replayed`, another hash under it is
 *   IDEMPOTENCY_CONFLICT, one still held by a single createOrder is ORDER_REQUEST_IN_PROGRESS,
 *   retryable) → ONE transaction with one multi-row INSERT per table: idempotency_keys (with the
 *   order number already set: key and order commit together, so no claim is ever left half-done),
 *   orders, order_lines, order_events, outbox (`order.created`).
 *
 * Two writers racing on one key (a redelivery handled by two nodes at once): the loser's INSERT
 * meets the unique key, its whole transaction rolls back, and the next round reads the winner's
 * key and answers `replayed`. Nothing is half-written in any case.
 */
import { QueryTypes } from "sequelize";
import { isUniqueViolation, wholeSecond } from "../shared/db";
import { bizError } from "../shared/errors";
import { classifyClaim } from "./domain/idempotency";
import { newOrderNo } from "./domain/order-no";
import { NO_OFFERS, PricedOrder, priceOrder } from "./domain/pricing";
import { addressSnapshot, OrderHost } from "./create-order";
import { actorLabel } from "./order-store";
import type { Transaction } from "sequelize";
import { BatchOrderResult, OrderCreatedEvent, OrderEvents, SeckillOrderParams } from "./orders.contracts";

export interface BatchHost extends OrderHost {
  outboxMany(t: Transaction, channel: string, data: unknown[]): Promise<unknown[]>;
}

/** a per-order failure as the caller sees it (the shape of a moleculer error, flattened) */
export function failure(err: unknown): BatchOrderResult {
  const e = err as { type?: string; message?: string; code?: number; retryable?: boolean; data?: unknown };
  return { error: { type: e?.type ?? "INTERNAL_ERROR", message: e?.message ?? String(err), code: typeof e?.code === "number" ? e.code : 500, retryable: !!e?.retryable, data: e?.data } };
}

const ROUNDS = 5;

export async function createSeckillOrders(host: BatchHost, items: SeckillOrderParams[], check: (p: unknown) => true | { field?: string; message?: string }[]): Promise<BatchOrderResult[]> {
  const out: (BatchOrderResult | undefined)[] = new Array(items.length);
  const priced = items.map((it, i) => {
    const ok = check(it);
    if (ok !== true) {
      out[i] = { error: { type: "VALIDATION_ERROR", message: "validation failed", code: 422, retryable: false, data: ok } };
      return null;
    }
    try {
      return priceOrder(it.lines, NO_OFFERS);
    } catch (err) {
      out[i] = failure(err);
      return null;
    }
  });
  const keyOf = (it: SeckillOrderParams) => `${it.userId}\u0000${it.idempotencyKey}`;

  for (let round = 0; ; round++) {
    const open = items.map((it, i) => ({ it, i })).filter(({ i }) => !out[i]);
    if (!open.length) break;
    // the keys already taken
    const s = host.store.sequelize;
    const keys = [...new Set(open.map(({ it }) => it.idempotencyKey))];
    const rows = await s.query<{ user_id: number | string; idem_key: string; request_hash: string; order_no: string | null; created_at: Date }>(
      `SELECT user_id, idem_key, request_hash, order_no, created_at FROM idempotency_keys WHERE idem_key IN (${keys.map(() => "?").join(",")})`,
      { replacements: keys, type: QueryTypes.SELECT },
    );
    const seen = new Map(rows.map((r) => [`${Number(r.user_id)}\u0000${r.idem_key}`, r]));
    const fresh: { it: SeckillOrderParams; i: number }[] = [];
    const firstOf = new Map<string, number>();
    for (const o of open) {
      const row = seen.get(keyOf(o.it));
      if (row) {
        const state = classifyClaim({ requestHash: row.request_hash, orderNo: row.order_no, createdAt: row.created_at }, o.it.requestHash, Date.now());
        if (state.kind === "conflict") out[o.i] = failure(bizError("IDEMPOTENCY_CONFLICT"));
        else if (state.kind === "done") out[o.i] = { orderNo: state.orderNo, replayed: true };
        // a single createOrder holds the key: the caller retries later and finds it done
        else out[o.i] = failure(Object.assign(bizError("ORDER_REQUEST_IN_PROGRESS"), { retryable: true }));
        continue;
      }
      // the same key twice in one batch: the first one writes, the others answer it
      if (firstOf.has(keyOf(o.it))) continue;
      firstOf.set(keyOf(o.it), o.i);
      fresh.push(o);
    }
    if (fresh.length) {
      try {
        const made = await host.store.tx((t) => writeOrders(host, t, fresh.map(({ it, i }) => ({ it, priced: priced[i]! }))));
        fresh.forEach(({ i }, k) => (out[i] = { orderNo: made[k], replayed: false }));
      } catch (err) {
        // another writer took one of these keys meanwhile: nothing of ours was written; read again
        if (!isUniqueViolation(err) || round >= ROUNDS) throw err;
        continue;
      }
    }
    // duplicates inside the batch answer their first
    for (const o of open) {
      if (out[o.i]) continue;
      const first = out[firstOf.get(keyOf(o.it))!];
      if (first?.orderNo) out[o.i] = items[firstOf.get(keyOf(o.it))!].requestHash === o.it.requestHash ? { orderNo: first.orderNo, replayed: true } : failure(bizError("IDEMPOTENCY_CONFLICT"));
    }
  }
  return out.map((r) => r!);
}

type Priced = PricedOrder<SeckillOrderParams["lines"][number]>;

async function writeOrders(host: BatchHost, t: Transaction, list: { it: SeckillOrderParams; priced: Priced }[]): Promise<string[]> {
  const s = host.store.sequelize;
  const now = wholeSecond();
  const q = (sql: string, replacements: unknown[]) => s.query(sql, { replacements, transaction: t, type: QueryTypes.INSERT });
  const rows = list.map(({ it, priced }) => ({
    it,
    priced,
    orderNo: newOrderNo(),
    expiresAt: new Date(now.getTime() + (it.paymentTimeoutSec ?? host.cfg.seckillPaymentTimeoutSec) * 1000),
  }));
  // the keys first: a concurrent writer of one of them fails here before anything else
  await q(
    "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, order_no, created_at) VALUES " + rows.map(() => "(?, ?, ?, ?, ?)").join(", "),
    rows.flatMap((r) => [r.it.userId, r.it.idempotencyKey, r.it.requestHash, r.orderNo, now]),
  );
  await q(
    "INSERT INTO orders (order_no, user_id, status, source, items_total, discount, points_deduction, points_used, shipping_fee, payable, currency, coupon_id, address_snapshot, remark, expires_at, created_at, updated_at) VALUES " +
      rows.map(() => "(?, ?, 'PENDING_PAYMENT', 'SECKILL', ?, ?, ?, 0, ?, ?, ?, NULL, ?, ?, ?, ?, ?)").join(", "),
    rows.flatMap(({ it, priced: { totals }, orderNo, expiresAt }) => [
      orderNo,
      it.userId,
      totals.itemsTotal,
      totals.discount,
      totals.pointsDeduction,
      totals.shippingFee,
      totals.payable,
      totals.currency,
      JSON.stringify(addressSnapshot(it.address)),
      it.remark ?? "",
      expiresAt,
      now,
      now,
    ]),
  );
  const lines = rows.flatMap((r) => r.priced.lines.map((l) => ({ orderNo: r.orderNo, l })));
  await q(
    "INSERT INTO order_lines (order_no, sku_id, product_id, sku_code, title, attrs, image_url, unit_price, quantity, subtotal, promotion_id, promotion_discount, coupon_discount, points_deduction, payable) VALUES " +
      lines.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", "),
    lines.flatMap(({ orderNo, l }) => [
      orderNo,
      l.skuId,
      l.productId,
      l.skuCode,
      l.title,
      JSON.stringify(l.attrs ?? {}),
      l.imageUrl ?? null,
      l.unitPrice,
      l.quantity,
      l.subtotal,
      l.promotionId,
      l.promotionDiscount,
      l.couponDiscount,
      l.pointsDeduction,
      l.payable,
    ]),
  );
  await q(
    "INSERT INTO order_events (order_no, from_status, status, actor, note, created_at) VALUES " + rows.map(() => "(?, NULL, 'PENDING_PAYMENT', ?, 'order placed', ?)").join(", "),
    rows.flatMap((r) => [r.orderNo, actorLabel({ kind: "buyer", id: r.it.userId }), now]),
  );
  await host.outboxMany(
    t,
    OrderEvents.CREATED,
    rows.map(
      (r): OrderCreatedEvent => ({
        orderNo: r.orderNo,
        userId: r.it.userId,
        source: "SECKILL",
        payable: r.priced.totals.payable,
        currency: r.priced.totals.currency,
        expiresAt: r.expiresAt.toISOString(),
        items: r.priced.lines.map((l) => ({ skuId: l.skuId, quantity: l.quantity })),
      }),
    ),
  );
  return rows.map((r) => r.orderNo);
}
