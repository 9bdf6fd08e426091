/**
 * `payment.succeeded` (consumer group "orders"). The order moves PENDING_PAYMENT → PAID with a
 * compare-and-set and `order.paid` goes out in the same transaction. A payment that cannot be
 * applied — the order was cancelled (expired) first, another payment already paid it, or the
 * amount is not the order's — is refunded at once (`afterSalesId: "auto-<paymentNo>"`), so no
 * order ever stays paid-and-cancelled. Redeliveries change nothing: the event id is recorded
 * with the effect, the refund is idempotent per payment.
 */
import { CatalogActions } from "../catalog/catalog.contracts";
import { retryableError } from "../shared/errors";
import type { EventEnvelope } from "../../mixins/outbox.mixin";
import type { AfterSalesHost } from "./aftersales";
import { Who, holdsOf, sourceOf } from "./order-store";
import { OrderEvents, OrderPaidEvent, OrderStatus, PaymentSucceededEvent, autoRefundId } from "./orders.contracts";
import { callAction } from "../shared/actions";
import { PaymentCalls } from "../payments/payments.contracts";

const errType = (err: unknown) => (err as { type?: string })?.type;

export async function onPaymentSucceeded(host: AfterSalesHost, env: EventEnvelope<PaymentSucceededEvent>): Promise<void> {
  const d = env.data;
  const system: Who = { kind: "system", label: "payments" };
  for (let attempt = 0; attempt < 5; attempt++) {
    const order = await host.store.find(d.orderNo);
    if (!order) {
      host.logger.error(`payment ${d.paymentNo} succeeded for unknown order ${d.orderNo}; ignored`);
      return;
    }
    if (order.paymentNo === d.paymentNo) return; // applied before (a redelivery)
    const status = order.status as OrderStatus;
    const amountOk = Number(d.amount) === order.payable && d.currency === order.currency;
    if (status === "PENDING_PAYMENT" && amountOk) {
      const items = await host.store.lineItems(d.orderNo);
      try {
        const r = await host.once("orders", env.eventId, (t) =>
          host.store.transitionIn(t, d.orderNo, "pay", system, {
            // read just above: the status compare-and-set catches any change since
            current: order,
            note: `paid ${d.amount} ${d.currency} by ${d.channel} (${d.paymentNo})`,
            set: { paid_at: new Date(), payment_no: d.paymentNo },
            event: (o): [string, OrderPaidEvent] => [
              OrderEvents.PAID,
              { orderNo: d.orderNo, userId: Number(o.userId), paymentNo: d.paymentNo, amount: Number(d.amount), items, source: sourceOf(o), payable: o.payable, currency: o.currency, holds: holdsOf(o) },
            ],
          }),
        );
        if (r.applied) {
          await host.broker
            .call(CatalogActions.addSales, { lines: items, ref: d.orderNo })
            .catch((err) => host.logger.warn(`order ${d.orderNo}: sales counters not updated`, (err as Error)?.message ?? err));
        }
        return;
      } catch (err) {
        if (errType(err) === "ORDER_STATE_CONFLICT") continue; // cancelled meanwhile: look again
        throw err;
      }
    }
    const why =
      status === "CANCELLED"
        ? "payment arrived after cancellation"
        : status === "PENDING_PAYMENT"
          ? `paid amount ${d.amount} ${d.currency} does not match the order`
          : `order was already paid by ${order.paymentNo ?? "another payment"}`;
    await callAction(host.broker, PaymentCalls.refund, {
      orderNo: d.orderNo,
      afterSalesId: autoRefundId(d.paymentNo),
      paymentNo: d.paymentNo,
      amount: Number(d.amount),
      reason: why,
    });
    await host.once("orders", env.eventId, (t) => host.store.timeline(t, d.orderNo, status, status, system, `payment ${d.paymentNo} refunded: ${why}`));
    host.logger.warn(`order ${d.orderNo}: payment ${d.paymentNo} refunded (${why})`);
    return;
  }
  throw retryableError(`order ${d.orderNo} kept changing while applying payment ${d.paymentNo}`);
}
