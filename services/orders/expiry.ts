/**
 * Unpaid orders expire. Every orders node runs `sweepOnce` on a timer; several nodes may pick
 * the same candidates, and the compare-and-set `… WHERE order_no = ? AND status =
 * 'PENDING_PAYMENT' AND expires_at <= now` lets exactly one of them cancel each order. Only that
 * winner releases the reservation (inventory.release is idempotent besides). A release that did
 * not happen (inventory down, node crash) is retried by later sweeps until `stock_released_at`
 * is set.
 */
import { Op } from "sequelize";
import { runUpdate } from "../shared/db";
import { KEY_RETENTION_MS } from "./domain/idempotency";
import { OrderStore, holdsOf, sourceOf } from "./order-store";
import { OrderCancelledEvent, OrderEvents } from "./orders.contracts";
import { callAction } from "../shared/actions";
import { InventoryCalls } from "../inventory/inventory.contracts";

export interface LifecycleHost {
  store: OrderStore;
  broker: { call<T, P>(action: string, params: P): Promise<T> };
  logger: { info(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void };
}

const errType = (err: unknown) => (err as { type?: string })?.type;
/** Give the winner this long to release before a sweep retries it. */
const RELEASE_GRACE_MS = 10_000;
const BATCH = 100;

/**
 * Release the reservation of a cancelled order and remember that it is done. Returns true when
 * the stock is back (or there was none to give back).
 */
export async function releaseStock(host: LifecycleHost, orderNo: string, reason: string): Promise<boolean> {
  try {
    await callAction(host.broker, InventoryCalls.release, { reference: orderNo, reason });
  } catch (err) {
    const type = errType(err);
    if (type === "RESERVATION_STATE_CONFLICT") {
      // committed (or returned) stock on a cancelled order: not ours to fix blindly — stop retrying, shout
      host.logger.error(`order ${orderNo} is cancelled but its reservation is no longer open; stock needs a manual check`);
    } else if (type !== "RESERVATION_NOT_FOUND") {
      host.logger.warn(`order ${orderNo}: releasing stock failed, a later sweep retries`, (err as Error)?.message ?? err);
      return false;
    }
  }
  await host.store.tx((t) =>
    runUpdate(host.store.sequelize, "UPDATE orders SET stock_released_at = ? WHERE order_no = ? AND stock_released_at IS NULL", [new Date(), orderNo], t),
  );
  return true;
}

/** Cancel one order (buyer, admin or expiry) and give its holds back. */
export async function cancelOrder(
  host: LifecycleHost,
  orderNo: string,
  how: { action: "cancel" | "expire"; who: Parameters<OrderStore["transition"]>[2]; reason: string; userId?: number; now?: Date },
) {
  const now = how.now ?? new Date();
  const items = await host.store.lineItems(orderNo);
  let source: string = "NORMAL";
  const res = await host.store.transition(orderNo, how.action, how.who, {
    userId: how.userId,
    note: how.reason,
    set: { cancelled_at: now, cancel_reason: how.reason },
    guard: how.action === "expire" ? { sql: "expires_at <= ?", values: [now] } : undefined,
    // the holds go back through this event (marketing unlocks the coupon, unfreezes the points);
    // the stock is also released right below, the event being inventory's safety net
    event: (o): [string, OrderCancelledEvent] => {
      source = sourceOf(o);
      return [OrderEvents.CANCELLED, { orderNo, userId: Number(o.userId), reason: how.reason, source: sourceOf(o), items, holds: holdsOf(o) }];
    },
  });
  // a flash sale's unit is not an order reservation: seckill gives it back on order.cancelled
  if (source !== "SECKILL") await releaseStock(host, orderNo, how.reason);
  return res;
}

export interface SweepResult {
  expired: number;
  released: number;
}

export async function sweepOnce(host: LifecycleHost, now = new Date()): Promise<SweepResult> {
  const { Order } = host.store.m;
  const result: SweepResult = { expired: 0, released: 0 };
  const due = await Order.findAll({
    attributes: ["orderNo"],
    where: { status: "PENDING_PAYMENT", expiresAt: { [Op.lte]: now } },
    order: [["expiresAt", "ASC"]],
    limit: BATCH,
  });
  for (const { orderNo } of due) {
    try {
      await cancelOrder(host, orderNo, { action: "expire", who: { kind: "system", label: "expiry" }, reason: "payment timeout", now });
      result.expired++;
    } catch (err) {
      // another node (or a payment, or the buyer) got there first
      if (errType(err) !== "ORDER_STATE_CONFLICT") host.logger.warn(`expiring order ${orderNo} failed`, (err as Error)?.message ?? err);
    }
  }
  const stuck = await Order.findAll({
    attributes: ["orderNo", "cancelReason"],
    where: { status: "CANCELLED", source: { [Op.ne]: "SECKILL" }, stockReleasedAt: null, cancelledAt: { [Op.lte]: new Date(now.getTime() - RELEASE_GRACE_MS) } },
    limit: BATCH,
  });
  for (const o of stuck) if (await releaseStock(host, o.orderNo, o.cancelReason ?? "cancelled")) result.released++;
  await returnPendingStock(host, now);
  await host.store.tx((t) => runUpdate(host.store.sequelize, "DELETE FROM idempotency_keys WHERE created_at < ?", [new Date(now.getTime() - KEY_RETENTION_MS)], t));
  return result;
}

/**
 * Stock of an approved refund on an unshipped order goes back to inventory. Committed stock is
 * returned; stock still only reserved (inventory had not yet committed the payment) is released.
 */
export async function returnStock(host: LifecycleHost, afterSalesId: number, orderNo: string): Promise<boolean> {
  try {
    await callAction(host.broker, InventoryCalls.returnStock, { reference: orderNo, reason: `refund ${afterSalesId}` });
  } catch (err) {
    const type = errType(err);
    if (type === "RESERVATION_STATE_CONFLICT") {
      if (!(await releaseReservation(host, orderNo))) return false;
    } else if (type !== "RESERVATION_NOT_FOUND") {
      host.logger.warn(`refund ${afterSalesId}: returning stock of ${orderNo} failed, a later sweep retries`, (err as Error)?.message ?? err);
      return false;
    }
  }
  await host.store.tx((t) =>
    runUpdate(host.store.sequelize, "UPDATE aftersales SET stock_returned_at = ? WHERE id = ? AND stock_returned_at IS NULL", [new Date(), afterSalesId], t),
  );
  return true;
}

async function releaseReservation(host: LifecycleHost, orderNo: string): Promise<boolean> {
  try {
    await callAction(host.broker, InventoryCalls.release, { reference: orderNo, reason: "refunded before shipping" });
    return true;
  } catch (err) {
    host.logger.warn(`returning stock of ${orderNo} failed, a later sweep retries`, (err as Error)?.message ?? err);
    return false;
  }
}

async function returnPendingStock(host: LifecycleHost, now: Date) {
  const { AfterSales } = host.store.m;
  const pending = await AfterSales.findAll({
    where: { status: { [Op.in]: ["APPROVED", "COMPLETED"] }, orderStatusBefore: "PAID", stockReturnedAt: null, updatedAt: { [Op.lte]: new Date(now.getTime() - RELEASE_GRACE_MS) } },
    limit: BATCH,
  });
  for (const a of pending) await returnStock(host, Number(a.id), a.orderNo);
}
