/**
 * After-sales (refunds). A buyer asks for a refund of a PAID or SHIPPED order: the order moves to
 * REFUNDING at once (it can no longer be shipped or confirmed) and an after-sales request
 * remembers where it came from. An admin then
 *   - approves: REQUESTED → APPROVED, payments.refund (idempotent per request id) sends the money
 *     back through the payment channel, and the stock goes back when the order was never
 *     shipped; `payment.refunded` later completes the request, moves the order to REFUNDED and
 *     publishes `order.refunded` (in that transaction) for whoever gives back on refunds;
 *   - rejects: REQUESTED → REJECTED and the order returns to PAID or SHIPPED.
 * If payments refuses the refund (a 4xx), the request returns to REQUESTED; if payments is
 * unreachable it stays APPROVED and approving again retries the same refund.
 */
import type { Transaction } from "sequelize";
import { runUpdate } from "../shared/db";
import { bizError, retryableError } from "../shared/errors";
import { LifecycleHost, returnStock } from "./expiry";
import { Who, afterSalesDto, holdsOf, sourceOf } from "./order-store";
import { AfterSalesDto, OrderEvents, OrderRefundedEvent, OrderStatus, PaymentRefundedEvent, RefundDecisionEvent, RefundEvents, RefundResult } from "./orders.contracts";
import type { EventEnvelope } from "../../mixins/outbox.mixin";
import { callAction } from "../shared/actions";
import { PaymentCalls } from "../payments/payments.contracts";

export interface AfterSalesHost extends LifecycleHost {
  once<T>(consumer: string, eventId: string, fn: (t: Transaction) => Promise<T>): Promise<{ applied: boolean; result?: T }>;
}

const errType = (err: unknown) => (err as { type?: string })?.type;
const isFinalClientError = (err: unknown) => {
  const e = err as { code?: unknown; retryable?: boolean };
  return typeof e?.code === "number" && e.code >= 400 && e.code < 500 && !e.retryable;
};

async function mustFind(host: AfterSalesHost, id: number, t?: Transaction) {
  const a = await host.store.m.AfterSales.findByPk(id, { transaction: t });
  if (!a) throw bizError("REFUND_NOT_FOUND", undefined, { id });
  return a;
}

export async function requestRefund(host: AfterSalesHost, userId: number, orderNo: string, reason: string): Promise<AfterSalesDto> {
  const row = await host.store.tx(async (t) => {
    const { order, from } = await host.store.transitionIn(t, orderNo, "requestRefund", { kind: "buyer", id: userId }, { userId, note: `refund requested: ${reason}` });
    return host.store.m.AfterSales.create(
      { orderNo, userId, status: "REQUESTED", reason, amount: order.payable, currency: order.currency, orderStatusBefore: from },
      { transaction: t },
    );
  });
  return afterSalesDto(row);
}

export async function approveRefund(host: AfterSalesHost, adminId: number, id: number, note: string | undefined): Promise<AfterSalesDto> {
  const a = await mustFind(host, id);
  const admin: Who = { kind: "admin", id: adminId };
  if (a.status === "REQUESTED") {
    await host.store.tx(async (t) => {
      const won = await runUpdate(
        host.store.sequelize,
        "UPDATE aftersales SET status = 'APPROVED', note = ?, handled_by = ?, updated_at = ? WHERE id = ? AND status = 'REQUESTED'",
        [note ?? null, adminId, new Date(), id],
        t,
      );
      if (won !== 1) throw bizError("REFUND_STATE_CONFLICT", "the refund request changed meanwhile", { id });
      await host.store.timeline(t, a.orderNo, "REFUNDING", "REFUNDING", admin, `refund approved${note ? `: ${note}` : ""}`);
    });
  } else if (a.status !== "APPROVED") {
    throw bizError("REFUND_STATE_CONFLICT", `the refund request is already ${a.status}`, { id, status: a.status });
  }

  let refund: RefundResult;
  try {
    refund = await callAction(host.broker, PaymentCalls.refund, { orderNo: a.orderNo, afterSalesId: String(id), amount: Number(a.amount), reason: a.reason });
  } catch (err) {
    if (!isFinalClientError(err)) throw retryableError("payments did not answer; approve again to retry the refund", "SERVICE_UNAVAILABLE", { id });
    // payments refused: back to REQUESTED, so the admin can reject or try again
    await host.store.tx(async (t) => {
      await runUpdate(host.store.sequelize, "UPDATE aftersales SET status = 'REQUESTED', updated_at = ? WHERE id = ? AND status = 'APPROVED'", [new Date(), id], t);
      await host.store.timeline(t, a.orderNo, "REFUNDING", "REFUNDING", admin, `refund could not be started: ${errType(err) ?? "error"}`);
    });
    throw err;
  }
  await host.store.tx(async (t) => {
    const first = await runUpdate(host.store.sequelize, "UPDATE aftersales SET refund_no = ?, updated_at = ? WHERE id = ? AND refund_no IS NULL", [refund.refundNo, new Date(), id], t);
    // the refund is under way: tell the buyer once (an approval retried after a lost answer finds refund_no set)
    if (first === 1) await host.store.outbox(t, RefundEvents.APPROVED, decision(a, note));
  });
  // goods that never left the warehouse go back on the shelf
  if ((a.orderStatusBefore as OrderStatus) === "PAID") await returnStock(host, id, a.orderNo);
  return afterSalesDto(await mustFind(host, id));
}

