/**
 * Persistence of the payments service. Every status or amount change is a conditional UPDATE
 * whose affected-row count decides, and the event it causes is written to the outbox in the same
 * transaction (so `payment.succeeded` exists exactly when the payment row says SUCCEEDED).
 */
import { Errors } from "moleculer";
import { Op, Sequelize, Transaction } from "sequelize";
import type { PaymentModels, RefundAttrs, PaymentAttrs } from "../../models/payments";
import { isUniqueViolation, runUpdate, wholeSecond, withRetriedTransaction } from "../shared/db";
import { bizError } from "../shared/errors";
import { newPaymentNo, newRefundNo, onExistingPayment, paymentNoOfAutoRefund } from "./domain/payment-state";
import {
  OrderForPayment,
  PaymentChannel,
  PaymentDto,
  PaymentEvents,
  PaymentFailedEvent,
  PaymentRefundedEvent,
  PaymentSucceededEvent,
  RefundDto,
  RefundParams,
  SandboxCallback,
  autoRefundId,
} from "./payments.contracts";

export interface StoreDeps {
  sequelize: Sequelize;
  models: PaymentModels;
  outbox(t: Transaction, channel: string, data: unknown): Promise<unknown>;
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

/** How a payment is settled; `at` (default now) is the time written as paid_at / updated_at. */
export interface SettleDetail {
  providerTxnId?: string;
  reason?: string;
  at?: Date;
}

export function paymentDto(p: PaymentAttrs): PaymentDto {
  return {
    paymentNo: p.paymentNo,
    orderNo: p.orderNo,
    userId: Number(p.userId),
    channel: p.channel,
    amount: Number(p.amount),
    currency: p.currency,
    status: p.status,
    refundedAmount: Number(p.refundedAmount),
    failureReason: p.failureReason,
    paidAt: iso(p.paidAt),
    createdAt: iso(p.createdAt)!,
  };
}

export function refundDto(r: RefundAttrs): RefundDto {
  return {
    refundNo: r.refundNo,
    paymentNo: r.paymentNo,
    orderNo: r.orderNo,
    afterSalesId: r.afterSalesId,
    amount: Number(r.amount),
    currency: r.currency,
    status: r.status,
    reason: r.reason,
    failureReason: r.failureReason,
    createdAt: iso(r.createdAt)!,
    completedAt: iso(r.completedAt),
  };
}

/**
 * What recording a provider callback did. "refunding": a SUCCESS for a payment already FAILED or
 * CLOSED, whose automatic refund was recorded with it and is still to be executed.
 */
export type CallbackOutcome = "applied" | "ignored" | "duplicate" | "refunding";

export class PaymentStore {
  constructor(private deps: StoreDeps) {}

  private get m() {
    return this.deps.models;
  }

  /** A transaction retried from the start on deadlock / lock-wait timeout. */
  async tx<T>(fn: (t: Transaction) => Promise<T>, attempts = 5): Promise<T> {
    return withRetriedTransaction(this.deps.sequelize, fn, attempts);
  }

  async payment(paymentNo: string, t?: Transaction): Promise<PaymentAttrs | null> {
    return this.m.Payment.findOne({ where: { paymentNo }, transaction: t, raw: true }) as Promise<PaymentAttrs | null>;
  }

  /** The order's PENDING or SUCCEEDED payment, if any. */
  async activeFor(orderNo: string): Promise<PaymentAttrs | null> {
    return this.m.Payment.findOne({ where: { activeOrderNo: orderNo }, raw: true }) as Promise<PaymentAttrs | null>;
  }

  async refundsOf(paymentNo: string): Promise<RefundDto[]> {
    const rows = await this.m.Refund.findAll({ where: { paymentNo }, order: [["id", "ASC"]], raw: true });
    return (rows as unknown as RefundAttrs[]).map(refundDto);
  }

  async paymentsOf(orderNo: string): Promise<PaymentAttrs[]> {
    return this.m.Payment.findAll({ where: { orderNo }, order: [["id", "ASC"]], raw: true }) as unknown as Promise<PaymentAttrs[]>;
  }

