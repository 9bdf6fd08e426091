/**
 * The create-order command: the one way an order comes into being, whatever its source (HTTP
 * checkout, checkout.ts; a flash sale's order writer through `orders.createOrder`). Priced lines
 * in, an order out:
 *   claim the idempotency key → price the lines with the offers (domain/pricing.ts) → take the
 *   holds (holds.ts) → insert the order, its lines with their discount shares, the first timeline
 *   entry, `order.created` (outbox) and the key's order number in one transaction.
 * A failure gives back the holds already taken, in reverse, and frees the key.
 *
 * Idempotency: the key row (user_id, idem_key) is inserted first — the unique key picks one
 * winner among concurrent duplicates. The others wait (bounded) until the winner's order number
 * is set and answer with that order; another request hash under the same key is
 * IDEMPOTENCY_CONFLICT. A claim whose holder never finished (crashed) is taken over after
 * ABANDONED_CLAIM_MS.
 */
import { QueryTypes, Transaction } from "sequelize";
import type { MallConfig } from "../shared/config";
import { isUniqueViolation, runUpdate, wholeSecond } from "../shared/db";
import { bizError } from "../shared/errors";
import { DUPLICATE_WAIT_MS, classifyClaim } from "./domain/idempotency";
import { newOrderNo } from "./domain/order-no";
import { NO_OFFERS, PricedOrder, priceOrder } from "./domain/pricing";
import { Caller, Hold, orderHolds, withHolds } from "./holds";
import { OrderStore, actorLabel } from "./order-store";
import { AddressSnapshot, CreateOrderLine, CreateOrderParams, CreateOrderResult, OrderCreatedEvent, OrderDto, OrderEvents, OrderHolds } from "./orders.contracts";