export async function rejectRefund(host: AfterSalesHost, adminId: number, id: number, note: string | undefined): Promise<AfterSalesDto> {
  await host.store.tx(async (t) => {
    const a = await mustFind(host, id, t);
    const won = await runUpdate(
      host.store.sequelize,
      "UPDATE aftersales SET status = 'REJECTED', note = ?, handled_by = ?, updated_at = ? WHERE id = ? AND status = 'REQUESTED'",
      [note ?? null, adminId, new Date(), id],
      t,
    );
    if (won !== 1) throw bizError("REFUND_STATE_CONFLICT", `the refund request is already ${a.status}`, { id, status: a.status });
    await host.store.transitionIn(t, a.orderNo, "rejectRefund", { kind: "admin", id: adminId }, {
      back: a.orderStatusBefore as OrderStatus,
      note: `refund rejected${note ? `: ${note}` : ""}`,
    });
    await host.store.outbox(t, RefundEvents.REJECTED, decision(a, note));
  });
  return afterSalesDto(await mustFind(host, id));
}

function decision(a: { id: number; orderNo: string; userId: number; amount: number; currency: string }, note: string | undefined): RefundDecisionEvent {
  return { orderNo: a.orderNo, userId: Number(a.userId), refundId: Number(a.id), amount: Number(a.amount), currency: a.currency, note: note ?? "" };
}

/** `payment.refunded`: the request is complete and the order REFUNDED (once per event). */
export async function onRefunded(host: AfterSalesHost, env: EventEnvelope<PaymentRefundedEvent>): Promise<void> {
  const d = env.data;
  const system: Who = { kind: "system", label: "payments" };
  await host.once("orders", env.eventId, async (t) => {
    const order = await host.store.find(d.orderNo, t);
    if (!order) {
      host.logger.error(`payment.refunded for unknown order ${d.orderNo}`);
      return;
    }
    if (String(d.afterSalesId).startsWith("auto-")) {
      const s = order.status as OrderStatus;
      await host.store.timeline(t, d.orderNo, s, s, system, `payment ${d.paymentNo} refunded automatically (${d.refundNo})`);
      return;
    }
    const id = Number(d.afterSalesId);
    const done = await runUpdate(
      host.store.sequelize,
      "UPDATE aftersales SET status = 'COMPLETED', refund_no = COALESCE(refund_no, ?), updated_at = ? WHERE id = ? AND order_no = ? AND status IN ('REQUESTED', 'APPROVED')",
      [d.refundNo, new Date(), id, d.orderNo],
      t,
    );
    if (done !== 1) {
      host.logger.warn(`payment.refunded: after-sales ${d.afterSalesId} of ${d.orderNo} is not open; nothing to do`);
      return;
    }
    const request = await mustFind(host, id, t);
    // the money is back with the buyer: marketing returns spent points and takes back earned ones
    const refunded: OrderRefundedEvent = {
      orderNo: d.orderNo,
      userId: Number(order.userId),
      refundId: id,
      amount: Number(d.amount),
      payable: order.payable,
      source: sourceOf(order),
      holds: holdsOf(order),
      restock: (request.orderStatusBefore as OrderStatus) === "PAID",
    };
    await host.store.outbox(t, OrderEvents.REFUNDED, refunded);
    try {
      await host.store.transitionIn(t, d.orderNo, "refunded", system, { note: `refunded ${d.amount} (${d.refundNo})` });
    } catch (err) {
      if (errType(err) !== "ORDER_STATE_CONFLICT") throw err;
      host.logger.warn(`payment.refunded: order ${d.orderNo} is ${order.status}, not REFUNDING`);
    }
  });
}