  /**
   * Open a PENDING payment for the order, or find the one already open. The unique
   * `active_order_no` decides between racing requests; the loser reads the winner and applies
   * the "paying twice" rule (domain/payment-state.ts onExistingPayment).
   */
  async open(order: OrderForPayment, channel: PaymentChannel): Promise<{ payment: PaymentAttrs; created: boolean }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const paymentNo = newPaymentNo();
      // whole seconds, as DATETIME keeps them on MySQL: the answer built below equals a later read
      const at = wholeSecond();
      const fields = {
        paymentNo,
        orderNo: order.orderNo,
        activeOrderNo: order.orderNo,
        userId: Number(order.userId),
        channel,
        amount: Number(order.payable),
        currency: order.currency,
        status: "PENDING" as const,
        refundedAmount: 0,
        createdAt: at,
        updatedAt: at,
      };
      try {
        // one INSERT needs no transaction of its own, and what it wrote needs no read-back
        const row = await this.m.Payment.create(fields);
        const payment: PaymentAttrs = { ...fields, id: Number(row.get("id")), providerTxnId: null, failureReason: null, paidAt: null };
        return { payment, created: true };
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      const existing = await this.activeFor(order.orderNo);
      if (!existing) continue; // the open one failed in between: try again
      const verdict = onExistingPayment(existing, channel);
      if (verdict === "reuse") return { payment: existing, created: false };
      throw bizError(verdict, undefined, { paymentNo: existing.paymentNo, channel: existing.channel, status: existing.status });
    }
    throw new Errors.MoleculerRetryableError("could not open a payment, try again", 503, "SERVICE_UNAVAILABLE");
  }

  /**
   * PENDING → SUCCEEDED | FAILED with the matching event, in `t`. Returns false when the payment
   * was no longer PENDING (another callback, the wallet retry or a failure got there first).
   */
  async settle(t: Transaction, p: PaymentAttrs, to: "SUCCEEDED" | "FAILED", detail: SettleDetail): Promise<boolean> {
    const now = detail.at ?? new Date();
    const won =
      to === "SUCCEEDED"
        ? await runUpdate(
            this.deps.sequelize,
            "UPDATE payments SET status = 'SUCCEEDED', provider_txn_id = ?, paid_at = ?, updated_at = ? WHERE payment_no = ? AND status = 'PENDING'",
            [detail.providerTxnId ?? null, now, now, p.paymentNo],
            t,
          )
        : await runUpdate(
            this.deps.sequelize,
            "UPDATE payments SET status = 'FAILED', active_order_no = NULL, provider_txn_id = ?, failure_reason = ?, updated_at = ? WHERE payment_no = ? AND status = 'PENDING'",
            [detail.providerTxnId ?? null, (detail.reason ?? "failed").slice(0, 255), now, p.paymentNo],
            t,
          );
    if (won !== 1) return false;
    if (to === "SUCCEEDED") {
      const data: PaymentSucceededEvent = {
        paymentNo: p.paymentNo,
        orderNo: p.orderNo,
        userId: Number(p.userId),
        amount: Number(p.amount),
        currency: p.currency,
        channel: p.channel,
        providerTxnId: detail.providerTxnId ?? "",
      };
      await this.deps.outbox(t, PaymentEvents.SUCCEEDED, data);
    } else {
      const data: PaymentFailedEvent = { paymentNo: p.paymentNo, orderNo: p.orderNo, userId: Number(p.userId), reason: detail.reason ?? "failed" };
      await this.deps.outbox(t, PaymentEvents.FAILED, data);
    }
    return true;
  }

  /** settle() in its own transaction. */
  settleNow(p: PaymentAttrs, to: "SUCCEEDED" | "FAILED", detail: SettleDetail): Promise<boolean> {
    return this.tx((t) => this.settle(t, p, to, detail));
  }

