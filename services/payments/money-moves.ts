/**
 * Moving the money: wallet debits for payments, refunds through the payment's channel, and the
 * sweep that finishes what a crashed or timed-out request left PENDING. Remote calls (users'
 * wallet) happen outside any transaction and are idempotent by reference (`pay:<paymentNo>`,
 * `refund:<refundNo>`), so repeating any of these after a crash is safe.
 */
import type { Service, ServiceBroker } from "moleculer";
import type { PaymentAttrs } from "../../models/payments";
import type { WalletMoveResult } from "../users/users.contracts";
import { PaymentStore } from "./payment-store";
import { walletPayReference, walletRefundReference } from "./payments.contracts";
import { sandboxRefund } from "./sandbox-provider";
import { callAction } from "../shared/actions";
import { UserCalls } from "../users/users.contracts";
import { wholeSecond } from "../shared/db";

export interface MoneyHost {
  broker: Pick<ServiceBroker, "call">;
  logger: Service["logger"];
  store: PaymentStore;
}

/** Stale PENDING records older than this are finished by the sweep (their request died). */
export const STALE_MS = { wallet: 30_000, refund: 10_000 };

/** An expected business answer (4xx) as opposed to an infrastructure failure worth retrying. */
export function isBusinessError(err: unknown): err is { type: string; message: string; code: number } {
  const e = err as { code?: number; retryable?: boolean; type?: string };
  return typeof e?.code === "number" && e.code >= 400 && e.code < 500 && !e.retryable && !!e.type;
}

/**
 * Debit the wallet (idempotent per payment) and settle. A refusal (e.g. INSUFFICIENT_BALANCE)
 * fails the payment and is rethrown; an infrastructure failure leaves it PENDING for the sweep
 * to finish, and the caller gets the (retryable) error.
 */
export async function payByWallet(host: MoneyHost, p: PaymentAttrs): Promise<PaymentAttrs> {
  let moved: WalletMoveResult;
  try {
    moved = await callAction(host.broker, UserCalls.walletDebit, {
      userId: Number(p.userId),
      amount: Number(p.amount),
      reference: walletPayReference(p.paymentNo),
      reason: `payment ${p.paymentNo} for order ${p.orderNo}`,
    });
  } catch (err) {
    if (!isBusinessError(err)) throw err;
    await host.store.settleNow(p, "FAILED", { reason: err.type });
    throw err;
  }
  const at = wholeSecond();
  const providerTxnId = `wallet:${moved.entry.id}`;
  // settled here: the payment is what this request wrote; else another request (a retry, the
  // sweep) settled it first and the row says how
  if (await host.store.settleNow(p, "SUCCEEDED", { providerTxnId, at })) return { ...p, status: "SUCCEEDED", providerTxnId, paidAt: at, updatedAt: at };
  return (await host.store.payment(p.paymentNo))!;
}

/** Move a PENDING refund's money back through its payment's channel, then complete it. */
export async function executeRefund(host: MoneyHost, refundNo: string): Promise<void> {
  const r = await host.store.refund(refundNo);
  if (!r || r.status !== "PENDING") return;
  const p = (await host.store.payment(r.paymentNo))!;
  let providerRef: string;
  try {
    if (p.channel === "wallet") {
      const moved = await callAction(host.broker, UserCalls.walletCredit, {
        userId: Number(p.userId),
        amount: Number(r.amount),
        reference: walletRefundReference(r.refundNo),
        reason: `refund ${r.refundNo} of order ${r.orderNo}`,
      });
      providerRef = `wallet:${moved.entry.id}`;
    } else {
      providerRef = sandboxRefund(r.refundNo).providerRef;
    }
  } catch (err) {
    if (isBusinessError(err)) {
      host.logger.error(`refund ${r.refundNo} refused by the ${p.channel} channel: ${err.type}`);
      await host.store.failRefund(r, err.type);
      return;
    }
    host.logger.warn(`refund ${r.refundNo} not executed yet (${(err as Error)?.message}); the sweep retries it`);
    return;
  }
  await host.store.completeRefund(r, providerRef);
}

/** Finish stale PENDING refunds and wallet payments. Safe on many nodes: everything is idempotent. */
export async function sweepStale(host: MoneyHost, stopping: () => boolean, now = Date.now()): Promise<void> {
  for (const r of await host.store.stalePendingRefunds(new Date(now - STALE_MS.refund))) {
    if (stopping()) return;
    await executeRefund(host, r.refundNo);
  }
  for (const p of await host.store.stalePendingWallet(new Date(now - STALE_MS.wallet))) {
    if (stopping()) return;
    await payByWallet(host, p).catch((err) => {
      if (!isBusinessError(err)) host.logger.warn(`wallet payment ${p.paymentNo} still pending: ${(err as Error)?.message}`);
    });
  }
}
