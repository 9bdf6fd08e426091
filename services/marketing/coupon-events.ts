/**
 * The coupon side of the order facts, consumed in group `marketing-coupons`:
 *  - `order.paid`      → the order's coupon LOCKED → USED (`holds.couponId`);
 *  - `order.cancelled` → LOCKED → UNUSED (cancellation and expiry give the hold back; checkout's
 *                        own compensation or `releaseCoupon` may have done it already).
 * A refund leaves a USED coupon USED: the buyer got its discount on the order, and a coupon that
 * came back after a partial refund could be used twice.
 *
 * Delivery is at least once. The coupon and `processed_events` live in marketing's database, so
 * the effect and the event id are written in one transaction (OutboxMixin.once): a redelivered
 * event changes nothing. A state the event cannot fix (a coupon not held by that order) is
 * logged and acknowledged — retrying would only dead-letter a settled fact.
 */
import type { Service } from "moleculer";
import type { Transaction } from "sequelize";
import type { EventEnvelope } from "../../mixins/outbox.mixin";
import type { OrderCancelledEvent, OrderPaidEvent } from "../orders/orders.contracts";
import type { CouponStore } from "./coupon-store";
import { MarketingGroups } from "./marketing.contracts";

export interface CouponEventsHost {
  coupons: CouponStore;
  logger: Service["logger"];
  once<T>(consumer: string, eventId: string, fn: (t: Transaction) => Promise<T>): Promise<{ applied: boolean; result?: T }>;
}

/** The event's coupon hold, or null when it has none (or the message is malformed: logged, acknowledged). */
function couponHold(host: CouponEventsHost, env: EventEnvelope<OrderPaidEvent | OrderCancelledEvent>): { orderNo: string; userId: number; couponId: number } | null {
  const d = env?.data;
  if (!env?.eventId || typeof d?.orderNo !== "string" || !d.orderNo) {
    host.logger.error(`${env?.type ?? "order event"}: malformed envelope, skipped: ${JSON.stringify(env)?.slice(0, 500)}`);
    return null;
  }
  const couponId = d.holds?.couponId;
  return couponId ? { orderNo: d.orderNo, userId: Number(d.userId), couponId } : null;
}

export async function onOrderPaid(host: CouponEventsHost, env: EventEnvelope<OrderPaidEvent>): Promise<void> {
  const hold = couponHold(host, env);
  if (!hold) return;
  await host.once(MarketingGroups.COUPONS, env.eventId, async (t) => {
    const { used, state } = await host.coupons.redeem(t, hold.couponId, hold.orderNo, hold.userId);
    if (used || (state?.status === "USED" && state.orderNo === hold.orderNo)) return;
    host.logger.error(
      `order.paid ${env.eventId}: coupon ${hold.couponId} of order ${hold.orderNo} is ${state ? `${state.status} (order ${state.orderNo ?? "none"})` : "missing"}; left as it is`,
    );
  });
}

export async function onOrderCancelled(host: CouponEventsHost, env: EventEnvelope<OrderCancelledEvent>): Promise<void> {
  const hold = couponHold(host, env);
  if (!hold) return;
  await host.once(MarketingGroups.COUPONS, env.eventId, (t) => host.coupons.giveBack(t, hold.orderNo, hold.couponId));
}