  /**
   * Store a verified provider callback once and apply it. The event row (unique per provider
   * transaction id and per nonce), the payment's compare-and-set and the outbox event share one
   * transaction: a concurrent duplicate waits on the unique key, then finds the event stored.
   */
  async recordCallback(provider: string, cb: SandboxCallback, rawBody: string, p: PaymentAttrs): Promise<CallbackOutcome> {
    try {
      return await this.tx(async (t) => {
        const event = await this.m.PaymentEvent.create(
          {
            provider,
            providerTxnId: cb.providerTxnId,
            nonce: cb.nonce,
            paymentNo: cb.paymentNo,
            result: cb.result,
            amount: cb.amount,
            currency: cb.currency,
            effect: "IGNORED",
            rawBody,
          },
          { transaction: t },
        );
        const applied = await this.settle(t, p, cb.result === "SUCCESS" ? "SUCCEEDED" : "FAILED", {
          providerTxnId: cb.providerTxnId,
          reason: cb.result === "FAIL" ? "provider reported failure" : undefined,
        });
        if (applied) {
          await this.m.PaymentEvent.update({ effect: "APPLIED" }, { where: { id: event.id }, transaction: t });
          return "applied";
        }
        if (cb.result === "SUCCESS" && (await this.recordLateCaptureRefund(t, p, cb))) {
          await this.m.PaymentEvent.update({ effect: "REFUNDED" }, { where: { id: event.id }, transaction: t });
          return "refunding";
        }
        return "ignored";
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const seen = await this.m.PaymentEvent.findOne({ where: { provider, providerTxnId: cb.providerTxnId }, raw: true });
      if (seen && seen.paymentNo === cb.paymentNo) return "duplicate";
      // the nonce was used before by a different transaction: a replay, not a retry
      throw bizError("CALLBACK_REPLAYED", undefined, { nonce: cb.nonce });
    }
  }

  /**
   * The provider captured money for a payment that is already FAILED or CLOSED: nothing will be
   * delivered for it, so it goes back. Records the automatic refund (`auto-<paymentNo>`, the id
   * orders uses for a payment landing on a cancelled order) in `t`, with `refunded_amount` moved
   * by a compare-and-set that holds only while the payment is still FAILED/CLOSED and not yet
   * refunded — so however many such callbacks race, the money goes back once. False when there
   * is nothing to refund (the payment is PENDING or SUCCEEDED, or already refunded).
   */
  private async recordLateCaptureRefund(t: Transaction, p: PaymentAttrs, cb: SandboxCallback): Promise<boolean> {
    const now = new Date();
    const moved = await runUpdate(
      this.deps.sequelize,
      "UPDATE payments SET refunded_amount = refunded_amount + ?, updated_at = ? WHERE payment_no = ? AND status IN ('FAILED', 'CLOSED') AND refunded_amount + ? <= amount",
      [cb.amount, now, p.paymentNo, cb.amount],
      t,
    );
    if (moved !== 1) return false;
    const current = (await this.payment(p.paymentNo, t))!;
    await this.m.Refund.create(
      {
        refundNo: newRefundNo(),
        paymentNo: p.paymentNo,
        orderNo: p.orderNo,
        afterSalesId: autoRefundId(p.paymentNo),
        amount: cb.amount,
        currency: cb.currency,
        status: "PENDING",
        reason: `provider transaction ${cb.providerTxnId} succeeded after the payment was ${current.status}`.slice(0, 255),
      },
      { transaction: t },
    );
    return true;
  }

  /** PENDING wallet payments untouched since `before` (their request died mid-way). */
  async stalePendingWallet(before: Date, limit = 50): Promise<PaymentAttrs[]> {
    return this.m.Payment.findAll({
      where: { status: "PENDING", channel: "wallet", updatedAt: { [Op.lt]: before } },
      order: [["id", "ASC"]],
      limit,
      raw: true,
    }) as unknown as Promise<PaymentAttrs[]>;
  }

  // ── refunds ─────────────────────────────────────────────────────────────────────────────

  async refund(refundNo: string): Promise<RefundAttrs | null> {
    return this.m.Refund.findOne({ where: { refundNo }, raw: true }) as Promise<RefundAttrs | null>;
  }

  async refundByAfterSales(afterSalesId: string): Promise<RefundAttrs | null> {
    return this.m.Refund.findOne({ where: { afterSalesId }, raw: true }) as Promise<RefundAttrs | null>;
  }

  /** The successful payment a refund request is for. */
  async paymentToRefund(p: RefundParams): Promise<PaymentAttrs> {
    const paymentNo = p.paymentNo ?? paymentNoOfAutoRefund(p.afterSalesId);
    const payment = paymentNo ? await this.payment(paymentNo) : await this.activeFor(p.orderNo);
    if (!payment || payment.orderNo !== p.orderNo) throw bizError("PAYMENT_NOT_FOUND", "the order has no such payment", { orderNo: p.orderNo, paymentNo });
    if (payment.status !== "SUCCEEDED") {
      throw bizError("PAYMENT_STATE_CONFLICT", `payment ${payment.paymentNo} is ${payment.status}; only a successful payment can be refunded`, {
        paymentNo: payment.paymentNo,
        status: payment.status,
      });
    }
    return payment;
  }

  /**
   * Record a PENDING refund: the refund row (unique after-sales id) and the payment's
   * `refunded_amount` (compare-and-set: never beyond the amount paid) in one transaction.
   * Returns null when a concurrent request with the same after-sales id won.
   */
  async createRefund(payment: PaymentAttrs, p: RefundParams): Promise<RefundAttrs | null> {
    const refundNo = newRefundNo();
    try {
      await this.tx(async (t) => {
        await this.m.Refund.create(
          {
            refundNo,
            paymentNo: payment.paymentNo,
            orderNo: payment.orderNo,
            afterSalesId: p.afterSalesId,
            amount: p.amount,
            currency: payment.currency,
            status: "PENDING",
            reason: p.reason.slice(0, 255),
          },
          { transaction: t },
        );
        const ok = await runUpdate(
          this.deps.sequelize,
          "UPDATE payments SET refunded_amount = refunded_amount + ?, updated_at = ? WHERE payment_no = ? AND status = 'SUCCEEDED' AND refunded_amount + ? <= amount",
          [p.amount, new Date(), payment.paymentNo, p.amount],
          t,
        );
        if (ok !== 1) {
          const now = await this.payment(payment.paymentNo, t);
          throw bizError("REFUND_AMOUNT_EXCEEDED", undefined, {
            paymentNo: payment.paymentNo,
            requested: p.amount,
            refundable: now ? Number(now.amount) - Number(now.refundedAmount) : 0,
          });
        }
      });
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
    return this.refund(refundNo);
  }

  /** PENDING → SUCCEEDED with `payment.refunded`, in one transaction. */
  async completeRefund(r: RefundAttrs, providerRef: string): Promise<boolean> {
    return this.tx(async (t) => {
      const now = new Date();
      const won = await runUpdate(
        this.deps.sequelize,
        "UPDATE refunds SET status = 'SUCCEEDED', provider_ref = ?, completed_at = ?, updated_at = ? WHERE refund_no = ? AND status = 'PENDING'",
        [providerRef, now, now, r.refundNo],
        t,
      );
      if (won !== 1) return false;
      const data: PaymentRefundedEvent = {
        refundNo: r.refundNo,
        paymentNo: r.paymentNo,
        orderNo: r.orderNo,
        amount: Number(r.amount),
        afterSalesId: r.afterSalesId,
      };
      await this.deps.outbox(t, PaymentEvents.REFUNDED, data);
      return true;
    });
  }

  /** PENDING → FAILED; the amount becomes refundable again. */
  async failRefund(r: RefundAttrs, reason: string): Promise<boolean> {
    return this.tx(async (t) => {
      const now = new Date();
      const won = await runUpdate(
        this.deps.sequelize,
        "UPDATE refunds SET status = 'FAILED', failure_reason = ?, updated_at = ? WHERE refund_no = ? AND status = 'PENDING'",
        [reason.slice(0, 255), now, r.refundNo],
        t,
      );
      if (won !== 1) return false;
      await runUpdate(
        this.deps.sequelize,
        "UPDATE payments SET refunded_amount = refunded_amount - ?, updated_at = ? WHERE payment_no = ? AND refunded_amount >= ?",
        [r.amount, now, r.paymentNo, r.amount],
        t,
      );
      return true;
    });
  }

  async stalePendingRefunds(before: Date, limit = 50): Promise<RefundAttrs[]> {
    return this.m.Refund.findAll({
      where: { status: "PENDING", updatedAt: { [Op.lt]: before } },
      order: [["id", "ASC"]],
      limit,
      raw: true,
    }) as unknown as Promise<RefundAttrs[]>;
  }
}