export interface OrderHost {
  store: OrderStore;
  cfg: Pick<MallConfig, "orderPaymentTimeoutSec" | "seckillPaymentTimeoutSec">;
  logger: { warn(...a: unknown[]): void; error(...a: unknown[]): void };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run `make` once per (userId, key): the request that claims the key makes the order; a
 * duplicate gets that order back (`replayed`), or IDEMPOTENCY_CONFLICT when its hash differs.
 */
export async function oncePerKey(host: OrderHost, userId: number, key: string, hash: string, make: () => Promise<OrderDto>): Promise<CreateOrderResult> {
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
        return { order: await make(), replayed: false };
      } catch (err) {
        // free the key for a retry — unless the order was written after all
        await host.store
          .tx((t) => runUpdate(host.store.sequelize, "DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ? AND order_no IS NULL", [userId, key], t))
          .catch((e) => host.logger.error("create order: could not free idempotency key", e));
        throw err;
      }
    }
    const row = await IdempotencyKey.findOne({ where: { userId, idemKey: key } });
    if (!row) continue; // the holder failed and let go: try to claim it
    const state = classifyClaim(row, hash, Date.now());
    if (state.kind === "conflict") throw bizError("IDEMPOTENCY_CONFLICT");
    if (state.kind === "done") return { order: await host.store.dto(state.orderNo, userId), replayed: true };
    if (state.kind === "abandoned") {
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
async function claimKey(host: OrderHost, userId: number, key: string, hash: string): Promise<void> {
  const sql = "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, order_no, created_at) VALUES (?, ?, ?, NULL, ?)";
  const s = host.store.sequelize;
  if (s.getDialect() === "sqlite") {
    await host.store.tx((t) => s.query(sql, { replacements: [userId, key, hash, new Date()], transaction: t, type: QueryTypes.INSERT }));
  } else {
    await s.query(sql, { replacements: [userId, key, hash, new Date()], type: QueryTypes.INSERT });
  }
}

/** The command: once per key, price, take the holds, write. */
export function createOrder(host: OrderHost, ctx: Caller, cmd: CreateOrderParams, extraHolds: Hold[] = []): Promise<CreateOrderResult> {
  return oncePerKey(host, cmd.userId, cmd.idempotencyKey, cmd.requestHash, () => createClaimedOrder(host, ctx, cmd, extraHolds));
}

/** The command's work once the caller holds the key (HTTP checkout claims it before resolving lines). */
export async function createClaimedOrder(host: OrderHost, ctx: Caller, cmd: CreateOrderParams, extraHolds: Hold[] = []): Promise<OrderDto> {
  const priced = priceOrder(cmd.lines, cmd.offers ?? NO_OFFERS);
  const orderNo = newOrderNo();
  const holds: OrderHolds = { couponId: priced.coupon?.id ?? null, points: priced.pointsUsed };
  const lines = cmd.lines.map((l) => ({ skuId: l.skuId, quantity: l.quantity }));
  return withHolds(
    orderHolds(ctx, { orderNo, userId: cmd.userId, lines, holds, extra: extraHolds, source: cmd.source }),
    () => host.store.tx((t) => writeOrder(host, t, { orderNo, cmd, priced, holds })),
    (hold, err) => host.logger.error(`order ${orderNo}: giving back the ${hold} hold failed; it stays held until its owner reconciles it`, err),
  );
}

/** The address fields an order keeps (whatever else the caller's address carries). */
export function addressSnapshot(a: AddressSnapshot): AddressSnapshot {
  return { id: a.id, name: a.name, mobile: a.mobile, province: a.province, city: a.city, district: a.district, detail: a.detail };
}

function paymentWindowSec(host: OrderHost, cmd: CreateOrderParams): number {
  if (cmd.paymentTimeoutSec !== undefined) return cmd.paymentTimeoutSec;
  return cmd.source === "SECKILL" ? host.cfg.seckillPaymentTimeoutSec : host.cfg.orderPaymentTimeoutSec;
}

async function writeOrder(
  host: OrderHost,
  t: Transaction,
  o: { orderNo: string; cmd: CreateOrderParams; priced: PricedOrder<CreateOrderLine>; holds: OrderHolds },
): Promise<OrderDto> {
  const { cmd, priced, holds } = o;
  const s = host.store.sequelize;
  // whole seconds: what a DATETIME column keeps, so the DTO below equals a later read
  const now = wholeSecond();
  const expiresAt = new Date(now.getTime() + paymentWindowSec(host, cmd) * 1000);
  const { totals } = priced;
  const remark = cmd.remark ?? "";
  const address = addressSnapshot(cmd.address);
  // one INSERT per table, nothing read back
  await s.query(
    "INSERT INTO orders (order_no, user_id, status, source, items_total, discount, points_deduction, points_used, shipping_fee, payable, currency, coupon_id, address_snapshot, remark, expires_at, created_at, updated_at)" +
      " VALUES (?, ?, 'PENDING_PAYMENT', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    {
      replacements: [
        o.orderNo,
        cmd.userId,
        cmd.source,
        totals.itemsTotal,
        totals.discount,
        totals.pointsDeduction,
        holds.points,
        totals.shippingFee,
        totals.payable,
        totals.currency,
        holds.couponId,
        JSON.stringify(address),
        remark,
        expiresAt,
        now,
        now,
      ],
      transaction: t,
      type: QueryTypes.INSERT,
    },
  );
  const items = priced.lines.map((l) => ({
    skuId: l.skuId,
    productId: l.productId,
    skuCode: l.skuCode,
    title: l.title,
    attrs: JSON.parse(JSON.stringify(l.attrs ?? {})) as Record<string, string>,
    imageUrl: l.imageUrl ?? null,
    unitPrice: l.unitPrice,
    quantity: l.quantity,
    subtotal: l.subtotal,
    promotionId: l.promotionId,
    promotionDiscount: l.promotionDiscount,
    couponDiscount: l.couponDiscount,
    pointsDeduction: l.pointsDeduction,
    payable: l.payable,
  }));
  // through the model (one multi-row INSERT): the tests inject write failures at this seam
  await host.store.m.OrderLine.bulkCreate(
    items.map((i) => ({ orderNo: o.orderNo, ...i })),
    { transaction: t },
  );
  const who = { kind: "buyer" as const, id: cmd.userId };
  const note = "order placed";
  await host.store.timeline(t, o.orderNo, null, "PENDING_PAYMENT", who, note, now);
  const event: OrderCreatedEvent = {
    orderNo: o.orderNo,
    userId: cmd.userId,
    source: cmd.source,
    payable: totals.payable,
    currency: totals.currency,
    expiresAt: expiresAt.toISOString(),
    items: items.map((l) => ({ skuId: l.skuId, quantity: l.quantity })),
  };
  await host.store.outbox(t, OrderEvents.CREATED, event);
  const claimed = await runUpdate(
    host.store.sequelize,
    "UPDATE idempotency_keys SET order_no = ? WHERE user_id = ? AND idem_key = ? AND order_no IS NULL",
    [o.orderNo, cmd.userId, cmd.idempotencyKey],
    t,
  );
  // our claim was taken over as abandoned: the other request owns the key now
  if (claimed !== 1) throw bizError("ORDER_REQUEST_IN_PROGRESS");
  return {
    orderNo: o.orderNo,
    userId: cmd.userId,
    status: "PENDING_PAYMENT",
    source: cmd.source,
    items,
    address,
    itemsTotal: totals.itemsTotal,
    discount: totals.discount,
    pointsDeduction: totals.pointsDeduction,
    shippingFee: totals.shippingFee,
    payable: totals.payable,
    currency: totals.currency,
    couponId: holds.couponId,
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
